// SQLite side of the notification store: webhooks and the delivery outbox, on the main connection
// (small, synchronous writes; log writes stay on the writer thread).
import type Database from 'better-sqlite3';
import {
  type AttemptRecord,
  type BundleWindow,
  type DispatchContext,
  type DueJob,
  type FallbackSpec,
  type JobSpec,
  type JobState,
  type NotificationJob,
  type NotificationStore,
  queueKey,
  type WebhookRecord,
} from '../notifications.ts';
import type { MonitorEventRecord } from '../store.ts';

type EventRow = Omit<MonitorEventRecord, 'body'> & { body: string };
type JobRow = Omit<NotificationJob, 'idempotency_key' | 'detail'> & {
  idem_key: string;
  queue_key: string;
  detail: string | null;
};

const JOB_COLUMNS = `id, idem_key, event_id, monitor_id, group_key, handle, channel, state, attempts, created_at,
  next_attempt_at, deadline_at, delivered_at, last_status, last_reason, last_error, updated_at, queue_key,
  kind, bundle_id, detail`;

function toJob(r: JobRow): NotificationJob {
  const { idem_key, queue_key: _q, detail, ...rest } = r;
  return {
    ...rest,
    idempotency_key: idem_key,
    detail: detail === null ? null : (JSON.parse(detail) as Record<string, unknown>),
  };
}

function toEvent(e: EventRow): MonitorEventRecord {
  return { ...e, body: JSON.parse(e.body) as Record<string, unknown> };
}

const INSERT_JOB = `INSERT INTO notification_jobs (idem_key, event_id, monitor_id, group_key, handle, channel, state,
    attempts, created_at, next_attempt_at, deadline_at, updated_at, queue_key, kind, bundle_id, detail)
  VALUES (@idem_key, @event_id, @monitor_id, @group_key, @handle, @channel, 'pending', 0, @now, @next, @deadline,
    @now, @queue_key, @kind, @bundle_id, @detail)
  ON CONFLICT (idem_key) DO NOTHING`;

/** Webhooks and jobs in the Flowwatch database. */
export class SqliteNotificationStore implements NotificationStore {
  constructor(private readonly db: Database.Database) {}

  async listWebhooks(): Promise<WebhookRecord[]> {
    return this.db.prepare('SELECT * FROM webhooks ORDER BY name').all() as WebhookRecord[];
  }

  async getWebhook(name: string): Promise<WebhookRecord | undefined> {
    return this.db.prepare('SELECT * FROM webhooks WHERE name = ?').get(name) as WebhookRecord | undefined;
  }

  async insertWebhook(w: WebhookRecord): Promise<boolean> {
    const r = this.db
      .prepare(
        `INSERT INTO webhooks (name, url, payload, custom_headers, encode_as, created_at, modified_at)
         VALUES (@name, @url, @payload, @custom_headers, @encode_as, @created_at, @modified_at)
         ON CONFLICT (name) DO NOTHING`,
      )
      .run(w);
    return r.changes > 0;
  }

  async replaceWebhook(name: string, w: WebhookRecord): Promise<'ok' | 'missing' | 'conflict'> {
    return this.db.transaction(() => {
      const current = this.db.prepare('SELECT name FROM webhooks WHERE name = ?').get(name) as
        | { name: string }
        | undefined;
      if (!current) return 'missing' as const;
      if (
        w.name.toLowerCase() !== current.name.toLowerCase() &&
        this.db.prepare('SELECT 1 FROM webhooks WHERE name = ?').get(w.name)
      )
        return 'conflict' as const;
      this.db
        .prepare(
          `UPDATE webhooks SET name = @name, url = @url, payload = @payload, custom_headers = @custom_headers,
           encode_as = @encode_as, modified_at = @modified_at WHERE name = @old`,
        )
        .run({ ...w, old: current.name });
      return 'ok' as const;
    })();
  }

  async deleteWebhook(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM webhooks WHERE name = ?').run(name).changes > 0;
  }

  async dispatchEvents(
    limit: number,
    now: number,
    plan: (e: MonitorEventRecord, ctx: DispatchContext) => { jobs: JobSpec[]; deadline_at: number },
  ): Promise<number> {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT id, monitor_id, group_key, at, body, delivered_at FROM monitor_events
           WHERE delivered_at IS NULL ORDER BY id LIMIT ?`,
        )
        .all(limit) as EventRow[];
      const add = this.db.prepare(INSERT_JOB);
      const mark = this.db.prepare('UPDATE monitor_events SET delivered_at = ? WHERE id = ?');
      const openQ = this.db.prepare(
        `SELECT id, opened_at, closes_at FROM notification_bundles
         WHERE handle_key = ? AND closes_at > ? AND sealed = 0 ORDER BY id DESC LIMIT 1`,
      );
      const ctx: DispatchContext = {
        openBundle: (handle, t) => openQ.get(handle.toLowerCase(), t) as BundleWindow | undefined,
      };
      for (const r of rows) {
        const event = toEvent(r);
        const p = plan(event, ctx);
        for (const j of p.jobs) {
          const handleKey = j.handle.toLowerCase();
          const job = {
            idem_key: `${r.id}:${handleKey}`,
            event_id: r.id,
            monitor_id: r.monitor_id,
            group_key: r.group_key,
            handle: j.handle,
            channel: j.channel,
            now,
            next: now,
            deadline: p.deadline_at,
            queue_key: queueKey({ handle: j.handle, monitor_id: r.monitor_id, group_key: r.group_key }),
            kind: 'alert',
            bundle_id: null as number | null,
            detail: null,
          };
          if (j.bundle?.kind === 'hold') {
            const summary = this.summaryOf(j.bundle.bundle_id, job, p.deadline_at - now, now);
            if (summary !== undefined) {
              job.bundle_id = summary.id;
              job.next = summary.next_attempt_at;
              job.deadline = Math.max(job.deadline, summary.deadline_at);
            }
          }
          const added = add.run(job);
          if (j.bundle?.kind === 'lead' && added.changes > 0)
            this.db
              .prepare(
                `INSERT INTO notification_bundles (handle_key, opened_at, closes_at, lead_job_id)
                 VALUES (?, ?, ?, ?)`,
              )
              .run(handleKey, now, j.bundle.closes_at, added.lastInsertRowid);
        }
        mark.run(now, r.id);
      }
      return rows.length;
    })();
  }

  /** The summary job of a bundling window, made with its first held alert (due when the window closes). */
  private summaryOf(
    bundleId: number,
    first: { event_id: number; monitor_id: number; group_key: string; handle: string; channel: string },
    deadLetterAfterMs: number,
    now: number,
  ): NotificationJob | undefined {
    const b = this.db
      .prepare('SELECT * FROM notification_bundles WHERE id = ? AND sealed = 0')
      .get(bundleId) as
      | {
          id: number;
          handle_key: string;
          opened_at: number;
          closes_at: number;
          summary_job_id: number | null;
        }
      | undefined;
    if (!b) return undefined;
    if (b.summary_job_id !== null) return this.getJobSync(b.summary_job_id);
    const r = this.db.prepare(INSERT_JOB).run({
      idem_key: `bundle:${b.id}:${b.handle_key}`,
      event_id: first.event_id,
      monitor_id: first.monitor_id,
      // Its own queue (queue_key is always queueKey of the job: the worker keeps queues busy by it).
      group_key: `bundle:${b.id}`,
      handle: first.handle,
      channel: first.channel,
      now,
      next: b.closes_at,
      deadline: b.closes_at + deadLetterAfterMs,
      queue_key: queueKey({
        handle: first.handle,
        monitor_id: first.monitor_id,
        group_key: `bundle:${b.id}`,
      }),
      kind: 'summary',
      bundle_id: null,
      detail: JSON.stringify({ bundle_id: b.id, opened_at: b.opened_at, closes_at: b.closes_at }),
    });
    const id = Number(r.lastInsertRowid);
    this.db.prepare('UPDATE notification_bundles SET summary_job_id = ? WHERE id = ?').run(id, b.id);
    return this.getJobSync(id);
  }

  private getJobSync(id: number): NotificationJob | undefined {
    const r = this.db.prepare(`SELECT ${JOB_COLUMNS} FROM notification_jobs WHERE id = ?`).get(id) as
      | JobRow
      | undefined;
    return r ? toJob(r) : undefined;
  }

  async dueJobs(now: number, limit: number, busyQueues: ReadonlySet<string>): Promise<DueJob[]> {
    // The head of each queue (its oldest pending job), when due. An alert held by a bundling window is
    // sent by its summary, never on its own, but still heads its queue (a recovery waits behind it).
    const rows = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS.replace(/(\w+)/g, 'j.$1')} FROM notification_jobs j
         WHERE j.state = 'pending' AND j.next_attempt_at <= @now AND j.bundle_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM notification_jobs p
                           WHERE p.queue_key = j.queue_key AND p.state = 'pending' AND p.id < j.id)
         ORDER BY j.next_attempt_at, j.id LIMIT @limit`,
      )
      .all({ now, limit: limit + busyQueues.size }) as JobRow[];
    const picked = rows.filter((r) => !busyQueues.has(r.queue_key)).slice(0, limit);
    const ev = this.db.prepare(
      'SELECT id, monitor_id, group_key, at, body, delivered_at FROM monitor_events WHERE id = ?',
    );
    return picked.map((r) => {
      const e = ev.get(r.event_id) as EventRow | undefined;
      const event: MonitorEventRecord = e
        ? toEvent(e)
        : {
            id: r.event_id,
            monitor_id: r.monitor_id,
            group_key: r.group_key,
            at: 0,
            body: {},
            delivered_at: null,
          };
      const due: DueJob = { job: toJob(r), event };
      if (r.kind === 'summary') due.members = this.sealSummary(r.id);
      return due;
    });
  }

  /** Closes a summary's window to new alerts and reads the alerts it holds, oldest first. */
  private sealSummary(summaryId: number): MonitorEventRecord[] {
    return this.db.transaction(() => {
      this.db.prepare('UPDATE notification_bundles SET sealed = 1 WHERE summary_job_id = ?').run(summaryId);
      const rows = this.db
        .prepare(
          `SELECT e.id, e.monitor_id, e.group_key, e.at, e.body, e.delivered_at
           FROM notification_jobs j JOIN monitor_events e ON e.id = j.event_id
           WHERE j.bundle_id = ? ORDER BY j.id`,
        )
        .all(summaryId) as EventRow[];
      return rows.map(toEvent);
    })();
  }

  async nextDue(): Promise<number | null> {
    const r = this.db
      .prepare(
        `SELECT min(j.next_attempt_at) AS t FROM notification_jobs j WHERE j.state = 'pending'
         AND j.bundle_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM notification_jobs p
                         WHERE p.queue_key = j.queue_key AND p.state = 'pending' AND p.id < j.id)`,
      )
      .get() as { t: number | null };
    return r.t;
  }

  async recordAttempt(id: number, r: AttemptRecord): Promise<void> {
    this.db.transaction(() => {
      if (r.kind === 'delivered') {
        this.db
          .prepare(
            `UPDATE notification_jobs SET state = 'delivered', attempts = attempts + 1, delivered_at = @at,
             last_status = @status, last_reason = NULL, last_error = NULL, updated_at = @at WHERE id = @id`,
          )
          .run({ id, at: r.at, status: r.status });
        // The alerts a summary held are delivered with it.
        this.db
          .prepare(
            `UPDATE notification_jobs SET state = 'delivered', delivered_at = @at, updated_at = @at,
             last_reason = NULL, last_error = NULL WHERE bundle_id = @id AND state = 'pending'`,
          )
          .run({ id, at: r.at });
      } else if (r.kind === 'retry') {
        this.db
          .prepare(
            `UPDATE notification_jobs SET attempts = attempts + 1, next_attempt_at = @next, last_status = @status,
             last_reason = @reason, last_error = @error, updated_at = @at WHERE id = @id AND state = 'pending'`,
          )
          .run({ id, at: r.at, next: r.next_attempt_at, status: r.status, reason: r.reason, error: r.error });
        this.db
          .prepare(
            `UPDATE notification_jobs SET next_attempt_at = @next, updated_at = @at
             WHERE bundle_id = @id AND state = 'pending'`,
          )
          .run({ id, at: r.at, next: r.next_attempt_at });
      } else {
        const changed = this.db
          .prepare(
            `UPDATE notification_jobs SET state = 'dead', attempts = attempts + 1, last_status = @status,
             last_reason = @reason, last_error = @error, updated_at = @at WHERE id = @id AND state = 'pending'`,
          )
          .run({ id, at: r.at, status: r.status, reason: r.reason, error: r.error }).changes;
        // The alerts of a dead summary are dead with it (their queues move on; a retry takes them along).
        this.db
          .prepare(
            `UPDATE notification_jobs SET state = 'dead', last_reason = @reason, updated_at = @at,
             last_error = @error WHERE bundle_id = @id AND state = 'pending'`,
          )
          .run({
            id,
            at: r.at,
            reason: r.reason,
            error: `held for summary job ${id}, which failed: ${r.error}`,
          });
        if (changed > 0 && r.fallback) this.addFallback(id, r.at, r.fallback);
      }
    })();
  }

  /** The fallback recipients' jobs for a job gone to dead letter (at most once per job and recipient). */
  private addFallback(deadId: number, now: number, f: FallbackSpec): void {
    const dead = this.getJobSync(deadId);
    if (!dead || dead.kind === 'fallback') return; // never a fallback of a fallback
    const add = this.db.prepare(INSERT_JOB);
    for (const j of f.jobs) {
      const handleKey = j.handle.toLowerCase();
      add.run({
        idem_key: `fallback:${deadId}:${handleKey}`,
        event_id: dead.event_id,
        monitor_id: dead.monitor_id,
        group_key: `dead-letter:${deadId}`,
        handle: j.handle,
        channel: j.channel,
        now,
        next: now,
        deadline: f.deadline_at,
        queue_key: queueKey({
          handle: j.handle,
          monitor_id: dead.monitor_id,
          group_key: `dead-letter:${deadId}`,
        }),
        kind: 'fallback',
        bundle_id: null,
        detail: JSON.stringify(f.detail),
      });
    }
  }

  async listJobs(q: {
    state?: JobState;
    limit: number;
    beforeId?: number;
    monitorId?: number;
  }): Promise<NotificationJob[]> {
    const rows = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS} FROM notification_jobs
         WHERE (@s IS NULL OR state = @s) AND (@b IS NULL OR id < @b) AND (@m IS NULL OR monitor_id = @m)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ s: q.state ?? null, b: q.beforeId ?? null, m: q.monitorId ?? null, limit: q.limit }) as JobRow[];
    return rows.map(toJob);
  }

  async getJob(id: number): Promise<NotificationJob | undefined> {
    const r = this.db.prepare(`SELECT ${JOB_COLUMNS} FROM notification_jobs WHERE id = ?`).get(id) as
      | JobRow
      | undefined;
    return r ? toJob(r) : undefined;
  }

  async retryJob(id: number, now: number, deadline_at: number): Promise<NotificationJob | undefined> {
    this.db.transaction(() => {
      const changed = this.db
        .prepare(
          `UPDATE notification_jobs SET state = 'pending', attempts = 0, next_attempt_at = @now,
           deadline_at = @deadline, updated_at = @now WHERE id = @id AND state IN ('pending', 'dead')
           AND bundle_id IS NULL`,
        )
        .run({ id, now, deadline: deadline_at }).changes;
      // A summary takes the alerts it holds along.
      if (changed > 0)
        this.db
          .prepare(
            `UPDATE notification_jobs SET state = 'pending', next_attempt_at = @now, deadline_at = @deadline,
             updated_at = @now WHERE bundle_id = @id AND state = 'dead'`,
          )
          .run({ id, now, deadline: deadline_at });
    })();
    return this.getJob(id);
  }

  async newerJob(id: number): Promise<NotificationJob | undefined> {
    const r = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS.replace(/(\w+)/g, 'n.$1')} FROM notification_jobs j
         JOIN notification_jobs n ON n.queue_key = j.queue_key AND n.id > j.id
           AND (n.state = 'delivered' OR (n.state = 'pending' AND n.bundle_id IS NOT NULL AND n.bundle_id != @id))
         WHERE j.id = @id OR j.bundle_id = @id ORDER BY n.id DESC LIMIT 1`,
      )
      .get({ id }) as JobRow | undefined;
    return r ? toJob(r) : undefined;
  }

  async countJobs(): Promise<Record<JobState, number>> {
    const out: Record<JobState, number> = { pending: 0, delivered: 0, dead: 0 };
    const rows = this.db
      .prepare('SELECT state, count(*) AS n FROM notification_jobs GROUP BY state')
      .all() as {
      state: JobState;
      n: number;
    }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  async pruneHistory(
    before: number,
    limit: number,
  ): Promise<{ jobs: number; events: number; bundles: number }> {
    const jobs = this.db.prepare(
      `DELETE FROM notification_jobs WHERE id IN (
         SELECT j.id FROM notification_jobs j
         WHERE j.state != 'pending' AND j.updated_at < @before
           AND (j.state = 'dead' OR j.kind IN ('summary', 'fallback')
             OR EXISTS (SELECT 1 FROM notification_jobs n
                 WHERE n.queue_key = j.queue_key AND n.id > j.id AND n.state = 'delivered')
             OR (SELECT json_extract(e.body, '$.to') FROM monitor_events e WHERE e.id = j.event_id) = 'OK')
           AND NOT EXISTS (SELECT 1 FROM notification_jobs p WHERE p.bundle_id = j.id AND p.state = 'pending')
         ORDER BY j.updated_at LIMIT @limit)`,
    );
    const events = this.db.prepare(
      `DELETE FROM monitor_events WHERE id IN (
         SELECT e.id FROM monitor_events e
         WHERE e.at < @before AND e.delivered_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM notification_jobs j WHERE j.event_id = e.id)
         ORDER BY e.at LIMIT @limit)`,
    );
    const bundles = this.db.prepare(
      `DELETE FROM notification_bundles WHERE id IN (
         SELECT b.id FROM notification_bundles b
         WHERE b.closes_at < @before
           AND NOT EXISTS (SELECT 1 FROM notification_jobs j WHERE j.id = b.summary_job_id AND j.state = 'pending')
         ORDER BY b.closes_at LIMIT @limit)`,
    );
    return this.db.transaction(() => {
      const args = { before, limit };
      // Jobs first: an event goes once no job delivers it any more.
      const j = jobs.run(args).changes;
      return { jobs: j, events: events.run(args).changes, bundles: bundles.run(args).changes };
    })();
  }

  async lastJobs(monitorId: number, channels: readonly string[]): Promise<DueJob[]> {
    // A scan of the monitor's jobs (no index on monitor_id): run on a monitor's delete or mute only.
    const rows = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS} FROM notification_jobs WHERE id IN (
           SELECT max(id) FROM notification_jobs
           WHERE monitor_id = ? AND state != 'dead' AND channel IN (SELECT value FROM json_each(?))
           GROUP BY queue_key)
         ORDER BY id`,
      )
      .all(monitorId, JSON.stringify(channels)) as JobRow[];
    const ev = this.db.prepare(
      'SELECT id, monitor_id, group_key, at, body, delivered_at FROM monitor_events WHERE id = ?',
    );
    return rows.flatMap((r) => {
      const e = ev.get(r.event_id) as EventRow | undefined;
      return e
        ? [{ job: toJob(r), event: { ...e, body: JSON.parse(e.body) as Record<string, unknown> } }]
        : [];
    });
  }
}
