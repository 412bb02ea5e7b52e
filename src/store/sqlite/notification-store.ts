// SQLite side of the notification store: webhooks and the delivery outbox, on the main connection
// (small, synchronous writes; log writes stay on the writer thread).
import type Database from 'better-sqlite3';
import {
  type AttemptRecord,
  type DueJob,
  type JobState,
  type NotificationJob,
  type NotificationStore,
  queueKey,
  type WebhookRecord,
} from '../notifications.ts';
import type { MonitorEventRecord } from '../store.ts';

type EventRow = Omit<MonitorEventRecord, 'body'> & { body: string };
type JobRow = Omit<NotificationJob, 'idempotency_key'> & { idem_key: string; queue_key: string };

const JOB_COLUMNS = `id, idem_key, event_id, monitor_id, group_key, handle, channel, state, attempts, created_at,
  next_attempt_at, deadline_at, delivered_at, last_status, last_reason, last_error, updated_at, queue_key`;

function toJob(r: JobRow): NotificationJob {
  const { idem_key, queue_key: _q, ...rest } = r;
  return { ...rest, idempotency_key: idem_key };
}

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
    plan: (e: MonitorEventRecord) => { jobs: { handle: string; channel: string }[]; deadline_at: number },
  ): Promise<number> {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT id, monitor_id, group_key, at, body, delivered_at FROM monitor_events
           WHERE delivered_at IS NULL ORDER BY id LIMIT ?`,
        )
        .all(limit) as EventRow[];
      const add = this.db.prepare(
        `INSERT INTO notification_jobs (idem_key, event_id, monitor_id, group_key, handle, channel, state, attempts,
           created_at, next_attempt_at, deadline_at, updated_at, queue_key)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`,
      );
      const mark = this.db.prepare('UPDATE monitor_events SET delivered_at = ? WHERE id = ?');
      for (const r of rows) {
        const event = { ...r, body: JSON.parse(r.body) as Record<string, unknown> };
        const p = plan(event);
        for (const j of p.jobs) {
          const key = queueKey({ handle: j.handle, monitor_id: r.monitor_id, group_key: r.group_key });
          add.run(
            `${r.id}:${j.handle.toLowerCase()}`,
            r.id,
            r.monitor_id,
            r.group_key,
            j.handle,
            j.channel,
            now,
            now,
            p.deadline_at,
            now,
            key,
          );
        }
        mark.run(now, r.id);
      }
      return rows.length;
    })();
  }

  async dueJobs(now: number, limit: number, busyQueues: ReadonlySet<string>): Promise<DueJob[]> {
    // The head of each queue (its oldest pending job), when due.
    const rows = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS.replace(/(\w+)/g, 'j.$1')} FROM notification_jobs j
         WHERE j.state = 'pending' AND j.next_attempt_at <= @now
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
        ? { ...e, body: JSON.parse(e.body) as Record<string, unknown> }
        : {
            id: r.event_id,
            monitor_id: r.monitor_id,
            group_key: r.group_key,
            at: 0,
            body: {},
            delivered_at: null,
          };
      return { job: toJob(r), event };
    });
  }

  async nextDue(): Promise<number | null> {
    const r = this.db
      .prepare(
        `SELECT min(j.next_attempt_at) AS t FROM notification_jobs j WHERE j.state = 'pending'
         AND NOT EXISTS (SELECT 1 FROM notification_jobs p
                         WHERE p.queue_key = j.queue_key AND p.state = 'pending' AND p.id < j.id)`,
      )
      .get() as { t: number | null };
    return r.t;
  }

  async recordAttempt(id: number, r: AttemptRecord): Promise<void> {
    if (r.kind === 'delivered') {
      this.db
        .prepare(
          `UPDATE notification_jobs SET state = 'delivered', attempts = attempts + 1, delivered_at = @at,
           last_status = @status, last_reason = NULL, last_error = NULL, updated_at = @at WHERE id = @id`,
        )
        .run({ id, at: r.at, status: r.status });
    } else if (r.kind === 'retry') {
      this.db
        .prepare(
          `UPDATE notification_jobs SET attempts = attempts + 1, next_attempt_at = @next, last_status = @status,
           last_reason = @reason, last_error = @error, updated_at = @at WHERE id = @id AND state = 'pending'`,
        )
        .run({ id, at: r.at, next: r.next_attempt_at, status: r.status, reason: r.reason, error: r.error });
    } else {
      this.db
        .prepare(
          `UPDATE notification_jobs SET state = 'dead', attempts = attempts + 1, last_status = @status,
           last_reason = @reason, last_error = @error, updated_at = @at WHERE id = @id AND state = 'pending'`,
        )
        .run({ id, at: r.at, status: r.status, reason: r.reason, error: r.error });
    }
  }

  async listJobs(q: { state?: JobState; limit: number; beforeId?: number }): Promise<NotificationJob[]> {
    const rows = this.db
      .prepare(
        `SELECT ${JOB_COLUMNS} FROM notification_jobs
         WHERE (@s IS NULL OR state = @s) AND (@b IS NULL OR id < @b) ORDER BY id DESC LIMIT @limit`,
      )
      .all({ s: q.state ?? null, b: q.beforeId ?? null, limit: q.limit }) as JobRow[];
    return rows.map(toJob);
  }

  async getJob(id: number): Promise<NotificationJob | undefined> {
    const r = this.db.prepare(`SELECT ${JOB_COLUMNS} FROM notification_jobs WHERE id = ?`).get(id) as
      | JobRow
      | undefined;
    return r ? toJob(r) : undefined;
  }

  async retryJob(id: number, now: number, deadline_at: number): Promise<NotificationJob | undefined> {
    this.db
      .prepare(
        `UPDATE notification_jobs SET state = 'pending', attempts = 0, next_attempt_at = @now,
         deadline_at = @deadline, updated_at = @now WHERE id = @id AND state IN ('pending', 'dead')`,
      )
      .run({ id, now, deadline: deadline_at });
    return this.getJob(id);
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
}
