// Watch the watcher (docs/notifications.md "Dead-letter fallback"): when a delivery goes to dead letter, the
// recipients of `notifications.dead_letter.notify` are told what failed and why. The notice is an ordinary
// monitor event (title, message) so every channel renders it; it is never itself followed by a notice when
// it fails (no loops). Pure.
import type { JobSpec, NotificationJob } from '../store/notifications.ts';
import type { MonitorEventRecord } from '../store/store.ts';
import type { ChannelRegistry } from './channel.ts';
import type { EventBody } from './event-body.ts';

/** What the notice says about the failed job, stored with the fallback job (no secrets: errors never hold any). */
export interface DeadLetterDetail {
  job_id: number;
  handle: string;
  channel: string;
  kind: string;
  reason: string;
  error: string;
  status: number | null;
  attempts: number;
  /** the title of the notification that failed */
  title: string;
}

/** The fallback jobs for a dead job: none for a fallback job, nor to the recipient that just failed. */
export function fallbackJobs(
  dead: Pick<NotificationJob, 'kind' | 'handle'>,
  notify: readonly string[],
  registry: ChannelRegistry,
): JobSpec[] {
  if (dead.kind === 'fallback') return [];
  const failed = dead.handle.replace(/^@/, '').toLowerCase();
  const seen = new Set<string>([failed]);
  const out: JobSpec[] = [];
  for (const raw of notify) {
    const bare = raw.trim().replace(/^@/, '');
    if (!bare || seen.has(bare.toLowerCase())) continue;
    seen.add(bare.toLowerCase());
    const handle = `@${bare}`;
    out.push({ handle, channel: registry.resolve(handle).name });
  }
  return out;
}

/** The event a fallback job sends, from the failed job's event and the detail stored at dead-letter time. */
export function fallbackEvent(job: NotificationJob, event: MonitorEventRecord): MonitorEventRecord {
  const d = (job.detail ?? {}) as Partial<DeadLetterDetail>;
  const b = event.body as EventBody;
  const title = d.title ?? b.title ?? `monitor ${event.monitor_id}`;
  const attempts = d.attempts ?? 0;
  const message = [
    `Flowwatch gave up delivering a notification to ${d.handle ?? 'a recipient'} (${d.channel ?? 'unknown'} channel) after ${attempts} attempt${attempts === 1 ? '' : 's'}.`,
    `**Why:** ${d.reason ?? 'unknown'}: ${d.error ?? ''}`.trim(),
    `**Notification:** ${title}`,
    `List dead letters with \`GET /api/flowwatch/v1/notifications?state=dead\`; send this one again with \`POST /api/flowwatch/v1/notifications/${d.job_id ?? '?'}/retry\`.`,
  ].join('\n\n');
  return {
    ...event,
    // Distinct from the alert's cycle ($ALERT_CYCLE_KEY): the notice is a thing of its own.
    group_key: job.group_key,
    at: job.created_at,
    body: {
      transition: 'Delivery failed',
      from: 'OK',
      to: 'Alert',
      cause: 'dead_letter',
      notify: true,
      muted: false,
      value: null,
      first_triggered_at: job.created_at,
      last_triggered_at: job.created_at,
      monitor: b.monitor ?? { id: event.monitor_id },
      group: b.group ?? {},
      title: `[Flowwatch] Notification to ${d.handle ?? 'a recipient'} failed: ${title}`,
      message,
      handles: [],
      log_link: b.log_link,
      dead_letter: d,
    },
  };
}
