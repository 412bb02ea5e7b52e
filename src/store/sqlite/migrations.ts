// Versioned schema migrations for the embedded SQLite store; applied in order, each in a transaction.
import type Database from 'better-sqlite3';
import type { Json } from '../../domain/log-event.ts';
import { complexPaths, fulltextValues, VALUE_SEPARATOR } from '../../search/values.ts';
import { ROLLUP_SQL } from './rollups.ts';

/** One schema change; never edit a released one, append a new version. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** data changes that need code, run after `sql` in the same transaction */
  run?: (db: Database.Database) => void;
}

/** Attribute paths users filter on; each gets an expression index (search compiles to the same expression). */
export const INDEXED_ATTRIBUTES = [
  'flow_name',
  'flow_id',
  'execution_id',
  'root_execution_id',
  'event_type',
] as const;

/** The SQL expression for a top-level attribute; queries must use exactly this text to hit the index. */
export function attributeExpr(name: string): string {
  return `json_extract(attributes, '$.${name}')`;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'logs and keys',
    sql: `
      CREATE TABLE logs (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        service TEXT,
        source TEXT,
        host TEXT,
        message TEXT NOT NULL,
        tags TEXT NOT NULL,
        trace_id TEXT,
        attributes BLOB NOT NULL,
        raw TEXT,
        dedup_key TEXT
      );
      CREATE INDEX logs_ts ON logs (ts, seq);
      CREATE UNIQUE INDEX logs_dedup ON logs (dedup_key);
      CREATE INDEX logs_status_ts ON logs (status, ts);
      CREATE INDEX logs_service_source_ts ON logs (service, source, ts);
      CREATE INDEX logs_trace_id ON logs (trace_id) WHERE trace_id IS NOT NULL;
      ${INDEXED_ATTRIBUTES.map(
        (a) =>
          `CREATE INDEX logs_attr_${a} ON logs (${attributeExpr(a)}, ts) WHERE ${attributeExpr(a)} IS NOT NULL;`,
      ).join('\n')}
      CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('api', 'app')),
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
    `,
  },
  {
    version: 2,
    name: 'search: full-text index, attribute path catalog, case-insensitive service index',
    sql: `
      CREATE VIRTUAL TABLE logs_fts USING fts5(
        message, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0'
      );
      CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN
        DELETE FROM logs_fts WHERE rowid = old.seq;
      END;
      CREATE TABLE attr_paths (path TEXT PRIMARY KEY) WITHOUT ROWID;
      DROP INDEX logs_service_source_ts;
      CREATE INDEX logs_service_ts ON logs (service COLLATE NOCASE, ts);
    `,
    run: (db) => {
      // Logs stored before this version get their full-text rows and catalog entries.
      const fts = db.prepare('INSERT INTO logs_fts (rowid, message, body) VALUES (?, ?, ?)');
      const path = db.prepare('INSERT OR IGNORE INTO attr_paths (path) VALUES (?)');
      const rows = db.prepare(
        'SELECT seq, service, source, host, status, trace_id, message, json(attributes) AS attributes FROM logs',
      );
      for (const r of rows.iterate() as Iterable<Record<string, string | number | null>>) {
        const attributes = JSON.parse(r.attributes as string) as Record<string, Json>;
        const e = { ...r, attributes } as unknown as Parameters<typeof fulltextValues>[0];
        fts.run(r.seq, r.message, fulltextValues(e).join(VALUE_SEPARATOR));
        for (const p of complexPaths(attributes) ?? []) path.run(p);
      }
    },
  },
  {
    version: 3,
    name: 'pipelines',
    sql: `
      CREATE TABLE pipelines (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        read_only INTEGER NOT NULL DEFAULT 0,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'monitors, their group states and their events (history and notification outbox)',
    sql: `
      CREATE TABLE monitors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
      CREATE TABLE monitor_groups (
        monitor_id INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
        group_key TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (monitor_id, group_key)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_events (
        id INTEGER PRIMARY KEY,
        monitor_id INTEGER NOT NULL,
        group_key TEXT NOT NULL,
        at INTEGER NOT NULL,
        body TEXT NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX monitor_events_monitor ON monitor_events (monitor_id, id);
      CREATE INDEX monitor_events_pending ON monitor_events (id) WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 7,
    name: 'downtimes',
    sql: `
      CREATE TABLE downtimes (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'hourly count rollups for analytics',
    sql: ROLLUP_SQL,
  },
  {
    version: 9,
    name: 'monitor notification rules',
    sql: `
      CREATE TABLE notification_rules (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'notifications: webhooks and the delivery outbox',
    // Events saved before this version were never meant to be delivered: they are marked dispatched so
    // an upgrade does not page for old history.
    sql: `
      CREATE TABLE webhooks (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        url TEXT NOT NULL,
        payload TEXT,
        custom_headers TEXT,
        encode_as TEXT NOT NULL CHECK (encode_as IN ('json', 'form')),
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL
      );
      CREATE TABLE notification_jobs (
        id INTEGER PRIMARY KEY,
        idem_key TEXT NOT NULL UNIQUE,
        event_id INTEGER NOT NULL,
        monitor_id INTEGER NOT NULL,
        group_key TEXT NOT NULL,
        handle TEXT NOT NULL,
        channel TEXT NOT NULL,
        queue_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        deadline_at INTEGER NOT NULL,
        delivered_at INTEGER,
        last_status INTEGER,
        last_reason TEXT,
        last_error TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX notification_jobs_due ON notification_jobs (next_attempt_at, id) WHERE state = 'pending';
      CREATE INDEX notification_jobs_queue ON notification_jobs (queue_key, id) WHERE state = 'pending';
      CREATE INDEX notification_jobs_state ON notification_jobs (state, id);
      UPDATE monitor_events SET delivered_at = at WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 11,
    // The writer adds each transaction's logs to the rollups in one grouped upsert (rollups.ts).
    name: 'rollups: batch upsert by the writer instead of a per-row insert trigger',
    sql: 'DROP TRIGGER IF EXISTS logs_rollup_insert;',
  },
  {
    version: 12,
    name: 'notifications: bundling windows, summary and dead-letter fallback jobs',
    // kind: alert (one event), summary (the alerts a window held), fallback (a dead letter's notice).
    // A held alert stays pending with bundle_id = its summary job, so a later recovery of the same group
    // waits behind it (queue order) until the summary is delivered or dead.
    sql: `
      ALTER TABLE notification_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'alert';
      ALTER TABLE notification_jobs ADD COLUMN bundle_id INTEGER;
      ALTER TABLE notification_jobs ADD COLUMN detail TEXT;
      CREATE INDEX notification_jobs_bundle ON notification_jobs (bundle_id) WHERE bundle_id IS NOT NULL;
      CREATE TABLE notification_bundles (
        id INTEGER PRIMARY KEY,
        handle_key TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        closes_at INTEGER NOT NULL,
        lead_job_id INTEGER,
        summary_job_id INTEGER,
        sealed INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX notification_bundles_open ON notification_bundles (handle_key, closes_at);
    `,
  },
  {
    version: 13,
    name: 'notifications: recipients of the integration APIs (PagerDuty, Slack, Opsgenie, Teams)',
    // One table for the four kinds (store/integrations.ts): a name is unique per kind and Slack account.
    sql: `
      CREATE TABLE integrations (
        kind TEXT NOT NULL CHECK (kind IN ('pagerduty', 'slack', 'opsgenie', 'teams')),
        id TEXT NOT NULL,
        scope TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE,
        secret TEXT,
        attributes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        modified_at INTEGER NOT NULL,
        PRIMARY KEY (kind, id),
        UNIQUE (kind, scope, name)
      );
    `,
  },
  {
    version: 14,
    name: 'notifications: indexes for pruning old delivery history with the logs',
    // Retention (store/retention.ts) removes jobs and events older than retention_days; these let it reach
    // the old rows, the jobs of an event and the newer jobs of a queue without scanning the tables (it runs
    // on the main thread's connection).
    sql: `
      CREATE INDEX notification_jobs_event ON notification_jobs (event_id);
      CREATE INDEX notification_jobs_queue_all ON notification_jobs (queue_key, id);
      CREATE INDEX notification_jobs_done ON notification_jobs (updated_at) WHERE state != 'pending';
      CREATE INDEX monitor_events_at ON monitor_events (at);
      CREATE INDEX notification_bundles_closes ON notification_bundles (closes_at);
    `,
  },
];

/** Applies every migration newer than the database's version; returns the versions applied. */
export function migrate(db: Database.Database): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const known = new Set(MIGRATIONS.map((m) => m.version));
  const unknown = [...done].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new Error(
      `the database schema has version ${Math.max(...unknown)}, which this Flowwatch (version ${
        MIGRATIONS.at(-1)?.version ?? 0
      }) does not know: upgrade Flowwatch`,
    );
  }
  // Every migration not yet recorded runs, in order (not only those above the highest recorded: versions
  // developed side by side may land in either order).
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
    applied.push(m.version);
  }
  return applied;
}
