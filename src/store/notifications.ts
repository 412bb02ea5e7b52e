// What the notification layer stores: webhook definitions (Datadog's webhooks integration) and the delivery
// outbox, one job per (monitor event, recipient handle). Every store offers it as `Store.notifications`;
// notification-conformance.ts is the suite each implementation passes.
import type { MonitorEventRecord } from './store.ts';

/** A webhook as Datadog's integration API defines it (`@webhook-NAME`). */
export interface WebhookRecord {
  name: string;
  /** the URL as given, credentials included (the API masks them) */
  url: string;
  /** the payload template; null = Datadog's default payload */
  payload: string | null;
  /** a JSON object of headers, as a string; null = none */
  custom_headers: string | null;
  encode_as: 'json' | 'form';
  created_at: number;
  modified_at: number;
}

/** Where a job stands: waiting (first try or a retry), delivered, or given up (dead letter). */
export type JobState = 'pending' | 'delivered' | 'dead';

/**
 * What a job sends: one monitor event (`alert`), the summary of the alerts a bundling window held
 * (`summary`), or the notice to the fallback recipient that a job went to dead letter (`fallback`).
 */
export type JobKind = 'alert' | 'summary' | 'fallback';

/** One delivery: one recipient of one monitor event. */
export interface NotificationJob {
  id: number;
  /** `<event id>:<handle>`: a job is created once per event and recipient, however often dispatch runs */
  idempotency_key: string;
  event_id: number;
  monitor_id: number;
  group_key: string;
  /** the recipient as written in the message, `@webhook-ops` */
  handle: string;
  /** the channel the handle names (`webhook`, `slack`…; `unknown` when none does) */
  channel: string;
  state: JobState;
  attempts: number;
  created_at: number;
  /** when the next attempt is due (pending jobs) */
  next_attempt_at: number;
  /** past this time a failing job goes to dead letter */
  deadline_at: number;
  delivered_at: number | null;
  /** HTTP status of the last attempt, when there was a response */
  last_status: number | null;
  /** closed set of reasons (channel.ts), also a metrics label */
  last_reason: string | null;
  /** a sentence for people; never holds secrets */
  last_error: string | null;
  updated_at: number;
  kind: JobKind;
  /** an alert held by a bundling window: the summary job that delivers it (it stays pending until then) */
  bundle_id: number | null;
  /** summary: its window; fallback: what failed (job, handle, reason, error, title); never a secret */
  detail: Record<string, unknown> | null;
}

/** A job with the event it delivers. */
export interface DueJob {
  job: NotificationJob;
  /** the event; for a summary the first alert it holds, for a fallback the event of the failed job */
  event: MonitorEventRecord;
  /** a summary's alerts, oldest first (the window is sealed when they are read: no alert joins later) */
  members?: MonitorEventRecord[];
}

/** An open bundling window of one recipient. */
export interface BundleWindow {
  id: number;
  opened_at: number;
  closes_at: number;
}

/** Whether a new job opens a bundling window (sent at once) or is held into an open one. */
export type BundlePlan = { kind: 'lead'; closes_at: number } | { kind: 'hold'; bundle_id: number };

/** A job to create for an event. */
export interface JobSpec {
  handle: string;
  channel: string;
  /** absent: sent on its own, as always */
  bundle?: BundlePlan;
}

/** What dispatch planning may ask the store, inside the dispatch transaction. */
export interface DispatchContext {
  /** the recipient's window still open at `now` (not yet sealed by its summary), if any */
  openBundle(handle: string, now: number): BundleWindow | undefined;
}

/** Jobs that tell the fallback recipients a job went to dead letter, made with the dead-letter record. */
export interface FallbackSpec {
  jobs: JobSpec[];
  deadline_at: number;
  detail: Record<string, unknown>;
}

/** The outcome of one attempt, as the worker records it. */
export type AttemptRecord =
  | { kind: 'delivered'; at: number; status: number | null }
  | {
      kind: 'retry';
      at: number;
      next_attempt_at: number;
      status: number | null;
      reason: string;
      error: string;
    }
  | {
      kind: 'dead';
      at: number;
      status: number | null;
      reason: string;
      error: string;
      /** notify these recipients, in the same transaction (never for a fallback job: no loops) */
      fallback?: FallbackSpec;
    };

/** Storage of webhooks and delivery jobs. */
export interface NotificationStore {
  listWebhooks(): Promise<WebhookRecord[]>;
  /** By name, case-insensitively (handles are matched the same way). */
  getWebhook(name: string): Promise<WebhookRecord | undefined>;
  /** Adds a webhook; false when one with that name (any case) exists. */
  insertWebhook(w: WebhookRecord): Promise<boolean>;
  /** Replaces the webhook named `name` (it may be renamed); 'missing' or 'conflict' (new name taken). */
  replaceWebhook(name: string, w: WebhookRecord): Promise<'ok' | 'missing' | 'conflict'>;
  deleteWebhook(name: string): Promise<boolean>;
  /**
   * Turns monitor events not yet dispatched (oldest first, at most `limit`) into jobs, in one transaction:
   * each event is marked dispatched (`delivered_at`) together with the creation of its jobs, so a crash
   * loses no event and creates no job twice (the idempotency key is unique). A job planned as a bundle
   * `lead` opens the recipient's window; one planned `hold` joins the window's summary job (created with
   * the first held alert, due when the window closes). Returns the events handled.
   */
  dispatchEvents(
    limit: number,
    now: number,
    plan: (e: MonitorEventRecord, ctx: DispatchContext) => { jobs: JobSpec[]; deadline_at: number },
  ): Promise<number>;
  /**
   * Pending jobs due at `now`, oldest first, only the head of each queue (handle, monitor, group), so
   * one recipient gets one alert's transitions in order; `busyQueues` are skipped (in flight).
   */
  dueJobs(now: number, limit: number, busyQueues: ReadonlySet<string>): Promise<DueJob[]>;
  /** The earliest next_attempt_at of the pending heads of queues, or null. */
  nextDue(): Promise<number | null>;
  /** Records one attempt's outcome (a summary's alerts follow it: delivered or dead with it). */
  recordAttempt(id: number, r: AttemptRecord): Promise<void>;
  /** Jobs newest first, filtered by state and monitor. */
  listJobs(q: {
    state?: JobState;
    limit: number;
    beforeId?: number;
    monitorId?: number;
  }): Promise<NotificationJob[]>;
  getJob(id: number): Promise<NotificationJob | undefined>;
  /** Makes a pending or dead job due now with a fresh deadline and attempt count (a summary takes its alerts
   * along; an alert held by a summary is not sent on its own); the job after, or undefined. */
  retryJob(id: number, now: number, deadline_at: number): Promise<NotificationJob | undefined>;
  /**
   * A later state of the same group that would make a retry of job `id` arrive out of order: the newest job
   * after it in its queue (recipient, monitor, group) — for a summary, in the queue of any alert it holds —
   * that was delivered, or that is held in another bundle (sent when that window closes, whatever the
   * queue's order). A later plain pending job is not one: the queue still sends the retried job first.
   */
  newerJob(id: number): Promise<NotificationJob | undefined>;
  /** Jobs per state (metrics). */
  countJobs(): Promise<Record<JobState, number>>;
  /**
   * Of each queue (recipient, group) of a monitor on the given channels, the newest job not in dead letter,
   * with its event: what each recipient last accepted (or will) about each group, e.g. an open incident.
   */
  lastJobs(monitorId: number, channels: readonly string[]): Promise<DueJob[]>;
  /**
   * Removes delivery history older than `before` (retention), at most `limit` rows of each kind, and says
   * how many of each went. A job goes when it is old, not pending, no pending alert waits for it (summary)
   * and it cannot be what lastJobs must still find (an incident may be open): it is dead, a summary or a
   * fallback notice, a later job of its queue was delivered, or it delivered a recovery (`to: OK`). An
   * event goes when it is old, dispatched, and no job delivers it any more; a bundling window when closed.
   */
  pruneHistory(before: number, limit: number): Promise<{ jobs: number; events: number; bundles: number }>;
}

/** The queue a job belongs to: its transitions are delivered in order. */
export function queueKey(j: Pick<NotificationJob, 'handle' | 'monitor_id' | 'group_key'>): string {
  return `${j.handle.toLowerCase()}\n${j.monitor_id}\n${j.group_key}`;
}
