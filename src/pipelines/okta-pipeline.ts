// The built-in pipeline "Okta Workflows Execution Logs": plain Datadog processors, so it can be cloned and
// pasted into Datadog as it is. Present on first start, read-only (it can be disabled or cloned).
import { ELS_SOURCE } from '../okta/els.ts';
import type { PipelineInput } from './model.ts';

/** The built-in pipeline's fixed id. */
export const OKTA_PIPELINE_ID = 'okta-workflows-execution-logs';

/** event_type → status (trimmed "key,value" lines). Pause is notice (a flow waiting is normal but worth a
 * look); rate limit is warning (as throttle: Okta delays work). */
export const OKTA_STATUS_TABLE = [
  'FLOW_FAIL, error',
  'FLOW_THROTTLE, warning',
  'FLOW_RATE_LIMIT, warning',
  'FLOW_CANCEL, notice',
  'FLOW_PAUSE, notice',
  'FLOW_START, info',
  'FLOW_COMPLETE, info',
];

const VERBS: [string, string][] = [
  ['FLOW_START', 'Flow started'],
  ['FLOW_COMPLETE', 'Flow completed'],
  ['FLOW_FAIL', 'Flow failed'],
  ['FLOW_CANCEL', 'Flow canceled'],
  ['FLOW_THROTTLE', 'Flow throttled'],
  ['FLOW_PAUSE', 'Flow paused'],
  ['FLOW_RATE_LIMIT', 'Flow rate limited'],
];

const on = { is_enabled: true } as const;

/** The definition; `is_enabled` of the stored copy is the user's choice. */
export const OKTA_PIPELINE: PipelineInput = {
  name: 'Okta Workflows Execution Logs',
  is_enabled: true,
  filter: { query: `service:okta source:${ELS_SOURCE}` },
  description:
    'Built in: status from the event type, error.kind and error.message, trace id from the root execution, ' +
    'the event date, and a readable message. Read-only: clone it to change it.',
  tags: ['source:okta-workflows'],
  processors: [
    {
      type: 'lookup-processor',
      name: 'Status from the event type',
      ...on,
      source: 'event_type',
      target: 'status',
      lookup_table: OKTA_STATUS_TABLE,
      default_lookup: 'info',
    },
    { type: 'status-remapper', name: 'Define status as the official status', ...on, sources: ['status'] },
    { type: 'date-remapper', name: 'Define timestamp as the official date', ...on, sources: ['timestamp'] },
    {
      type: 'trace-id-remapper',
      name: 'Trace id: the root execution',
      ...on,
      sources: ['root_execution_id', 'execution_id'],
    },
    {
      type: 'lookup-processor',
      name: 'Verb of the readable message',
      ...on,
      source: 'event_type',
      target: 'okta.verb',
      lookup_table: VERBS.map(([type, verb]) => `${type}, ${verb}`),
      default_lookup: 'Flow event',
    },
    {
      type: 'string-builder-processor',
      name: 'Readable message: flow id',
      ...on,
      template: '%{okta.verb}: %{flow_id}',
      target: 'okta.message',
      is_replace_missing: false,
    },
    {
      type: 'string-builder-processor',
      name: 'Readable message: flow name',
      ...on,
      template: '%{okta.verb}: %{flow_name}',
      target: 'okta.message',
      is_replace_missing: false,
    },
    {
      type: 'pipeline',
      name: 'Readable message: the error of a failure',
      ...on,
      filter: { query: '@event_type:FLOW_FAIL' },
      tags: [],
      processors: [
        {
          type: 'string-builder-processor',
          name: 'with the error message',
          ...on,
          template: '%{okta.verb}: %{flow_name} (%{error_message})',
          target: 'okta.message',
          is_replace_missing: false,
        },
        {
          type: 'string-builder-processor',
          name: 'with the error kind and message',
          ...on,
          template: '%{okta.verb}: %{flow_name} (%{error_type}: %{error_message})',
          target: 'okta.message',
          is_replace_missing: false,
        },
      ],
    },
    {
      type: 'pipeline',
      name: 'Readable message: the duration of a completed flow',
      ...on,
      filter: { query: '@event_type:FLOW_COMPLETE @duration:*' },
      tags: [],
      processors: [
        {
          type: 'string-builder-processor',
          name: 'with the duration',
          ...on,
          template: '%{okta.verb}: %{flow_name} (%{duration} ms)',
          target: 'okta.message',
          is_replace_missing: false,
        },
      ],
    },
    { type: 'message-remapper', name: 'Define the readable message', ...on, sources: ['okta.message'] },
    { type: 'exclude-attribute', name: 'Drop the message parts', ...on, attribute_to_exclude: 'okta' },
    {
      type: 'attribute-remapper',
      name: 'error_type → error.kind',
      ...on,
      sources: ['error_type'],
      source_type: 'attribute',
      target: 'error.kind',
      target_type: 'attribute',
      preserve_source: false,
      override_on_conflict: false,
    },
    {
      type: 'attribute-remapper',
      name: 'error_message → error.message',
      ...on,
      sources: ['error_message'],
      source_type: 'attribute',
      target: 'error.message',
      target_type: 'attribute',
      preserve_source: false,
      override_on_conflict: false,
    },
  ],
};
