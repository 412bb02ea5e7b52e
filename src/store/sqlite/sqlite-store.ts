// The embedded store: one SQLite file (WAL) under the data directory, written through better-sqlite3.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Json, LogEvent, Status, StoredLog } from '../../domain/log-event.ts';
import type { Downtime } from '../../monitors/downtime.ts';
import type { Monitor, MonitorInput } from '../../monitors/model.ts';
import type { NotificationRule } from '../../notify/rule-model.ts';
import type { Pipeline, PipelineInput } from '../../pipelines/model.ts';
import {
  type AggregateRequest,
  Aggregator,
  type Bucket,
  type Facet,
  measuresOf,
  partialAcc,
  sqlGroupable,
} from '../../search/aggregate.ts';
import type { Query } from '../../search/ast.ts';
import { compileSql, jsonPath, type SqlFilter, sqliteDialect } from '../../search/sql.ts';
import { inCidr, normalisePath, wordsMatch } from '../../search/values.ts';
import {
  decodeCursor,
  type EncodedLogs,
  encodeCursor,
  type KeyRecord,
  type LogPage,
  type LogQuery,
  type MonitorEventRecord,
  type Store,
  StoreFullError,
  StoreUnavailableError,
} from '../store.ts';
import { SqliteIntegrationStore } from './integration-store.ts';
import { attributeExpr, INDEXED_ATTRIBUTES, migrate } from './migrations.ts';
import { SqliteNotificationStore } from './notification-store.ts';
import { addRollups, HOUR, rollupEligible } from './rollups.ts';
import { type WriteCall, WriteClient } from './write-client.ts';
import {
  type InsertRow,
  openWriteConnection,
  toInsertRow,
  type WriteConnection,
  type WriteOptions,
} from './write-core.ts';

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** the data directory; the database is `flowwatch.db` inside it */
  dataDir?: string;
  /** or the database file itself (backups) */
  file?: string;
  /** fail instead of creating a new database */
  fileMustExist?: boolean;
  /** fsync every commit (synchronous=FULL): survives power loss, costs throughput */
  fsyncOnCommit?: boolean;
  /** size cap in MB (max_page_count); past it writes fail with StoreFullError */
  maxSizeMb?: number;
  readonly?: boolean;
  /** where log writes run: a worker thread (the server) or this thread (default; CLI and tests) */
  writer?: 'worker' | 'inline';
}

interface LogRow {
  seq: number;
  ts: number;
  received_at: number;
  status: string;
  service: string | null;
  source: string | null;
  host: string | null;
  message: string;
  tags: string;
  trace_id: string | null;
  attributes: string;
  raw: string | null;
  dedup_key: string | null;
}

/** Path of the database file inside a data directory. */
/** A full-text term as the SQLite dialect compiles it (search/sql.ts), and a filter made only of them. */
const FTS_TERM = /seq IN (?=\(SELECT rowid FROM logs_fts WHERE logs_fts MATCH @q\d+\))/g;
const FTS_ONE = 'seq IN \\(SELECT rowid FROM logs_fts WHERE logs_fts MATCH @q\\d+\\)';
const FTS_ONLY = new RegExp(`^\\(?${FTS_ONE}(?: AND ${FTS_ONE})*\\)?$`);
/** Logs a time-index walk may step over, for evenly spread matches, before it has a page (~10 ms). */
const MAX_WALK = 200_000;

export function sqlitePath(dataDir: string): string {
  return path.join(dataDir, 'flowwatch.db');
}

/** Maps SQLite failures to the store's typed errors. */
function wrap(err: unknown): never {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL')
    throw new StoreFullError('the database is full (disk full or max_db_size_mb reached)', { cause: err });
  if (
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_CANTOPEN'
  ) {
    throw new StoreUnavailableError(`the database is unavailable (${code})`, { cause: err });
  }
  throw err;
}

/** Logs encoded as insert rows. */
interface EncodedRows extends EncodedLogs {
  rows: InsertRow[];
}

/** SQLite implementation of Store: reads and keys on this thread, log writes on the write connection. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  readonly notifications: SqliteNotificationStore;
  readonly integrations: SqliteIntegrationStore;
  private dataVersion = -1;
  private readonly writeOptions: WriteOptions;
  private readonly mode: 'worker' | 'inline';
  private inline: WriteConnection | undefined;
  private worker: WriteClient | undefined;
  private closed = false;
  /** statements of saveMonitorProgress (called on every monitor state change) */
  private progress: Record<'put' | 'del' | 'add', Database.Statement> | undefined;

  constructor(opts: SqliteStoreOptions) {
    const file = opts.file ?? sqlitePath(opts.dataDir ?? './data');
    const mustExist = Boolean(opts.readonly || opts.fileMustExist);
    const creating = !mustExist && !existsSync(file);
    // The database holds every log, key hashes and the integrations' secrets: a new data directory and
    // database are the service user's alone (SQLite gives the -wal and -shm files the database's mode).
    if (!mustExist) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: mustExist });
    if (creating) chmodSync(file, 0o600);
    this.db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      migrate(this.db);
    }
    registerSearchFunctions(this.db);
    this.notifications = new SqliteNotificationStore(this.db);
    this.integrations = new SqliteIntegrationStore(this.db);
    this.writeOptions = { file, fsyncOnCommit: opts.fsyncOnCommit, maxSizeMb: opts.maxSizeMb };
    this.mode = opts.writer ?? 'inline';
  }

  /**
   * Runs a write on the write connection (opened on first use), mapping SQLite errors to typed ones. Not
   * async: once a request is posted to the writer thread nothing here holds its rows (a batch of big logs
   * is not kept alive on this heap while it commits).
   */
  private write<T>(op: (c: WriteConnection) => T, req: WriteCall): Promise<T> {
    try {
      if (this.mode === 'inline') {
        this.inline ??= openWriteConnection(this.writeOptions);
        return Promise.resolve(op(this.inline));
      }
      // A crashed writer thread failed only the batches it held (their requests got 503, nothing was
      // acknowledged); the next write starts a fresh thread.
      if (!this.worker?.alive && !this.closed) this.worker = new WriteClient(this.writeOptions);
      if (!this.worker) throw new StoreUnavailableError('the store is closed');
      return this.worker.request<T>(req).catch(wrap);
    } catch (err) {
      return Promise.reject(err).catch(wrap);
    }
  }

  async appendLogs(events: LogEvent[]): Promise<boolean[]> {
    return this.appendEncoded([this.encodeLogs(events)]);
  }

  encodeLogs(events: LogEvent[]): EncodedRows {
    const rows = events.map(toInsertRow);
    let bytes = 0;
    for (const r of rows)
      bytes += r[6].length + r[7].length + r[9].length + (r[10]?.length ?? 0) + r[12].length + 100;
    return { count: rows.length, bytes, rows };
  }

  async appendEncoded(groups: EncodedLogs[]): Promise<boolean[]> {
    const rows =
      groups.length === 1 ? (groups[0] as EncodedRows).rows : groups.flatMap((g) => (g as EncodedRows).rows);
    return this.write((c) => c.append(rows), { op: 'append', rows });
  }

  async readLogsAfter(
    after: string | undefined,
    limit: number,
  ): Promise<{ logs: StoredLog[]; next: string }> {
    if (after === undefined) {
      const max = (this.db.prepare('SELECT max(seq) AS m FROM logs').get() as { m: number | null }).m ?? 0;
      return { logs: [], next: String(max) };
    }
    const from = Number(after);
    if (!Number.isSafeInteger(from) || from < 0) throw new Error(`invalid cursor "${after.slice(0, 40)}"`);
    const rows = this.db
      .prepare(
        `SELECT seq, ts, received_at, status, service, source, host, message, tags, trace_id, json(attributes) AS attributes,
                raw, dedup_key FROM logs WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(from, limit) as LogRow[];
    return { logs: rows.map(toLog), next: String(rows.at(-1)?.seq ?? from) };
  }

  /** The catalog of attribute paths that need array-aware evaluation. */
  private complexPaths(): Set<string> {
    return new Set(this.db.prepare('SELECT path FROM attr_paths').pluck().all() as string[]);
  }

  /** Compiles a search query for this database (reading the catalog of array-aware attribute paths). */
  compileFilter(filter: Query | undefined, complex = this.complexPaths()): SqlFilter {
    if (!filter || filter.kind === 'all') return { sql: '1', params: {} };
    return compileSql(filter, sqliteDialect, { isComplexPath: (p) => complex.has(p), indexedExpr });
  }

  async aggregateLogs(req: AggregateRequest, filter?: Query): Promise<Bucket[]> {
    return this.db.transaction(() => {
      const complex = this.complexPaths();
      const f = this.compileFilter(filter, complex);
      const agg = new Aggregator(req);
      const params: Record<string, unknown> = { ...f.params, from: req.from, to: req.to };
      const where = `ts >= @from AND ts < @to AND ${f.sql}`;
      const groupable = sqlGroupable(req, (p) => complex.has(p));
      if (groupable && rollupEligible(req, filter)) {
        // whole hours from the rollups, the partial hours at the edges from the logs
        const hs = Math.ceil(req.from / HOUR) * HOUR;
        const he = Math.floor(req.to / HOUR) * HOUR;
        if (he > hs && addRollups(this.db, req, filter, agg, hs, he)) {
          if (req.from < hs)
            this.preGroup(req, agg, `ts >= @from AND ts < @hs AND ${f.sql}`, { ...params, hs });
          if (he < req.to) this.preGroup(req, agg, `ts >= @he AND ts < @to AND ${f.sql}`, { ...params, he });
          return agg.buckets();
        }
      }
      if (groupable) this.preGroup(req, agg, where, params);
      else {
        const rows = this.db
          .prepare(
            `SELECT seq, ts, received_at, status, service, source, host, message, tags, trace_id,
                    json(attributes) AS attributes, raw, dedup_key FROM logs WHERE ${where}`,
          )
          .iterate(params) as Iterable<LogRow>;
        for (const r of rows) agg.addLog(toLog(r));
      }
      return agg.buckets();
    })();
  }

  /** Lets SQL group plain facets and count, sum, min and max measures (the fast path of analytics). */
  private preGroup(
    req: AggregateRequest,
    agg: Aggregator,
    where: string,
    params: Record<string, unknown>,
  ): void {
    let n = 0;
    const param = (v: unknown) => {
      const name = `a${n++}`;
      params[name] = v;
      return `@${name}`;
    };
    const facetSql = (x: Facet) => {
      if (x.kind === 'reserved') return x.column;
      const path = x.kind === 'attr' ? x.path : '';
      const value = indexedExpr(path) ?? `json_extract(attributes, ${param(jsonPath(path))})`;
      return `CASE json_type(attributes, ${param(jsonPath(path))}) WHEN 'text' THEN ${value} WHEN 'integer' THEN ${value}
              WHEN 'real' THEN ${value} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END`;
    };
    const metricSql = (x: Facet | undefined) => {
      if (x?.kind !== 'attr') return 'NULL';
      const path = param(jsonPath(x.path));
      return `CASE WHEN json_type(attributes, ${path}) IN ('integer','real') THEN json_extract(attributes, ${path}) END`;
    };
    const groups = req.groupBy.map((g, i) =>
      g.missing === undefined
        ? `${facetSql(g.facet)} AS g${i}`
        : `coalesce(${facetSql(g.facet)}, ${param(g.missing)}) AS g${i}`,
    );
    const measures = measuresOf(req);
    const series = req.computes.some((c) => c.type === 'timeseries');
    const iv = series ? param(agg.interval) : '';
    const bucket = series ? `ts - ts % ${iv}` : 'NULL';
    const inner = [...groups, `${bucket} AS b`, ...measures.map((m, i) => `${metricSql(m.metric)} AS m${i}`)];
    const gcols = req.groupBy.map((_g, i) => `g${i}`);
    const outer = [
      ...gcols,
      'b',
      'count(*) AS cnt',
      ...measures.map(
        (_m, i) => `count(m${i}) AS n${i}, sum(m${i}) AS s${i}, min(m${i}) AS mn${i}, max(m${i}) AS mx${i}`,
      ),
    ];
    const notNull = gcols.length ? `WHERE ${gcols.map((g) => `${g} IS NOT NULL`).join(' AND ')}` : '';
    const sql = `SELECT ${outer.join(', ')} FROM (SELECT ${inner.join(', ')} FROM logs WHERE ${where}) ${notNull}
      GROUP BY ${[...gcols, 'b'].join(', ')}`;
    for (const r of this.db.prepare(sql).iterate(params) as Iterable<
      Record<string, number | string | null>
    >) {
      const accs = measures.map((_m, i) =>
        partialAcc(
          r.cnt as number,
          r[`n${i}`] as number,
          r[`s${i}`] as number | null,
          r[`mn${i}`] as number | null,
          r[`mx${i}`] as number | null,
        ),
      );
      agg.addPartial(
        gcols.map((g) => r[g] as string | number),
        r.b as number | null,
        accs,
      );
    }
  }

  async readLogs(q: LogQuery): Promise<LogPage> {
    return this.db.transaction(() => this.readPage(q))();
  }

  /**
   * Whether a page of a full-text-only filter (words, phrases, `*:`) is best read by walking the time index:
   * when the words are frequent enough that a page is found after a short walk (about MAX_WALK logs for
   * evenly spread matches). Rare words keep SQLite's plan (every match looked up, then sorted), which is fast
   * for few matches and which a walk would make a scan of the whole range.
   */
  private walkTimeIndex(f: { sql: string; params: Record<string, unknown> }, limit: number): boolean {
    if (!FTS_ONLY.test(f.sql)) return false;
    const names = [...f.sql.matchAll(/MATCH @(q\d+)/g)].map((x) => x[1] as string);
    // two probes of the rowid (max and min together in one SELECT would scan the table)
    const span = this.db
      .prepare('SELECT (SELECT max(seq) FROM logs) - (SELECT min(seq) FROM logs) + 1')
      .pluck()
      .get() as number | null;
    if (!span) return false;
    // matches needed among all logs for a page to lie within MAX_WALK logs of the walk's start
    const needed = Math.max(1, Math.ceil((limit * span) / MAX_WALK));
    const match = names.map((n) => `(${String(f.params[n])})`).join(' AND ');
    const found = this.db
      .prepare('SELECT count(*) FROM (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? LIMIT ?)')
      .pluck()
      .get(match, needed) as number;
    return found >= needed;
  }

  private readPage(q: LogQuery): LogPage {
    const f = this.compileFilter(q.filter);
    const params: Record<string, unknown> = { ...f.params, from: q.from, to: q.to, limit: q.limit + 1 };
    let where = `ts >= @from AND ts < @to AND ${f.sql}`;
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      where += q.sort === 'desc' ? ' AND (ts, seq) < (@cts, @cseq)' : ' AND (ts, seq) > (@cts, @cseq)';
      params.cts = c.ts;
      params.cseq = Number(c.seq);
    }
    const dir = q.sort === 'desc' ? 'DESC' : 'ASC';
    let from = 'logs';
    if (this.walkTimeIndex(f, q.limit + 1)) {
      // Walk the time index in page order and test each log against the matches (a hashed list), stopping at
      // the page's end, instead of sorting every match of a frequent word (1.3 s → 30 ms at 10M logs).
      from = 'logs INDEXED BY logs_ts';
      where = where.replaceAll(FTS_TERM, '+seq IN');
    }
    const rows = this.db
      .prepare(
        `SELECT seq, ts, received_at, status, service, source, host, message, tags, trace_id, json(attributes) AS attributes,
                raw, dedup_key FROM ${from} WHERE ${where} ORDER BY ts ${dir}, seq ${dir} LIMIT @limit`,
      )
      .all(params) as LogRow[];
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return { logs: page.map(toLog), cursor: more && last ? encodeCursor(last.ts, last.seq) : undefined };
  }

  async countLogs(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  }

  async deleteLogsBefore(before: number, limit: number): Promise<number> {
    return this.write((c) => c.deleteBefore(before, limit), { op: 'delete', before, limit });
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.db.prepare('SELECT * FROM keys ORDER BY created_at, id').all() as KeyRecord[];
  }

  async insertKey(k: KeyRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO keys (id, kind, name, hash, hint, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(k.id, k.kind, k.name, k.hash, k.hint, k.created_at, k.revoked_at);
  }

  async revokeKey(idOrName: string, now: number): Promise<KeyRecord | undefined> {
    return this.db.transaction(() => {
      const matches = this.db
        .prepare('SELECT * FROM keys WHERE id = ? OR name = ?')
        .all(idOrName, idOrName) as KeyRecord[];
      if (matches.length > 1)
        throw new Error(`"${idOrName}" names ${matches.length} keys: revoke by id instead`);
      const k = matches[0];
      if (!k) return undefined;
      if (k.revoked_at === null) {
        this.db.prepare('UPDATE keys SET revoked_at = ? WHERE id = ?').run(now, k.id);
        k.revoked_at = now;
      }
      return k;
    })();
  }

  async listPipelines(): Promise<Pipeline[]> {
    const rows = this.db
      .prepare('SELECT id, read_only, body FROM pipelines ORDER BY position, created_at, id')
      .all() as { id: string; read_only: number; body: string }[];
    return rows.map((r) => ({
      ...(JSON.parse(r.body) as PipelineInput),
      id: r.id,
      type: 'pipeline' as const,
      is_read_only: r.read_only === 1,
    }));
  }

  async insertPipeline(p: Pipeline, at: 'first' | 'last' = 'last'): Promise<void> {
    const now = Date.now();
    this.db.transaction(() => {
      const edge = this.db
        .prepare(`SELECT ${at === 'first' ? 'min(position) - 1' : 'max(position) + 1'} AS p FROM pipelines`)
        .get() as { p: number | null };
      this.db
        .prepare(
          'INSERT INTO pipelines (id, position, read_only, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(p.id, edge.p ?? 0, p.is_read_only ? 1 : 0, JSON.stringify(pipelineBody(p)), now, now);
    })();
  }

  async replacePipeline(p: Pipeline): Promise<boolean> {
    const r = this.db
      .prepare('UPDATE pipelines SET body = ?, read_only = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(pipelineBody(p)), p.is_read_only ? 1 : 0, Date.now(), p.id);
    return r.changes > 0;
  }

  async deletePipeline(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM pipelines WHERE id = ?').run(id).changes > 0;
  }

  async setPipelineOrder(ids: string[]): Promise<void> {
    this.db.transaction(() => {
      const existing = this.db.prepare('SELECT id FROM pipelines').pluck().all() as string[];
      const given = new Set(ids);
      const missing = existing.filter((id) => !given.has(id));
      const unknown = ids.filter((id) => !existing.includes(id));
      if (given.size !== ids.length) throw new Error('pipeline_ids lists a pipeline twice');
      if (missing.length || unknown.length)
        throw new Error(
          [
            missing.length ? `missing pipelines: ${missing.join(', ')}` : '',
            unknown.length ? `unknown pipelines: ${unknown.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        );
      const set = this.db.prepare('UPDATE pipelines SET position = ? WHERE id = ?');
      for (const [i, id] of ids.entries()) set.run(i, id);
    })();
  }

  async listMonitors(): Promise<Monitor[]> {
    const rows = this.db
      .prepare('SELECT id, body, created_at, modified_at FROM monitors ORDER BY id')
      .all() as {
      id: number;
      body: string;
      created_at: number;
      modified_at: number;
    }[];
    return rows.map((r) => ({
      ...(JSON.parse(r.body) as MonitorInput),
      id: r.id,
      created_at: r.created_at,
      modified_at: r.modified_at,
    }));
  }

  async insertMonitor(input: MonitorInput, now: number): Promise<Monitor> {
    const r = this.db
      .prepare('INSERT INTO monitors (body, created_at, modified_at) VALUES (?, ?, ?)')
      .run(JSON.stringify(input), now, now);
    return { ...input, id: Number(r.lastInsertRowid), created_at: now, modified_at: now };
  }

  async updateMonitor(id: number, input: MonitorInput, now: number): Promise<Monitor | undefined> {
    const row = this.db.prepare('SELECT created_at FROM monitors WHERE id = ?').get(id) as
      | { created_at: number }
      | undefined;
    if (!row) return undefined;
    this.db
      .prepare('UPDATE monitors SET body = ?, modified_at = ? WHERE id = ?')
      .run(JSON.stringify(input), now, id);
    return { ...input, id, created_at: row.created_at, modified_at: now };
  }

  async deleteMonitor(id: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM monitor_groups WHERE monitor_id = ?').run(id);
      return this.db.prepare('DELETE FROM monitors WHERE id = ?').run(id).changes > 0;
    })();
  }

  async loadMonitorGroups(): Promise<Map<number, Map<string, unknown>>> {
    const out = new Map<number, Map<string, unknown>>();
    const rows = this.db.prepare('SELECT monitor_id, group_key, state FROM monitor_groups').all() as {
      monitor_id: number;
      group_key: string;
      state: string;
    }[];
    for (const r of rows) {
      let m = out.get(r.monitor_id);
      if (!m) {
        m = new Map();
        out.set(r.monitor_id, m);
      }
      m.set(r.group_key, JSON.parse(r.state));
    }
    return out;
  }

  async saveMonitorProgress(
    groups: { monitor_id: number; group_key: string; state: unknown | null }[],
    events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[],
  ): Promise<MonitorEventRecord[]> {
    this.progress ??= {
      put: this.db.prepare(
        'INSERT INTO monitor_groups (monitor_id, group_key, state) VALUES (?, ?, ?) ON CONFLICT (monitor_id, group_key) DO UPDATE SET state = excluded.state',
      ),
      del: this.db.prepare('DELETE FROM monitor_groups WHERE monitor_id = ? AND group_key = ?'),
      add: this.db.prepare(
        'INSERT INTO monitor_events (monitor_id, group_key, at, body) VALUES (?, ?, ?, ?)',
      ),
    };
    const { put, del, add } = this.progress;
    return this.db.transaction(() => {
      for (const g of groups) {
        if (g.state === null) del.run(g.monitor_id, g.group_key);
        else put.run(g.monitor_id, g.group_key, JSON.stringify(g.state));
      }
      return events.map((e) => {
        const r = add.run(e.monitor_id, e.group_key, e.at, JSON.stringify(e.body));
        return { ...e, id: Number(r.lastInsertRowid), delivered_at: null };
      });
    })();
  }

  async listMonitorEvents(q: {
    monitorId?: number;
    limit: number;
    beforeId?: number;
  }): Promise<MonitorEventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT id, monitor_id, group_key, at, body, delivered_at FROM monitor_events
         WHERE (@m IS NULL OR monitor_id = @m) AND (@b IS NULL OR id < @b) ORDER BY id DESC LIMIT @limit`,
      )
      .all({ m: q.monitorId ?? null, b: q.beforeId ?? null, limit: q.limit }) as (Omit<
      MonitorEventRecord,
      'body'
    > & {
      body: string;
    })[];
    return rows.map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  async listDowntimes(): Promise<Downtime[]> {
    const rows = this.db
      .prepare('SELECT body FROM downtimes ORDER BY created_at, id')
      .pluck()
      .all() as string[];
    return rows.map((b) => JSON.parse(b) as Downtime);
  }

  async insertDowntime(d: Downtime): Promise<void> {
    this.db
      .prepare('INSERT INTO downtimes (id, body, created_at) VALUES (?, ?, ?)')
      .run(d.id, JSON.stringify(d), d.created_at);
  }

  async updateDowntime(
    d: Downtime,
    events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[] = [],
  ): Promise<boolean> {
    const add = this.db.prepare(
      'INSERT INTO monitor_events (monitor_id, group_key, at, body) VALUES (?, ?, ?, ?)',
    );
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT created_at FROM downtimes WHERE id = ?').get(d.id) as
        | { created_at: number }
        | undefined;
      if (!row) return false;
      const body = JSON.stringify({ ...d, created_at: row.created_at });
      this.db.prepare('UPDATE downtimes SET body = ? WHERE id = ?').run(body, d.id);
      for (const e of events) add.run(e.monitor_id, e.group_key, e.at, JSON.stringify(e.body));
      return true;
    })();
  }

  async listNotificationRules(): Promise<NotificationRule[]> {
    const rows = this.db
      .prepare('SELECT id, body, created_at, modified_at FROM notification_rules ORDER BY created_at, id')
      .all() as RuleRow[];
    return rows.map(toRule);
  }

  async getNotificationRule(id: string): Promise<NotificationRule | undefined> {
    const row = this.db
      .prepare('SELECT id, body, created_at, modified_at FROM notification_rules WHERE id = ?')
      .get(id) as RuleRow | undefined;
    return row && toRule(row);
  }

  async insertNotificationRule(rule: NotificationRule): Promise<void> {
    const { id, created_at, modified_at, ...body } = rule;
    this.db
      .prepare('INSERT INTO notification_rules (id, body, created_at, modified_at) VALUES (?, ?, ?, ?)')
      .run(id, JSON.stringify(body), created_at, modified_at);
  }

  async replaceNotificationRule(rule: NotificationRule): Promise<boolean> {
    const { id, created_at: _c, modified_at, ...body } = rule;
    return (
      this.db
        .prepare('UPDATE notification_rules SET body = ?, modified_at = ? WHERE id = ?')
        .run(JSON.stringify(body), modified_at, id).changes > 0
    );
  }

  async deleteNotificationRule(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM notification_rules WHERE id = ?').run(id).changes > 0;
  }

  async changedElsewhere(): Promise<boolean> {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    const changed = v !== this.dataVersion;
    this.dataVersion = v;
    return changed;
  }

  async backup(file: string): Promise<void> {
    // VACUUM INTO copies one read snapshot: concurrent writes (WAL) neither block it nor restart it, unlike
    // the online backup API, which starts over whenever another connection writes (it never finished
    // under a steady intake).
    this.db.prepare('VACUUM INTO ?').run(file);
    // A copy of everything, secrets included: as private as the database itself.
    chmodSync(file, 0o600);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.closed = true;
    await this.worker?.close();
    this.inline?.close();
    // No checkpoint here: the write connection checkpoints when it closes, and a CLI command (keys,
    // backup) must not hold off a running server's writer with a TRUNCATE checkpoint.
    this.db.close();
  }
}

interface RuleRow {
  id: string;
  body: string;
  created_at: number;
  modified_at: number;
}

function toRule(r: RuleRow): NotificationRule {
  return {
    ...(JSON.parse(r.body) as object),
    id: r.id,
    created_at: r.created_at,
    modified_at: r.modified_at,
  } as NotificationRule;
}

/** What is stored of a pipeline besides its id and flags. */
function pipelineBody(p: Pipeline): PipelineInput {
  const { id: _id, type: _type, is_read_only: _ro, ...body } = p;
  return body;
}

/** The index expression of an attribute path, when it has one. */
function indexedExpr(path: string): string | undefined {
  return (INDEXED_ATTRIBUTES as readonly string[]).includes(path) ? attributeExpr(path) : undefined;
}

/** The functions search SQL calls (search/sql.ts): the same code as the in-memory back end. */
function registerSearchFunctions(db: Database.Database): void {
  const opts = { deterministic: true, varargs: false } as const;
  db.function('fw_words_match', opts, (source: unknown, value: unknown) =>
    wordsMatch(String(source), value) ? 1 : 0,
  );
  db.function('fw_cidr', opts, (spec: unknown, value: unknown) => (inCidr(String(spec), value) ? 1 : 0));
  db.function('fw_path', opts, (fullkey: unknown) => normalisePath(String(fullkey)));
}

function toLog(r: LogRow): StoredLog {
  return {
    id: String(r.seq),
    timestamp: r.ts,
    received_at: r.received_at,
    status: r.status as Status,
    service: r.service,
    source: r.source,
    host: r.host,
    message: r.message,
    tags: JSON.parse(r.tags) as string[],
    trace_id: r.trace_id,
    attributes: JSON.parse(r.attributes) as Record<string, Json>,
    raw: r.raw,
    dedup_key: r.dedup_key,
  };
}
