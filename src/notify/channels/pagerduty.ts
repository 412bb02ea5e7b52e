// The PagerDuty channel, Events API v2 (datadog-compat.md §7.3): `@pagerduty-SERVICE` sends an event with
// the routing key the configuration file gives for SERVICE (`notifications.pagerduty.services`). Alert,
// Warn and No Data (and their renotifications) trigger; Recovered resolves. The dedup_key is the event's
// $ALERT_CYCLE_KEY (monitor, group, first trigger time): the same from trigger to recovery, so the resolve
// closes the incident the trigger opened, and a new episode opens a new incident.
import type { MonitorEventRecord } from '../../store/store.ts';
import { type Channel, type Delivery, notDeliverable, postJson, type SendResult } from '../channel.ts';
import type { NotificationsConfig } from '../config.ts';
import type { EventBody } from '../event-body.ts';
import { eventVariables } from '../variables.ts';

/** Per-request timeout. */
export const PAGERDUTY_TIMEOUT_MS = 15_000;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

const ORDER: PagerDutySeverity[] = ['info', 'warning', 'error', 'critical'];

/**
 * Severity from state and priority: Alert and No Data are `error`, Warn is `warning`; a P1 Alert is
 * `critical`; P4 and P5 lower the severity one step (error → warning, warning → info).
 */
export function pagerDutySeverity(to: string, priority: number | null | undefined): PagerDutySeverity {
  let s: PagerDutySeverity = to === 'Warn' ? 'warning' : 'error';
  if (to === 'Alert' && priority === 1) s = 'critical';
  if (typeof priority === 'number' && priority >= 4) s = ORDER[Math.max(0, ORDER.indexOf(s) - 1)]!;
  return s;
}

/** The Events API URL from the configured base: `https://events.eu.pagerduty.com` → `…/v2/enqueue`. */
export function enqueueUrl(base: string): string {
  const u = new URL(base);
  if (!/\/v2\/enqueue\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/v2/enqueue`;
  return u.toString();
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** The service the monitor watches: the group's or a tag's `service`, or the query's `service:` term. */
function serviceOf(b: EventBody): string | undefined {
  const fromGroup = b.group?.service;
  if (fromGroup) return fromGroup;
  const tag = b.monitor?.tags?.find((t) => t.startsWith('service:'));
  if (tag) return tag.slice('service:'.length);
  return /(?:^|[\s("])service:([A-Za-z0-9_.-]+)/.exec(b.monitor?.query ?? '')?.[1];
}

/** The event sent to PagerDuty (pure); the routing key is the configured one. */
export function buildPagerDutyEvent(e: MonitorEventRecord, routingKey: string): Record<string, unknown> {
  const b = e.body as EventBody;
  const vars = eventVariables(e);
  const text = (k: string) => {
    const v = vars[k];
    return typeof v === 'string' ? v : '';
  };
  const dedupKey = text('ALERT_CYCLE_KEY');
  const to = b.to ?? 'Alert';
  if (to === 'OK') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };

  const threshold = to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  const monitorLink = text('LINK');
  const details: Record<string, unknown> = {
    monitor_id: b.monitor?.id ?? e.monitor_id,
    monitor: b.monitor?.name ?? '',
    transition: b.transition ?? '',
    state: to,
    message: cut(b.message ?? '', 10_000),
    value: b.value ?? null,
    threshold: threshold === null || threshold === undefined ? null : `${b.comparator ?? '>'} ${threshold}`,
    query: b.monitor?.query ?? '',
    group: b.group ?? {},
    priority: text('ALERT_PRIORITY') || null,
    tags: b.monitor?.tags ?? [],
    log_link: b.log_link ?? null,
    monitor_link: monitorLink || null,
  };
  if (b.sample?.attributes) details.sample = b.sample;
  const links = [
    monitorLink ? { href: monitorLink, text: 'Monitor' } : null,
    b.log_link ? { href: b.log_link, text: 'Related logs' } : null,
  ].filter((x) => x !== null);
  const scope = text('ALERT_SCOPE');
  const service = serviceOf(b);
  const payload: Record<string, unknown> = {
    summary: cut(b.title || b.monitor?.name || 'Flowwatch monitor', 1024),
    source: text('HOSTNAME') || (monitorLink ? new URL(monitorLink).host : '') || 'flowwatch',
    severity: pagerDutySeverity(to, b.monitor?.priority),
    timestamp: new Date(e.at).toISOString(),
    class: 'log alert',
    custom_details: details,
  };
  if (service) payload.component = service;
  if (scope) payload.group = cut(scope, 255);
  const out: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload,
    client: 'Flowwatch',
  };
  if (monitorLink) out.client_url = monitorLink;
  if (links.length > 0) out.links = links;
  return out;
}

/** The PagerDuty channel; services are read from the configuration at each send (a reload applies at once). */
export function createPagerDutyChannel(o: {
  config: () => NotificationsConfig;
  timeoutMs?: number;
  now?: () => number;
}): Channel {
  const now = o.now ?? Date.now;
  return {
    name: 'pagerduty',
    async send(d: Delivery): Promise<SendResult> {
      const name = d.handle.slice('pagerduty-'.length);
      const cfg = o.config().pagerduty;
      const service = cfg.services.get(name.toLowerCase());
      if (!service)
        return notDeliverable(
          'unknown_handle',
          `no PagerDuty service named "${name}" (add it under notifications.pagerduty.services in the configuration file, or through the PagerDuty integration API)`,
        );
      const url = enqueueUrl(cfg.url);
      const target = new URL(url);
      const what = `PagerDuty service "${service.name}" (POST ${target.origin}${target.pathname})`;
      return postJson({
        url,
        what,
        body: buildPagerDutyEvent(d.event, service.routingKey),
        userAgent: 'Flowwatch-PagerDuty/1.0 (Datadog-compatible)',
        signal: d.signal,
        timeoutMs: o.timeoutMs ?? PAGERDUTY_TIMEOUT_MS,
        now,
      });
    },
  };
}
