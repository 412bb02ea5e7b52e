// Datadog's webhook `$VARIABLES` of one monitor event (datadog-compat.md §7.1), from the stored event body
// (monitors/describe.ts). Pure: the same event always gives the same values, so a retry sends the same text.
import { createHash } from 'node:crypto';
import type { MonitorEventRecord } from '../store/store.ts';
import type { BundleInfo } from './bundle.ts';
import type { EventBody } from './event-body.ts';

/** A variable's value: text, or a JSON value ($LOGS_SAMPLE) inserted as JSON where the template allows. */
export type VariableValue = string | { json: unknown };

const ALERT_TYPE: Record<string, string> = {
  Alert: 'error',
  Warn: 'warning',
  OK: 'success',
  'No Data': 'info',
};

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** `service:okta, @flow_name:Sync Users`: the group's tags as Datadog's $ALERT_SCOPE lists them. */
function scopeOf(group: Record<string, string>): string {
  return Object.entries(group)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
}

/** Datadog's status sentence: `count of logs("…") over @flow_name:Sync was > 0 during the last 5m`. */
function statusLine(b: EventBody): string {
  const q = b.monitor?.query ?? '';
  const search = /^logs\("((?:[^"\\]|\\.)*)"\)/.exec(q)?.[1] ?? '*';
  const window = /\.last\("([^"]+)"\)/.exec(q)?.[1];
  const scope = scopeOf(b.group ?? {}) || '*';
  const threshold = b.to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  const value = b.value === null || b.value === undefined ? 'no data' : String(b.value);
  return `${metricOf(q)} of logs("${search}") over ${scope} was ${b.comparator ?? '>'} ${threshold ?? ''}${
    window ? ` during the last ${window}` : ''
  } (value: ${value})`.replace(/ {2,}/g, ' ');
}

/** The rollup the monitor evaluates: `count`, or `avg(@duration)`. */
function metricOf(query: string): string {
  const m = /\.rollup\(\s*"(\w+)"(?:\s*,\s*"([^"]+)")?/.exec(query);
  if (!m) return 'count';
  return m[2] ? `${m[1]}(${m[2]})` : (m[1] ?? 'count');
}

/** The tags of the event: the monitor's tags, then the group's values as `key:value`. */
function tagsOf(b: EventBody): string[] {
  const out = [...(b.monitor?.tags ?? [])];
  for (const [k, v] of Object.entries(b.group ?? {})) out.push(`${k.replace(/^@/, '')}:${v}`);
  return [...new Set(out)];
}

/** `$ALERT_SCOPE`: the group's tags, or a downtime notice's scope query. */
function alertScope(b: EventBody): string {
  return b.scope ?? scopeOf(b.group ?? {});
}

/** What the first link of `$EVENT_MSG` opens. */
function linkLabel(b: EventBody): string {
  return b.scope !== undefined ? 'Downtime' : 'Monitor Status';
}

/** `$ALERT_STATUS`: the status sentence, or a summary's count. */
function statusOf(b: EventBody): string {
  return b.bundle ? `${b.bundle.count} more ${b.bundle.noun}` : (b.status ?? statusLine(b));
}

/** Every variable of an event. `$TAGS[key]` is resolved by {@link tagValue}. */
export function eventVariables(e: MonitorEventRecord): Record<string, VariableValue> {
  const b = e.body as EventBody;
  const monitorId = b.monitor?.id ?? e.monitor_id;
  const origin = b.log_link ? new URL(b.log_link).origin : '';
  const monitorLink = b.monitor_link ?? (origin ? `${origin}/monitors/${monitorId}` : '');
  const status = statusOf(b);
  const message = b.message ?? '';
  const links = [
    monitorLink ? `[[${linkLabel(b)}](${monitorLink})]` : '',
    b.log_link ? `[[Related Logs](${b.log_link})]` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const triggered = b.last_triggered_at
    ? `The monitor was last triggered at ${new Date(b.last_triggered_at).toUTCString().replace('GMT', 'UTC')}.`
    : '';
  const text = [message, ...(b.bundle ? [] : [status, triggered])].filter(Boolean).join('\n\n');
  const sampleAttrs = b.sample?.attributes;
  const samples = b.to !== 'OK' && sampleAttrs?.message ? [b.sample] : [];
  const tags = tagsOf(b);
  return {
    ID: String(e.id),
    EVENT_TITLE: b.title ?? '',
    ALERT_TITLE: b.title ?? '',
    EVENT_MSG: `%%%\n${text}${links ? `\n\n- - -\n\n${links}` : ''}\n%%%`,
    TEXT_ONLY_MSG: [text, monitorLink, b.log_link ?? ''].filter(Boolean).join('\n\n'),
    EVENT_TYPE: 'log_alert_monitor',
    ALERT_TRANSITION: b.transition ?? '',
    ALERT_TYPE: ALERT_TYPE[b.to ?? ''] ?? 'info',
    ALERT_STATUS: status,
    ALERT_ID: String(monitorId),
    ALERT_PRIORITY: typeof b.monitor?.priority === 'number' ? `P${b.monitor.priority}` : '',
    ALERT_QUERY: b.monitor?.query ?? '',
    ALERT_SCOPE: alertScope(b),
    ALERT_METRIC: metricOf(b.monitor?.query ?? ''),
    ALERT_CYCLE_KEY: hash(`${monitorId}\n${e.group_key}\n${b.first_triggered_at ?? e.at}`),
    AGGREG_KEY: hash(`${monitorId}\n${e.group_key}`),
    DATE: String(e.at),
    DATE_POSIX: String(Math.floor(e.at / 1000)),
    LAST_UPDATED: String(e.at),
    HOSTNAME: sampleAttrs?.host ?? b.group?.host ?? '',
    LINK: monitorLink,
    LOGS_SAMPLE: { json: samples },
    TAGS: tags.join(','),
    ORG_ID: '0',
    ORG_NAME: 'Flowwatch',
    PRIORITY: 'normal',
    EMAIL: '',
    USER: '',
    USERNAME: '',
    SNAPSHOT: '',
    METRIC_NAMESPACE: '',
    BUNDLE_COUNT: '0',
    BUNDLE: { json: [] },
    ...(b.bundle ? bundleVariables(b.bundle, text) : {}),
  };
}

/** A summary's own variables (Flowwatch additions): `$BUNDLE_COUNT`, `$BUNDLE` (a JSON array of the alerts). */
function bundleVariables(bundle: BundleInfo, text: string): Record<string, VariableValue> {
  const plain = bundle.items.map((i) =>
    `- ${i.transition}: ${i.scope ? `${i.monitor} on ${i.scope}` : i.monitor} ${i.monitor_link}`.trim(),
  );
  return {
    TEXT_ONLY_MSG: [text.split('\n\n')[0] ?? '', plain.join('\n')].join('\n\n'),
    BUNDLE_COUNT: String(bundle.count),
    BUNDLE: {
      json: bundle.items.map((i) => ({
        monitor_id: i.monitor_id,
        monitor: i.monitor,
        scope: i.scope,
        transition: i.transition,
        title: i.title,
        date: i.at,
        link: i.monitor_link,
        logs: i.log_link,
      })),
    },
  };
}

/** `$TAGS[key]`: the value of the event's tag `key`, or empty. */
export function tagValue(vars: Record<string, VariableValue>, key: string): string {
  const tags = typeof vars.TAGS === 'string' ? vars.TAGS.split(',') : [];
  const hit = tags.find((t) => t.startsWith(`${key}:`));
  return hit ? hit.slice(key.length + 1) : '';
}
