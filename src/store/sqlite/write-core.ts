// The SQLite write path (appends, retention deletes, checkpoints) on its own connection. It runs in the
// writer worker thread so that commits, index maintenance and WAL checkpoints never block the event loop;
// the same code runs inline when a caller asks for no worker (the CLI, some tests).
import Database from 'better-sqlite3';
import type { LogEvent } from '../../domain/log-event.ts';
import { complexPaths, fulltextValues, VALUE_SEPARATOR } from '../../search/values.ts';
import { ROLLUP_BATCH_SQL } from './rollups.ts';

/** One log as the insert statement takes it (tags and attributes already serialised as JSON). */
export type InsertRow = [
  ts: number,
  received_at: number,
  status: string,
  service: string | null,
  source: string | null,
  host: string | null,
  message: string,
  tags: string,
  trace_id: string | null,
  attributes: string,
  raw: string | null,
  dedup_key: string | null,
  /** the full-text column of the values (search/values.fulltextValues) */
  fts_body: string,
  /** attribute paths for the catalog of array-aware paths, if any */
  complex_paths: string[] | null,
];

/** Options of the write connection. */
export interface WriteOptions {
  file: string;
  fsyncOnCommit?: boolean;
  maxSizeMb?: number;
  /** another thread checkpoints the WAL (the worker setup); otherwise commits checkpoint as SQLite does by default */
  separateCheckpoints?: boolean;
}

/** How often the checkpointer copies the WAL into the database. */
export const CHECKPOINT_INTERVAL_MS = 500;

/** Checkpoints the WAL periodically on its own connection (PASSIVE: never blocks the writer). */
export function startCheckpointer(file: string, intervalMs = CHECKPOINT_INTERVAL_MS): () => void {
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A busy or failing checkpoint is retried at the next tick; the WAL keeps every commit meanwhile.
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
    db.close();
  };
}

/** Serialises a LogEvent for the insert statement (done on the caller's thread, strings clone cheaply). */
export function toInsertRow(e: LogEvent): InsertRow {
  return [
    e.timestamp,
    e.received_at,
    e.status,
    e.service,
    e.source,
    e.host,
    e.message,
    JSON.stringify(e.tags),
    e.trace_id,
    JSON.stringify(e.attributes),
    e.raw,
    e.dedup_key,
    fulltextValues(e).join(VALUE_SEPARATOR),
    complexPaths(e.attributes),
  ];
}

/** Opens the write connection on an already migrated database. */
export function openWriteConnection(opts: WriteOptions) {
  const db = new Database(opts.file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.fsyncOnCommit ? 'FULL' : 'NORMAL'}`);
  // Checkpoints (which fsync) run on their own thread (startCheckpointer) so that commits never wait for them.
  if (opts.separateCheckpoints) db.pragma('wal_autocheckpoint = 0');
  if (opts.maxSizeMb) {
    // max_page_count is per connection: the cap must be set on the connection that writes.
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.floor((opts.maxSizeMb * 1024 * 1024) / pageSize)}`);
  }
  const insert = db.prepare(
    `INSERT INTO logs (ts, received_at, status, service, source, host, message, tags, trace_id, attributes, raw, dedup_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, jsonb(?), ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
  );
  const del = db.prepare(
    'DELETE FROM logs WHERE seq IN (SELECT seq FROM logs WHERE ts < ? ORDER BY ts LIMIT ?)',
  );
  const fts = db.prepare('INSERT INTO logs_fts (rowid, message, body) VALUES (?, ?, ?)');
  const path = db.prepare('INSERT OR IGNORE INTO attr_paths (path) VALUES (?)');
  const rollup = db.prepare(ROLLUP_BATCH_SQL);
  const append = db.transaction((rows: InsertRow[]) => {
    // The rows inserted here get consecutive seqs above every stored one (one writer, no AUTOINCREMENT gaps).
    let first = 0;
    let last = 0;
    const inserted = rows.map((r) => {
      const res = insert.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
      if (res.changes === 0) return false;
      last = Number(res.lastInsertRowid);
      if (first === 0) first = last;
      fts.run(last, r[6], r[12]);
      if (r[13]) for (const p of r[13]) path.run(p);
      return true;
    });
    if (first !== 0) rollup.run(first, last);
    return inserted;
  });
  return {
    /** Inserts rows in one transaction; false where the dedup_key was already stored. */
    append: (rows: InsertRow[]): boolean[] => append(rows),
    /** Deletes at most `limit` logs dated before `before`. */
    deleteBefore: (before: number, limit: number): number => del.run(before, limit).changes,
    /** Checkpoints and truncates the WAL, then closes. */
    close: (): void => {
      if (!db.open) return;
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}

/** The write connection's operations. */
export type WriteConnection = ReturnType<typeof openWriteConnection>;

/** Messages to the writer worker. */
export type WriteRequest =
  | { id: number; op: 'append'; rows: InsertRow[] }
  | { id: number; op: 'delete'; before: number; limit: number }
  | { id: number; op: 'close' };

/** Answers from the writer worker; errors carry SQLite's code so the store can type them. */
export type WriteResponse =
  | { id: number; ok: true; result: boolean[] | number | null }
  | { id: number; ok: false; code: string; message: string };
