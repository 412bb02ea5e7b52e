// The delivery worker of the outbox: sends due jobs through their channel, records each outcome in the
// database right after it, retries with exponential backoff and jitter on network errors, 5xx and 429
// (never sooner than Retry-After), gives up at once on other 4xx and unknown handles, and moves a job still
// failing at its deadline to dead letter. Jobs of one queue (recipient, monitor, group) go one at a time in
// order, so a recovery never overtakes its trigger. A restart resumes pending jobs from the database.
//
// At-least-once: a job is marked delivered right after the 2xx; a crash between the 2xx and that write
// (a few milliseconds) sends it again at the next start. Receivers can de-duplicate on Idempotency-Key.
import type { Logger } from 'pino';
import { type DueJob, type NotificationStore, queueKey } from '../store/notifications.ts';
import { summaryEvent } from './bundle.ts';
import type { ChannelRegistry, SendResult } from './channel.ts';
import { type DeadLetterDetail, fallbackEvent, fallbackJobs } from './dead-letter.ts';
import type { NotifyMetrics } from './metrics.ts';

/** Retry policy. */
export interface RetryPolicy {
  /** first retry delay; doubles each attempt */
  baseMs: number;
  /** largest delay between attempts */
  maxMs: number;
}

export interface DeliveryWorkerOptions {
  store: NotificationStore;
  registry: ChannelRegistry;
  metrics?: NotifyMetrics;
  logger?: Logger;
  retry: RetryPolicy;
  /** sends at once */
  concurrency?: number;
  /** longest wait between two looks at the table (jobs made or retried by another process) */
  pollMs?: number;
  /** recipients told when a job goes to dead letter (`notifications.dead_letter.notify`), read each time */
  deadLetterNotify?: () => readonly string[];
  /** how long a fallback job may keep failing */
  deadLetterAfterMs?: number;
  now?: () => number;
  random?: () => number;
}

/** The event a job sends: its monitor event, the summary of a bundle, or a dead-letter notice. */
export function eventOf(d: DueJob): DueJob['event'] {
  if (d.job.kind === 'summary') return summaryEvent(d.job, d.members ?? []);
  if (d.job.kind === 'fallback') return fallbackEvent(d.job, d.event);
  return d.event;
}

/** Delay before attempt `attempts + 1`: exponential, capped, with equal jitter (half fixed, half random). */
export function backoffMs(attempts: number, p: RetryPolicy, random: () => number): number {
  const d = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/** Sends due jobs; `wake()` after new jobs, `stop()` to finish. */
export class DeliveryWorker {
  private readonly inflight = new Map<
    number,
    { queue: string; abort: AbortController; done: Promise<void> }
  >();
  private readonly busyQueues = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private again = false;
  private stopping = false;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** Looks for due jobs now. */
  wake(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((err: unknown) => this.o.logger?.error({ err }, 'notification delivery loop failed'))
      .finally(() => {
        this.pumping = false;
        if (this.again) this.wake();
        else this.schedule();
      });
  }

  /** Stops taking jobs; waits up to `graceMs` for sends in flight, then aborts them (they stay pending). */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const all = () => Promise.all([...this.inflight.values()].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    await Promise.race([all(), grace]);
    clearTimeout(timer);
    for (const f of this.inflight.values()) f.abort.abort();
    await all();
  }

  private async pump(): Promise<void> {
    const limit = this.o.concurrency ?? 8;
    do {
      this.again = false;
      const free = limit - this.inflight.size;
      if (free <= 0 || this.stopping) return;
      const due = await this.o.store.dueJobs(this.now(), free, this.busyQueues);
      for (const d of due) this.start(d);
      if (due.length === free) this.again = true;
    } while (this.again && !this.stopping);
  }

  private schedule(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    const poll = this.o.pollMs ?? 1000;
    this.o.store
      .nextDue()
      .then((next) => {
        if (this.stopping) return;
        const wait = next === null || next <= this.now() ? poll : Math.min(poll, next - this.now());
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.wake(), wait);
        this.timer.unref();
      })
      .catch((err: unknown) => this.o.logger?.error({ err }, 'notification scheduling failed'));
  }

  private start(d: DueJob): void {
    const queue = queueKey(d.job);
    const abort = new AbortController();
    this.busyQueues.add(queue);
    let failed = false;
    const done = this.attempt(d, abort.signal)
      .catch((err: unknown) => {
        failed = true;
        this.o.logger?.error({ err, job_id: d.job.id }, 'notification attempt failed');
      })
      .finally(() => {
        this.inflight.delete(d.job.id);
        this.busyQueues.delete(queue);
        // After a failure (e.g. the database refused the record) the job waits for the next poll: waking
        // now would take it again at once, in a loop of promises that starves the event loop.
        if (failed) this.schedule();
        else this.wake();
      });
    this.inflight.set(d.job.id, { queue, abort, done });
  }

  private async attempt(due: DueJob, signal: AbortSignal): Promise<void> {
    const { job } = due;
    const { channel, name } = this.o.registry.resolve(job.handle);
    const started = this.now();
    let event = due.event;
    let r: SendResult;
    try {
      event = eventOf(due);
      r = channel
        ? await channel.send({
            handle: job.handle.replace(/^@/, ''),
            event,
            idempotencyKey: job.idempotency_key,
            signal,
          })
        : {
            ok: false,
            retryable: false,
            reason: 'unknown_channel',
            detail: `no channel delivers ${name === 'email' ? 'email' : `"${job.handle}"`} handles yet`,
          };
    } catch (err) {
      // A bug (channels return failures, never throw): recorded and dead-lettered, so the job neither
      // comes back at once in a loop that starves the server nor disappears.
      r = {
        ok: false,
        retryable: false,
        reason: 'bad_config',
        detail: `Flowwatch could not build or send this notification: ${(err as Error)?.message ?? String(err)}`,
      };
    }
    // Stopping: a send cut short stays pending and is sent again at the next start; one the receiver
    // accepted is recorded below like any other (else the next start would send it a second time).
    if (signal.aborted && !r.ok) return;
    const at = this.now();
    const m = this.o.metrics;
    if (channel) m?.sendSeconds.observe({ channel: name }, (at - started) / 1000);
    if (r.ok) {
      await this.o.store.recordAttempt(job.id, { kind: 'delivered', at, status: r.status });
      m?.deliveries.inc({ channel: name, outcome: 'delivered' });
      m?.latencySeconds.observe({ channel: name }, Math.max(0, at - event.at) / 1000);
      this.o.logger?.info(
        { job_id: job.id, handle: job.handle, event_id: event.id },
        'notification delivered',
      );
      return;
    }
    const status = r.status ?? null;
    let next = at + Math.max(backoffMs(job.attempts + 1, this.o.retry, this.random), r.retryAfterMs ?? 0);
    if (r.retryable && at < job.deadline_at) {
      next = Math.min(next, job.deadline_at);
      await this.o.store.recordAttempt(job.id, {
        kind: 'retry',
        at,
        next_attempt_at: next,
        status,
        reason: r.reason,
        error: r.detail,
      });
      m?.deliveries.inc({ channel: name, outcome: 'retried' });
      this.o.logger?.warn(
        { job_id: job.id, handle: job.handle, reason: r.reason, retry_in_ms: next - at },
        `notification failed, will retry: ${r.detail}`,
      );
      return;
    }
    const reason = r.retryable ? 'expired' : r.reason;
    const error = r.retryable
      ? `still failing at the deadline after ${job.attempts + 1} attempts: ${r.detail}`
      : r.detail;
    // Watch the watcher: the fallback recipients are told, in the same write (never for a fallback job).
    const notify = fallbackJobs(job, this.o.deadLetterNotify?.() ?? [], this.o.registry);
    const detail: DeadLetterDetail = {
      job_id: job.id,
      handle: job.handle,
      channel: name,
      kind: job.kind,
      reason,
      error,
      status,
      attempts: job.attempts + 1,
      title: typeof event.body.title === 'string' ? event.body.title : '',
    };
    const fallback =
      notify.length > 0
        ? { jobs: notify, deadline_at: at + (this.o.deadLetterAfterMs ?? 3_600_000), detail: { ...detail } }
        : undefined;
    await this.o.store.recordAttempt(job.id, { kind: 'dead', at, status, reason, error, fallback });
    m?.deliveries.inc({ channel: name, outcome: 'dead' });
    m?.deadLetters.inc({ channel: name, reason });
    for (const f of notify) m?.fallbacks.inc({ channel: f.channel });
    this.o.logger?.error(
      { job_id: job.id, handle: job.handle, reason },
      `notification dead-lettered: ${error}`,
    );
  }
}
