// Group commit with a bounded queue: requests hand their logs here and are acknowledged only after the
// transaction that holds them has committed. Logs arriving while a commit runs go into the next one.
import { HttpError } from '../api/errors.ts';
import type { LogEvent } from '../domain/log-event.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { type EncodedLogs, type Store, StoreFullError, StoreUnavailableError } from '../store/store.ts';

interface Pending {
  encoded: EncodedLogs;
  /** kept only while someone listens to commits */
  events: LogEvent[] | undefined;
  resolve: (inserted: boolean[]) => void;
  reject: (err: Error) => void;
}

/** Largest number of logs in one transaction; bigger queues are committed in several. */
const MAX_BATCH = 1000;
/** Largest approximate size of one commit (the writer thread holds a whole batch in its small heap). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** Writes logs to the store in group commits; `submit` resolves once they are durable. */
export class LogWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private idle: (() => void)[] = [];
  private listeners: ((events: LogEvent[]) => void)[] = [];
  private failure: { error: HttpError; at: number } | undefined;

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly maxQueueEvents: number,
  ) {}

  /** Logs waiting for a commit. */
  get depth(): number {
    return this.queued;
  }

  /**
   * Why the last commit failed, if it failed within `withinMs` and none has succeeded since (readiness
   * reports it). It expires so that a balancer that stopped sending traffic lets some through again to
   * find out whether storage recovered.
   */
  lastFailure(withinMs = 30_000, now = Date.now()): HttpError | undefined {
    return this.failure && now - this.failure.at < withinMs ? this.failure.error : undefined;
  }

  /** True when a request of `n` logs would overflow the queue. */
  isFull(n = 1): boolean {
    return this.queued > 0 && this.queued + n > this.maxQueueEvents;
  }

  /** Called with the logs of every commit, in commit order (monitors and live tail subscribe here). */
  onCommit(listener: (events: LogEvent[]) => void): void {
    this.listeners.push(listener);
  }

  /** Queues logs for the next commit; rejects at once with 503 when the queue is full. */
  submit(events: LogEvent[]): Promise<boolean[]> {
    if (events.length === 0) return Promise.resolve([]);
    if (this.isFull(events.length)) {
      return Promise.reject(
        new HttpError(503, 'Service Unavailable: the intake queue is full, retry later', 1),
      );
    }
    return new Promise((resolve, reject) => {
      const encoded = this.store.encodeLogs(events);
      this.queue.push({ encoded, events: this.listeners.length > 0 ? events : undefined, resolve, reject });
      this.queued += events.length;
      this.metrics.queueDepth.set(this.queued);
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.run());
      }
    });
  }

  /** Resolves when every queued log has been committed (or failed). */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    let bytes = 0;
    for (;;) {
      const next = this.queue[0];
      if (!next) break;
      const fits = n + next.encoded.count <= MAX_BATCH && bytes + next.encoded.bytes <= MAX_BATCH_BYTES;
      if (n > 0 && !fits) break;
      this.queue.shift();
      n += next.encoded.count;
      bytes += next.encoded.bytes;
      batch.push(next);
    }
    this.queued -= n;
    return batch;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const count = batch.reduce((n, p) => n + p.encoded.count, 0);
      const end = this.metrics.commitSeconds.startTimer();
      try {
        const committing = this.store.appendEncoded(batch.map((p) => p.encoded));
        // The rows are with the store now (posted to the writer thread): this heap need not keep them.
        for (const p of batch) p.encoded = { count: p.encoded.count, bytes: p.encoded.bytes };
        const inserted = await committing;
        end();
        this.failure = undefined;
        this.metrics.commitBatch.observe(count);
        let i = 0;
        for (const p of batch) {
          const mine = inserted.slice(i, i + p.encoded.count);
          i += p.encoded.count;
          p.resolve(mine);
          const stored = p.events?.filter((_, k) => mine[k]);
          if (stored && stored.length > 0) for (const l of this.listeners) l(stored);
        }
      } catch (err) {
        end();
        const mapped = mapStoreError(err);
        this.failure = { error: mapped, at: Date.now() };
        this.metrics.storeErrors.inc({
          reason: mapped.status === 507 ? 'full' : mapped.status === 503 ? 'unavailable' : 'other',
        });
        for (const p of batch) p.reject(mapped);
      }
      this.metrics.queueDepth.set(this.queued);
    }
    this.running = false;
    for (const r of this.idle.splice(0)) r();
  }
}

/** Turns a store failure into the HTTP answer intake gives. */
export function mapStoreError(err: unknown): HttpError {
  if (err instanceof StoreFullError) {
    return new HttpError(
      507,
      'Insufficient Storage: the database is full; free disk space or raise max_db_size_mb',
      60,
    );
  }
  if (err instanceof StoreUnavailableError)
    return new HttpError(503, `Service Unavailable: ${err.message}`, 5);
  return new HttpError(500, `Internal Server Error: ${(err as Error).message}`, 5);
}
