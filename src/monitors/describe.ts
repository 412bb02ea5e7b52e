// Turns a monitor transition into the stored event: Datadog's title and rendered message (with the
// escalation message on renotifications), the @-handles to notify, the sample log and the link to the
// matching logs. The notification layer delivers these events as they are.
import { toDatadogLog } from '../api/logs-search.ts';
import type { MonitorEvent } from './evaluator.ts';
import { extractHandles, renderMessageDetailed, renderTitle, type TemplateContext } from './template.ts';

export interface DescribeOptions {
  /** base URL of Flowwatch for links (public_url, or the listening URL) */
  baseUrl: () => string;
  /** escalation message and options of a monitor, by id */
  options: (
    monitorId: number,
  ) => { escalation_message?: string; include_tags?: boolean; enable_logs_sample?: boolean } | undefined;
}

/** The explorer link scoped to the monitor's query and the group's values, over the window. */
export function logLink(base: string, query: string, group: Record<string, string>, at: number): string {
  const parts = [query.trim() || '*'];
  for (const [k, v] of Object.entries(group)) parts.push(`${k}:${JSON.stringify(v)}`);
  const u = new URL('/logs', base);
  u.searchParams.set('query', parts.join(' '));
  u.searchParams.set('to', String(at));
  return u.toString();
}

export function describeEvent(e: MonitorEvent, o: DescribeOptions): Record<string, unknown> {
  const t = e.transition;
  const search =
    /^logs\("((?:[^"\\]|\\.)*)"\)/.exec(e.monitor.query)?.[1]?.replace(/\\(["\\])/g, '$1') ?? '*';
  const link = logLink(o.baseUrl(), search, e.group, t.at);
  const isRenotify = t.cause === 'renotify';
  const ctx: TemplateContext = {
    transition: { name: t.name, from: t.from, to: t.to },
    isRenotify,
    priority: e.monitor.priority,
    monitor: { id: e.monitor.id, name: e.monitor.name, query: e.monitor.query, tags: e.monitor.tags },
    value: t.value,
    thresholds: e.thresholds,
    comparator: e.comparator,
    firstTriggeredAt: t.firstTriggeredAt,
    lastTriggeredAt: t.lastTriggeredAt,
    now: t.at,
    group: e.group,
    log: e.sample,
    logLink: link,
  };
  const opts = o.options(e.monitor.id) ?? {};
  const rendered = renderMessageDetailed(e.monitor.message, ctx);
  let message = rendered.text;
  if (isRenotify && opts.escalation_message)
    message = `${message}\n\n${renderMessageDetailed(opts.escalation_message, ctx).text}`;
  return {
    transition: t.name,
    from: t.from,
    to: t.to,
    cause: t.cause,
    // A muted transition (an active downtime covers the group) is recorded but does not notify.
    notify: t.notify && !e.muting?.muted,
    muted: e.muting?.muted ?? false,
    downtime_id: e.muting?.downtime_id ?? null,
    value: t.value,
    first_triggered_at: t.firstTriggeredAt,
    last_triggered_at: t.lastTriggeredAt,
    monitor: {
      id: e.monitor.id,
      name: e.monitor.name,
      priority: rendered.overridePriority ?? e.monitor.priority,
      tags: e.monitor.tags,
      query: e.monitor.query,
    },
    group: e.group,
    title: renderTitle(
      e.monitor.name,
      { ...ctx, priority: rendered.overridePriority ?? e.monitor.priority },
      opts.include_tags !== false,
    ),
    message,
    handles: extractHandles(message),
    thresholds: e.thresholds,
    comparator: e.comparator,
    log_link: link,
    // The log sample of the notification (Datadog: only with enable_logs_sample); `{{log.*}}` in the
    // message renders from the matching log either way.
    sample:
      e.sample && opts.enable_logs_sample === true
        ? toDatadogLog({ ...e.sample, id: (e.sample as { id?: string }).id ?? '' })
        : null,
  };
}
