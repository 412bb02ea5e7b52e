// The notices Datadog sends to the @-handles of a downtime's own `message` "whenever the downtime is
// scheduled, started, cancelled, or expired" (its audit notifications). Each is an event for the outbox, shaped
// as monitor events are (title, message, handles, link) so every channel renders it: cause `downtime`, group
// key `downtime:<id>` (its own delivery queue), monitor id 0 (it is no monitor's transition: monitor histories
// leave it out), and `monitor.id` the downtime's monitor when it names one ($ALERT_ID).
// Pure: the clock and the monitors are passed in; downtime-service.ts decides when and saves.
import type { MonitorEventRecord } from '../store/store.ts';
import type { Downtime } from './downtime.ts';
import { extractHandles } from './template.ts';
import { formatLocalTime } from './template-format.ts';

/** The four moments Datadog notifies. */
export type DowntimeNoticeKind = 'scheduled' | 'started' | 'canceled' | 'expired';

/** An event to save (Store.updateDowntime). */
export type NoticeEvent = Omit<MonitorEventRecord, 'id' | 'delivered_at'>;

export interface NoticeContext {
  at: number;
  /** the window the notice is about (the next one, the one that began or ended); null: none left */
  window: { start: number; end: number } | null;
  /** the monitors the downtime covers now (names for the title) */
  monitors: readonly { id: number; name: string }[];
  /** Flowwatch's base URL (public_url) for the link */
  baseUrl: string;
}

const VERB: Record<DowntimeNoticeKind, string> = {
  scheduled: 'Downtime scheduled',
  started: 'Downtime started',
  canceled: 'Downtime canceled',
  expired: 'Downtime expired',
};

/** `2026-03-01 02:00:00+01:00` in the display time zone (UTC when it is unknown). */
function when(ms: number, tz: string): string {
  if (!Number.isFinite(ms)) return 'until canceled';
  return formatLocalTime(ms, tz) ?? new Date(ms).toISOString();
}

/** `Okta flow failures`, `2 monitors tagged team:iam`, `all monitors`: what the title names. */
export function monitorsLabel(d: Downtime, monitors: readonly { id: number; name: string }[]): string {
  const id = d.monitor_identifier;
  if ('monitor_id' in id)
    return monitors.find((m) => m.id === id.monitor_id)?.name ?? `monitor ${id.monitor_id}`;
  if (id.monitor_tags.includes('*')) return 'all monitors';
  return `monitors tagged ${id.monitor_tags.join(', ')}`;
}

/** The schedule in one line, in the display time zone. */
function scheduleText(d: Downtime, w: NoticeContext['window']): string {
  const tz = d.display_timezone;
  const s = d.schedule;
  const base =
    s.kind === 'one_time'
      ? `from ${when(s.start, tz)} ${s.end === null ? 'until canceled' : `to ${when(s.end, tz)}`}`
      : s.recurrences
          .map((r) => `\`${r.rrule}\` for ${r.duration} from ${r.start} (${s.timezone})`)
          .join('; ');
  const window =
    s.kind === 'recurring' && w ? `; this occurrence from ${when(w.start, tz)} to ${when(w.end, tz)}` : '';
  return `${base}${window}`;
}

/**
 * The notice of `kind` for a downtime, or null when its message names no handle. The message is the
 * downtime's own text, then its scope, monitors, schedule and what happened.
 */
export function downtimeNotice(kind: DowntimeNoticeKind, d: Downtime, c: NoticeContext): NoticeEvent | null {
  const text = (d.message ?? '').trim();
  const handles = extractHandles(text);
  if (handles.length === 0) return null;
  const what = monitorsLabel(d, c.monitors);
  const title = `${VERB[kind]}: ${d.scope} on ${what}`;
  const link = new URL('/monitors/downtimes', c.baseUrl);
  link.searchParams.set('id', d.id);
  const id = d.monitor_identifier;
  const tags = 'monitor_tags' in id ? id.monitor_tags.filter((t) => t !== '*') : [];
  const happened: Record<DowntimeNoticeKind, string> = {
    scheduled: `It will start at ${when(c.window?.start ?? Number.NaN, d.display_timezone)}.`,
    started: `Notifications of the monitors it covers are muted${
      c.window && Number.isFinite(c.window.end) ? ` until ${when(c.window.end, d.display_timezone)}` : ''
    }.`,
    canceled: `It was canceled at ${when(c.at, d.display_timezone)}; notifications are no longer muted by it.`,
    expired: `It ended at ${when(c.window?.end ?? c.at, d.display_timezone)}; notifications are no longer muted by it.`,
  };
  const message = [
    text,
    `**${VERB[kind]}.** ${happened[kind]}`,
    `**Scope:** \`${d.scope}\``,
    `**Monitors:** ${what}`,
    `**Schedule:** ${scheduleText(d, c.window)}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    monitor_id: 0,
    group_key: `downtime:${d.id}`,
    at: c.at,
    body: {
      transition: VERB[kind],
      cause: 'downtime',
      downtime_notice: kind,
      notify: true,
      muted: false,
      downtime_id: d.id,
      value: null,
      // The cycle key of a window ($ALERT_CYCLE_KEY): scheduled, started and expired of one window share it.
      first_triggered_at: c.window?.start ?? c.at,
      last_triggered_at: null,
      monitor: { id: 'monitor_id' in id ? id.monitor_id : 0, name: what, priority: null, tags, query: '' },
      group: {},
      scope: d.scope,
      status: `${VERB[kind]}: ${d.scope} on ${what}, ${scheduleText(d, c.window)}`,
      title,
      message,
      handles,
      monitor_link: link.toString(),
      downtime: {
        id: d.id,
        scope: d.scope,
        monitor_identifier: d.monitor_identifier,
        start: c.window ? new Date(c.window.start).toISOString() : null,
        end: c.window && Number.isFinite(c.window.end) ? new Date(c.window.end).toISOString() : null,
        canceled: kind === 'canceled' ? new Date(c.at).toISOString() : null,
      },
      sample: null,
    },
  };
}
