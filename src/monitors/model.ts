// The monitor JSON of Datadog's API (/api/v1/monitor) for type "log alert": validation with Datadog's error
// wording, defaults, and the options the evaluator reads. Options Flowwatch does not act on (metric-only or
// deprecated) are kept and echoed back, so a monitor round-trips unchanged.
import { z } from 'zod';
import { type MonitorQuery, MonitorQueryError, parseMonitorQuery } from './query.ts';

const nullableNumber = z.number().finite().nullable().optional();

export const thresholdsSchema = z
  .object({
    critical: z.number().finite().optional(),
    warning: nullableNumber,
    critical_recovery: nullableNumber,
    warning_recovery: nullableNumber,
  })
  .passthrough();

export const optionsSchema = z
  .object({
    thresholds: thresholdsSchema.optional(),
    enable_logs_sample: z.boolean().optional(),
    notify_no_data: z.boolean().optional(),
    no_data_timeframe: z.number().int().positive().nullable().optional(),
    on_missing_data: z.enum(['default', 'show_no_data', 'show_and_notify_no_data', 'resolve']).optional(),
    renotify_interval: z.number().int().min(0).nullable().optional(),
    renotify_occurrences: z.number().int().min(0).nullable().optional(),
    renotify_statuses: z
      .array(z.enum(['alert', 'warn', 'no data']))
      .nullable()
      .optional(),
    escalation_message: z.string().max(10_000).optional(),
    evaluation_delay: z.number().int().min(0).max(86_400).nullable().optional(),
    new_group_delay: z.number().int().min(0).max(86_400).nullable().optional(),
    group_retention_duration: z.string().optional(),
    notify_by: z.array(z.string()).optional(),
    include_tags: z.boolean().optional(),
    notification_preset_name: z.string().optional(),
    timeout_h: z.number().int().min(0).max(24).nullable().optional(),
    notify_audit: z.boolean().optional(),
  })
  .passthrough();

export const monitorInputSchema = z.object({
  name: z.string().trim().min(1).max(4096),
  type: z.string(),
  query: z.string().min(1).max(20_000),
  message: z.string().max(50_000).default(''),
  tags: z.array(z.string().max(200)).max(100).default([]),
  priority: z.number().int().min(1).max(5).nullable().default(null),
  options: optionsSchema.default({}),
  restricted_roles: z.array(z.string()).nullable().optional(),
});

export type MonitorInput = z.infer<typeof monitorInputSchema>;
export type MonitorOptions = z.infer<typeof optionsSchema>;

/** A monitor as stored. */
export interface Monitor extends MonitorInput {
  id: number;
  created_at: number;
  modified_at: number;
}

/** Validation failures, each worded as Datadog words them. */
export class MonitorValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const invalid = (param: string, why: string) =>
  `The value provided for parameter '${param}' is invalid: ${why}`;

/** Validates a create or update body; the query is parsed and the thresholds checked against it. */
export function parseMonitorInput(body: unknown): { input: MonitorInput; query: MonitorQuery } {
  const r = monitorInputSchema.safeParse(body);
  if (!r.success) {
    throw new MonitorValidationError(
      r.error.issues.map((i) => invalid(i.path.join('.') || 'body', i.message)),
    );
  }
  const input = r.data;
  const problems: string[] = [];
  if (input.type !== 'log alert')
    problems.push(invalid('type', `Flowwatch runs "log alert" monitors; got "${input.type}"`));
  let query: MonitorQuery | undefined;
  try {
    query = parseMonitorQuery(input.query);
  } catch (err) {
    if (err instanceof MonitorQueryError) problems.push(invalid('query', err.message));
    else throw err;
  }
  if (query) {
    const t = { ...(input.options.thresholds ?? {}) };
    if (t.critical === undefined) t.critical = query.threshold;
    else if (t.critical !== query.threshold)
      problems.push(
        invalid(
          'query',
          `alert threshold (${t.critical}) does not match that used in the query (${query.threshold})`,
        ),
      );
    input.options = { ...input.options, thresholds: t };
    if (input.options.group_retention_duration !== undefined) {
      try {
        parseRetention(input.options.group_retention_duration);
      } catch (err) {
        problems.push(invalid('options.group_retention_duration', (err as Error).message));
      }
    }
    for (const f of input.options.notify_by ?? [])
      if (f !== '*' && !query.groupBy.includes(f))
        problems.push(
          invalid(
            'options.notify_by',
            `"${f}" is not a group-by of the query (${query.groupBy.join(', ') || 'none'})`,
          ),
        );
  }
  if (problems.length > 0 || !query) throw new MonitorValidationError(problems);
  return { input, query };
}

/** `group_retention_duration`: 60m to 72h (`1h`, `2d`, `90m`). */
export function parseRetention(s: string): number {
  const m = /^(\d+)([mhd])$/.exec(s);
  const ms = m
    ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd']
    : Number.NaN;
  if (!(ms >= 3_600_000 && ms <= 72 * 3_600_000))
    throw new Error(`"${s}": expected a duration from 60m to 72h, like "1h" or "2d"`);
  return ms;
}
