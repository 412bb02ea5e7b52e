// The Opsgenie channel, Alert API v2 (datadog-compat.md §7.5): `@opsgenie-NAME` uses the API integration key
// and region the configuration file gives for NAME (`notifications.opsgenie.services`). Alert, Warn and No
// Data (and their renotifications) create an alert (`POST /v2/alerts`); Recovered closes it
// (`POST /v2/alerts/{alias}/close?identifierType=alias`). The alias is the event's $ALERT_CYCLE_KEY, as
// PagerDuty's dedup_key: the same from trigger to recovery, so the close finds the alert the create opened,
// a renotification only raises its count, and a new episode opens a new alert.
import type { MonitorEventRecord } from '../../store/store.ts';
import { type Channel, type Delivery, notDeliverable, postJson, type SendResult } from '../channel.ts';
import type { NotificationsConfig } from '../config.ts';
import type { EventBody } from '../event-body.ts';
import { eventVariables } from '../variables.ts';

/** Per-request timeout. */
export const OPSGENIE_TIMEOUT_MS = 15_000;

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Opsgenie's priority from the monitor's (P1..P5); P3, Opsgenie's default, when it has none. */
export function opsgeniePriority(priority: number | null | undefined): string {
  return typeof priority === 'number' && priority >= 1 && priority <= 5 ? `P${priority}` : 'P3';
}

/** What one event asks of Opsgenie: the request's path (under the base URL) and its JSON body (pure). */
export function buildOpsgenieRequest(e: MonitorEventRecord): { path: string; body: Record<string, unknown> } {
  const b = e.body as EventBody;
  const vars = eventVariables(e);
  const text = (k: string) => {
    const v = vars[k];
    return typeof v === 'string' ? v : '';
  };
  const alias = text('ALERT_CYCLE_KEY');
  const to = b.to ?? 'Alert';
  const title = b.title || b.monitor?.name || 'Flowwatch monitor';
  if (to === 'OK')
    return {
      path: `/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      body: {
        source: 'Flowwatch',
        user: 'Flowwatch',
        note: cut(`${b.transition ?? 'Recovered'}: ${title}`, 25_000),
      },
    };
  const threshold = to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  // details: string → string only, 8000 characters in all (Opsgenie's limits); empty values are left out.
  const details: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v === null || v === undefined || v === '') return;
    details[k] = cut(typeof v === 'string' ? v : JSON.stringify(v), 700);
  };
  put('monitor_id', String(b.monitor?.id ?? e.monitor_id));
  put('monitor', b.monitor?.name);
  put('transition', b.transition);
  put('state', to);
  put('value', b.value === null || b.value === undefined ? 'no data' : String(b.value));
  put(
    'threshold',
    threshold === null || threshold === undefined ? '' : `${b.comparator ?? '>'} ${threshold}`,
  );
  put('query', b.monitor?.query);
  put('group', text('ALERT_SCOPE'));
  put('monitor_link', text('LINK'));
  put('log_link', b.log_link);
  const description = [
    b.message ?? '',
    text('ALERT_STATUS'),
    b.sample?.attributes?.message ? `Sample log: ${b.sample.attributes.message}` : '',
    [text('LINK') && `Monitor: ${text('LINK')}`, b.log_link && `Logs: ${b.log_link}`]
      .filter(Boolean)
      .join('\n'),
  ]
    .filter(Boolean)
    .join('\n\n');
  // Tags: at most 20, each at most 50 characters (Opsgenie's limits).
  const tags = text('TAGS')
    .split(',')
    .filter(Boolean)
    .map((t) => cut(t, 50));
  const body: Record<string, unknown> = {
    message: cut(title, 130),
    alias,
    description: cut(description, 15_000),
    tags: [...new Set(tags)].slice(0, 20),
    details,
    source: 'Flowwatch',
    priority: opsgeniePriority(b.monitor?.priority),
  };
  const entity = text('ALERT_SCOPE');
  if (entity) body.entity = cut(entity, 512);
  return { path: '/v2/alerts', body };
}

/** The Opsgenie channel; services are read from the configuration at each send (a reload applies at once). */
export function createOpsgenieChannel(o: {
  config: () => NotificationsConfig;
  timeoutMs?: number;
  now?: () => number;
}): Channel {
  const now = o.now ?? Date.now;
  return {
    name: 'opsgenie',
    async send(d: Delivery): Promise<SendResult> {
      const name = d.handle.slice('opsgenie-'.length);
      const service = o.config().opsgenie.get(name.toLowerCase());
      if (!service)
        return notDeliverable(
          'unknown_handle',
          `no Opsgenie service named "${name}" (add it under notifications.opsgenie.services in the configuration file, or through the Opsgenie integration API)`,
        );
      const req = buildOpsgenieRequest(d.event);
      let url: URL;
      try {
        url = new URL(`${service.url.replace(/\/+$/, '')}${req.path}`);
      } catch {
        return notDeliverable('bad_config', `Opsgenie service "${service.name}": invalid URL`);
      }
      // The key travels in a header; the URL holds none and may be named.
      const what = `Opsgenie service "${service.name}" (POST ${url.origin}${url.pathname})`;
      return postJson({
        url,
        what,
        body: req.body,
        userAgent: 'Flowwatch-Opsgenie/1.0 (Datadog-compatible)',
        headers: { authorization: `GenieKey ${service.apiKey}` },
        signal: d.signal,
        timeoutMs: o.timeoutMs ?? OPSGENIE_TIMEOUT_MS,
        now,
      });
    },
  };
}
