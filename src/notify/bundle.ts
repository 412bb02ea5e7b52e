// Bundling ("no floods", docs/notifications.md "Bundling"), in the spirit of Datadog's `bundle_config` and
// Alertmanager's group_wait: the first alert for a recipient goes out at once and opens a window; further
// alerts for that recipient within the window are held and sent together, when it closes, as one summary
// ("11 more flows failing: …"). Recoveries are never held. Pure: the store keeps the windows (durable), the
// dispatcher asks `bundlePlan`, the worker builds the summary with `summaryEvent` from the stored alerts.
import type { BundlePlan, BundleWindow, NotificationJob } from '../store/notifications.ts';
import type { MonitorEventRecord } from '../store/store.ts';
import type { NotificationRule } from './rule-model.ts';
import { notificationTags, ruleRecipients, toHandle } from './rules.ts';

/** How one alert for one recipient is delivered: on its own (undefined), opening a window, or held. */
export function bundlePlan(o: {
  /** the state the event goes to; recoveries (`OK`) are never bundled */
  to: string | undefined;
  /** whether the recipient's channel renders summaries (Channel.bundles) */
  channelBundles: boolean;
  /** the recipient's window; 0 = bundling off */
  windowMs: number;
  now: number;
  /** the recipient's window still open, if any */
  open: BundleWindow | undefined;
}): BundlePlan | undefined {
  if (o.windowMs <= 0 || !o.channelBundles || o.to === 'OK') return undefined;
  if (o.open && o.open.closes_at > o.now) return { kind: 'hold', bundle_id: o.open.id };
  return { kind: 'lead', closes_at: o.now + o.windowMs };
}

/**
 * The bundling window of a recipient for an event: the longest `bundle_config.duration` of the matching
 * rules that name the recipient (a rule with `duration: 0` turns it off for its recipients), else the
 * configuration's default (`notifications.bundle_config.duration`), else 0.
 */
export function bundleWindowMs(
  body: Record<string, unknown>,
  handle: string,
  rules: readonly NotificationRule[],
  defaultMs: number,
): number {
  const key = toHandle(handle).toLowerCase();
  const tags = rules.length > 0 ? notificationTags(body) : undefined;
  let ms: number | undefined;
  for (const rule of rules) {
    if (rule.bundle_config === undefined) continue;
    const recipients = ruleRecipients(rule, body, tags) ?? [];
    if (!recipients.some((r) => toHandle(r).toLowerCase() === key)) continue;
    ms = Math.max(ms ?? 0, rule.bundle_config.duration * 1000);
  }
  return ms ?? defaultMs;
}

interface AlertBody {
  transition?: string;
  to?: string;
  title?: string;
  first_triggered_at?: number | null;
  log_link?: string;
  group?: Record<string, string>;
  monitor?: { id?: number; name?: string; priority?: number | null; tags?: string[]; query?: string };
}

/** One alert of a summary. */
export interface BundleItem {
  event_id: number;
  monitor_id: number;
  monitor: string;
  /** the group's values, `@flow_name:Sync Users`; empty for a simple alert */
  scope: string;
  /** what people call it: the group's values, or the monitor's name */
  label: string;
  transition: string;
  to: string;
  title: string;
  at: number;
  monitor_link: string;
  log_link: string;
}

/** What a summary event's body carries under `bundle` (channels render it). */
export interface BundleInfo {
  count: number;
  /** e.g. "flows failing" or "alerts" */
  noun: string;
  window_s: number;
  opened_at: number;
  closes_at: number;
  /** the monitor page (one monitor) or the monitors list */
  link: string;
  items: BundleItem[];
}

const RANK: Record<string, number> = { Alert: 3, 'No Data': 2, Warn: 1 };

function itemOf(e: MonitorEventRecord): BundleItem {
  const b = e.body as AlertBody;
  const group = b.group ?? {};
  const scope = Object.entries(group)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
  const origin = b.log_link ? new URL(b.log_link).origin : '';
  const monitorId = b.monitor?.id ?? e.monitor_id;
  const name = b.monitor?.name ?? `monitor ${monitorId}`;
  return {
    event_id: e.id,
    monitor_id: monitorId,
    monitor: name,
    scope,
    label: Object.values(group).join(', ') || name,
    transition: b.transition ?? 'Triggered',
    to: b.to ?? 'Alert',
    title: b.title ?? name,
    at: e.at,
    monitor_link: origin ? `${origin}/monitors/${monitorId}` : '',
    log_link: b.log_link ?? '',
  };
}

/** `5m`, `1h30m`, `45s`. */
export function formatWindow(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

/** Names for a title: as many as fit in about `max` characters, then "and N more". */
function nameList(names: string[], max: number): string {
  const out: string[] = [];
  let len = 0;
  for (const n of names) {
    if (out.length > 0 && len + n.length + 2 > max) break;
    out.push(n);
    len += n.length + 2;
  }
  const rest = names.length - out.length;
  return rest > 0 ? `${out.join(', ')} and ${rest} more` : out.join(', ');
}

/** Markdown link text may not hold `]`, nor a URL `)`. */
const mdLink = (label: string, url: string) =>
  url ? `[${label.replace(/[[\]]/g, '')}](${url.replace(/\)/g, '%29')})` : label;

/** "flows failing" when every alert is a failing Okta flow (grouped by flow name), else "alerts". */
function nounOf(items: BundleItem[]): string {
  const flows = items.length > 0 && items.every((i) => /flow_name/.test(i.scope) && i.to !== 'No Data');
  if (flows) return items.length === 1 ? 'flow failing' : 'flows failing';
  return items.length === 1 ? 'alert' : 'alerts';
}

/** `[Bundled] 11 more flows failing (Okta flow failures): Flow 02, Flow 03 and 9 more`. */
function summaryTitle(items: BundleItem[], noun: string, monitor: string | undefined): string {
  const names =
    monitor !== undefined
      ? nameList(
          items.map((i) => i.label),
          160,
        )
      : nameList(
          items.map((i) => (i.scope ? `${i.monitor} (${i.label})` : i.monitor)),
          160,
        );
  return `[Bundled] ${items.length} more ${noun}${monitor !== undefined ? ` (${monitor})` : ''}: ${names}`;
}

/** `- **Triggered** [Okta flow failures on @flow_name:Flow 02](…/monitors/7) · [logs](…)`. */
function itemLine(i: BundleItem): string {
  const what = i.scope ? `${i.monitor} on ${i.scope}` : i.monitor;
  return `- **${i.transition}** ${mdLink(what, i.monitor_link)}${i.log_link ? ` · ${mdLink('logs', i.log_link)}` : ''}`;
}

/**
 * The event a summary job sends: an ordinary monitor event (title, message, worst state) so every channel
 * can render it, plus `bundle` with the alerts for channels that list them. Pure: a retry sends the same.
 */
export function summaryEvent(job: NotificationJob, members: MonitorEventRecord[]): MonitorEventRecord {
  const items = members.map(itemOf);
  const first = members[0]?.body as AlertBody | undefined;
  const monitors = new Set(items.map((i) => i.monitor_id));
  const one = monitors.size === 1 ? first : undefined;
  const origin = items.find((i) => i.monitor_link)?.monitor_link.replace(/\/monitors\/\d+$/, '') ?? '';
  const link = one ? (items[0]?.monitor_link ?? '') : origin ? `${origin}/monitors` : '';
  const noun = nounOf(items);
  const to = items.reduce((w, i) => ((RANK[i.to] ?? 0) > (RANK[w] ?? 0) ? i.to : w), 'Warn');
  const d = job.detail ?? {};
  const opened = typeof d.opened_at === 'number' ? d.opened_at : (items[0]?.at ?? 0);
  const closes = typeof d.closes_at === 'number' ? d.closes_at : job.next_attempt_at;
  const windowS = Math.max(0, Math.round((closes - opened) / 1000));
  const title = summaryTitle(items, noun, one?.monitor?.name);
  const message = [
    `${items.length} more ${noun} for ${job.handle} within ${formatWindow(windowS)} of the first alert, which was sent on its own:`,
    items.map(itemLine).join('\n'),
  ].join('\n\n');
  const priorities = members
    .map((m) => (m.body as AlertBody).monitor?.priority)
    .filter((p): p is number => typeof p === 'number');
  const bundle: BundleInfo = {
    count: items.length,
    noun,
    window_s: windowS,
    opened_at: opened,
    closes_at: closes,
    link,
    items,
  };
  return {
    id: members[0]?.id ?? job.event_id,
    monitor_id: one?.monitor?.id ?? job.monitor_id,
    // Unique per summary, so keys derived from it ($ALERT_CYCLE_KEY) never collide with an alert's.
    group_key: job.group_key.startsWith('bundle:') ? job.group_key : `bundle:${job.id}`,
    at: members[0]?.at ?? job.created_at,
    delivered_at: null,
    body: {
      transition: 'Bundled',
      from: 'OK',
      to,
      cause: 'bundle',
      notify: true,
      muted: false,
      value: null,
      first_triggered_at: opened,
      last_triggered_at: members.at(-1)?.at ?? opened,
      monitor: {
        id: one?.monitor?.id ?? 0,
        name: one?.monitor?.name ?? 'Bundled alerts',
        priority: priorities.length > 0 ? Math.min(...priorities) : null,
        tags: one?.monitor?.tags ?? [],
        query: one?.monitor?.query ?? '',
      },
      group: {},
      title,
      message,
      handles: [],
      monitor_link: link,
      bundle,
    },
  };
}
