// `npm run bench:search`: search and analytics on a large store. Loads simulated Okta Workflows ELS events
// (10 million over 30 days by default) into a data directory that later runs reuse, starts the built server on
// it and times the issue's queries over HTTP, one request at a time (p50/p95/p99 of at least 30 runs each).
// Prints a Markdown report and keeps it in docs/benchmarks.md. Traffic stays on 127.0.0.1.
//
// Environment: BENCH_EVENTS (default 10,000,000; BENCH_QUICK=1 → 200,000), BENCH_DATA_DIR (default under the
// OS temp dir, kept after the run), BENCH_RUNS (timed runs per query, at least 30).
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LogEvent } from '../src/domain/log-event.ts';
import { normalize, rewindow } from '../src/intake/normalize.ts';
import { type ElsEvent, ElsSimulator, oktaDatadogBody, REDELIVERY_RATIO } from '../src/okta/simulator.ts';
import { PipelineService } from '../src/pipelines/service.ts';
import { type AggregateRequest, parseFacet } from '../src/search/aggregate.ts';
import { parseQuery } from '../src/search/parse.ts';
import { words } from '../src/search/values.ts';
import { SqliteStore, sqlitePath } from '../src/store/sqlite/sqlite-store.ts';
import {
  type Child,
  freePort,
  killChildrenOnExit,
  RssSampler,
  spawnNode,
  stopChild,
  waitHealthy,
} from './lib/children.ts';
import { ensureBuilt, ROOT } from './lib/flowwatch.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const DAY = 86_400_000;
const HOUR = 3_600_000;

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive whole number, got "${v}"`);
  return n;
}

/** What the data set is made of; a data directory is reused only when its marker holds the same values. */
const PARAMS = {
  /** 2: through the pipelines (the built-in Okta pipeline), with the hourly rollups the store keeps */
  format: 2,
  events: intEnv('BENCH_EVENTS', QUICK ? 200_000 : 10_000_000),
  days: 30,
  flows: 300,
  seed: 20_261_127,
  failureRatio: 0.05,
};
type Params = typeof PARAMS;

const CFG = {
  dataDir: process.env.BENCH_DATA_DIR ?? path.join(tmpdir(), `flowwatch-bench-search-${PARAMS.events}`),
  /** logs per appendLogs call while loading */
  batch: 5000,
  warmup: 5,
  runs: Math.max(30, intEnv('BENCH_RUNS', 30)),
  /** untimed-by-HTTP calls of the store in this process, for the split between SQL and HTTP */
  storeRuns: 5,
  page: 50,
  /** flows of different popularity the flow_name queries cycle through */
  flowPicks: 5,
  /** the free-text word is the flow-name word whose share of events is closest to this */
  wordShare: 0.01,
};

const MARKER = 'bench-search.json';
const API_KEY = 'bench-api-key-0123456789abcdef00000';
const APP_KEY = 'bench-app-key-0123456789abcdef000000000000';
const TARGETS = { flowPage: 50, aggregate: 500, freeText: 200 };

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// The data set

interface FlowStat {
  name: string;
  events: number;
  fails: number;
}

/** The marker file: the parameters, the state of the load and what the loader counted. */
interface Dataset {
  params: Params;
  state: 'loading' | 'complete';
  startMs: number;
  /** one past the newest event's timestamp */
  endMs: number;
  generated: number;
  stored: number;
  load?: {
    date: string;
    node: string;
    cpus: number;
    seconds: number;
    appendSeconds: number;
    /** mean 1-minute load average while loading (the machine may be shared) */
    loadAverage: number;
    dbBytes: number;
    walBytes: number;
    /** bytes per table and index (dbstat) */
    objects: [string, number][];
  };
  flows: FlowStat[];
  statuses: Record<string, number>;
  eventTypes: Record<string, number>;
  /** events whose message contains the word, for the alphabetic words of flow names */
  words: Record<string, number>;
}

function sameParams(a: Params, b: Params): boolean {
  return (Object.keys(b) as (keyof Params)[]).every((k) => a[k] === b[k]);
}

function fileBytes(f: string): number {
  return existsSync(f) ? statSync(f).size : 0;
}

function dbFiles(dir: string): string[] {
  const db = sqlitePath(dir);
  return [db, `${db}-wal`, `${db}-shm`];
}

/** The data set in `dir` when it can be reused as is; removes a stale one of ours; refuses foreign data. */
function existingDataset(dir: string): Dataset | undefined {
  const marker = path.join(dir, MARKER);
  const db = sqlitePath(dir);
  if (!existsSync(marker)) {
    if (existsSync(db))
      throw new Error(
        `${dir} holds a flowwatch.db that this benchmark did not load: choose another BENCH_DATA_DIR`,
      );
    return undefined;
  }
  const ds = JSON.parse(readFileSync(marker, 'utf8')) as Dataset;
  if (ds.state === 'complete' && sameParams(ds.params, PARAMS) && existsSync(db)) {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const n = (conn.prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
      if (n === PARAMS.events) return ds;
      log(`data set in ${dir}: ${n} logs instead of ${PARAMS.events}, loading again`);
    } finally {
      conn.close();
    }
  } else {
    log(`data set in ${dir}: ${ds.state}, parameters ${JSON.stringify(ds.params)}; loading again`);
  }
  for (const f of [...dbFiles(dir), marker]) rmSync(f, { force: true });
  return undefined;
}

/** Counts what the loader stored: per flow, status and event type, and the words of messages. */
class LoadStats {
  readonly flows = new Map<string, FlowStat>();
  readonly statuses: Record<string, number> = {};
  readonly eventTypes: Record<string, number> = {};
  private readonly words = new Map<string, number>();

  add(e: ElsEvent, l: LogEvent): void {
    let f = this.flows.get(e.flow_name);
    if (!f) {
      f = { name: e.flow_name, events: 0, fails: 0 };
      this.flows.set(e.flow_name, f);
    }
    f.events++;
    if (e.event_type === 'FLOW_FAIL') f.fails++;
    this.statuses[l.status] = (this.statuses[l.status] ?? 0) + 1;
    this.eventTypes[e.event_type] = (this.eventTypes[e.event_type] ?? 0) + 1;
    for (const w of new Set(words(l.message))) this.words.set(w, (this.words.get(w) ?? 0) + 1);
  }

  /** Message-word counts for the alphabetic words that occur in flow names. */
  flowWords(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.flows.keys())
      for (const w of words(name)) if (/^\p{L}+$/u.test(w)) out[w] = this.words.get(w) ?? 0;
    return out;
  }
}

/**
 * One simulated event as intake stores it (src/intake/ingest.ts): Okta's Datadog body, parsed, through
 * normalize() and the pipelines, the acceptance window applied again when a pipeline moved the date.
 */
function toLogEvent(e: ElsEvent, n: number, pipelines: PipelineService): LogEvent {
  const ts = Date.parse(e.timestamp);
  const item: unknown = JSON.parse(oktaDatadogBody(e));
  // Okta delivers within seconds, one event per request: received 0.5–2 s after the event.
  const ctx = { now: ts + 500 + (n % 1500), outOfWindow: 'keep' as const, checkSize: false };
  const { event } = normalize(item, {}, ctx);
  if (!event) throw new Error(`normalize dropped an event: ${JSON.stringify(e)}`);
  const before = event.timestamp;
  pipelines.process([event], ctx.now);
  if (event.timestamp !== before && rewindow(event, ctx).drop)
    throw new Error(`the acceptance window dropped an event: ${JSON.stringify(e)}`);
  return event;
}

/** Bytes per table and index of a database file (SQLite's dbstat). */
function objectSizes(file: string): [string, number][] {
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = conn
      .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC')
      .all() as { name: string; bytes: number }[];
    return rows.map((r) => [r.name, r.bytes]);
  } finally {
    conn.close();
  }
}

/** Loads PARAMS.events simulated ELS events (after deduplication) into a fresh database in `dir`. */
async function loadDataset(dir: string): Promise<Dataset> {
  mkdirSync(dir, { recursive: true });
  const startMs = Math.floor(Date.now() / HOUR) * HOUR - PARAMS.days * DAY;
  const ds: Dataset = {
    params: PARAMS,
    state: 'loading',
    startMs,
    endMs: startMs,
    generated: 0,
    stored: 0,
    flows: [],
    statuses: {},
    eventTypes: {},
    words: {},
  };
  const marker = path.join(dir, MARKER);
  writeFileSync(marker, JSON.stringify(ds, null, 2));
  const store = new SqliteStore({ dataDir: dir, writer: 'inline' });
  // The pipelines a server on this directory runs (the built-in Okta pipeline, seeded as on first start).
  const pipelines = new PipelineService(store);
  await pipelines.start();
  // The org's average rate puts PARAMS.events stored events (redeliveries are deduplicated) over PARAMS.days.
  const rate = (PARAMS.events * (1 + REDELIVERY_RATIO)) / (PARAMS.days * 86_400);
  const sim = new ElsSimulator({
    seed: PARAMS.seed,
    flows: PARAMS.flows,
    failureRatio: PARAMS.failureRatio,
    startMs,
    eventsPerSecond: rate,
  });
  const stats = new LoadStats();
  const started = performance.now();
  let appendMs = 0;
  let lastReport = started;
  let lastStored = 0;
  const loads: number[] = [];
  log(`loading ${PARAMS.events.toLocaleString('en-US')} events into ${dir} (batches of ${CFG.batch})`);
  while (ds.stored < PARAMS.events) {
    const els = sim.take(Math.min(CFG.batch, PARAMS.events - ds.stored));
    const logs = els.map((e, i) => toLogEvent(e, ds.generated + i, pipelines));
    ds.generated += els.length;
    const t = performance.now();
    const inserted = await store.appendLogs(logs);
    appendMs += performance.now() - t;
    for (const [i, ok] of inserted.entries()) {
      if (!ok) continue;
      ds.stored++;
      stats.add(els[i]!, logs[i]!);
      ds.endMs = Math.max(ds.endMs, logs[i]!.timestamp + 1);
    }
    const now = performance.now();
    if (now - lastReport >= 5000) {
      const s = (now - started) / 1000;
      const recent = ((ds.stored - lastStored) * 1000) / (now - lastReport);
      const eta = (PARAMS.events - ds.stored) / Math.max(1, recent);
      const bytes = dbFiles(dir).reduce((a, f) => a + fileBytes(f), 0);
      loads.push(loadavg()[0]!);
      log(
        `  ${ds.stored.toLocaleString('en-US')} / ${PARAMS.events.toLocaleString('en-US')} ` +
          `(${((100 * ds.stored) / PARAMS.events).toFixed(1)} %), ${Math.round(ds.stored / s)} events/s overall, ` +
          `${Math.round(recent)} in the last ${((now - lastReport) / 1000).toFixed(0)} s, ` +
          `${(appendMs / (now - started)).toFixed(2)} of the time in appendLogs, ${mb(bytes)} on disk, ` +
          `load average ${loadavg()[0]!.toFixed(1)}, ETA ${Math.round(eta / 60)} min`,
      );
      lastReport = now;
      lastStored = ds.stored;
    }
  }
  await store.close(); // the write connection checkpoints (TRUNCATE) as it closes
  const seconds = (performance.now() - started) / 1000;
  const db = sqlitePath(dir);
  log(`loaded in ${(seconds / 60).toFixed(1)} min; measuring the size of each table and index (dbstat)`);
  ds.load = {
    date: isoMinute(new Date()),
    node: process.version,
    cpus: cpus().length,
    seconds,
    appendSeconds: appendMs / 1000,
    loadAverage: loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : loadavg()[0]!,
    dbBytes: fileBytes(db),
    walBytes: fileBytes(`${db}-wal`),
    objects: objectSizes(db),
  };
  ds.flows = [...stats.flows.values()].sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
  ds.statuses = stats.statuses;
  ds.eventTypes = stats.eventTypes;
  ds.words = stats.flowWords();
  ds.state = 'complete';
  writeFileSync(marker, JSON.stringify(ds, null, 2));
  return ds;
}

// ---------------------------------------------------------------------------------------------------------
// What the queries look at

interface Subjects {
  /** flows of decreasing popularity, for the flow_name queries */
  flows: FlowStat[];
  word: string;
  wordEvents: number;
  /** flows whose name has the word */
  wordFlows: string[];
}

function pickSubjects(ds: Dataset): Subjects {
  const n = ds.flows.length;
  const picks = [
    ...new Set(
      Array.from({ length: CFG.flowPicks }, (_v, i) => Math.round((i * (n - 1)) / (CFG.flowPicks - 1))),
    ),
  ];
  const flows = picks.map((i) => ds.flows[i]!);
  // The flow-name word whose share of events is closest to CFG.wordShare (on a log scale).
  const distance = (count: number) => Math.abs(Math.log(count / ds.stored / CFG.wordShare));
  const candidates = Object.entries(ds.words).filter(([, c]) => c > 0);
  candidates.sort((a, b) => distance(a[1]) - distance(b[1]) || a[0].localeCompare(b[0]));
  const [word, wordEvents] = candidates[0] ?? ['flow', ds.stored];
  const wordFlows = ds.flows.filter((f) => words(f.name).includes(word)).map((f) => f.name);
  return { flows, word, wordEvents, wordFlows };
}

// ---------------------------------------------------------------------------------------------------------
// The server and the timed requests

interface FlowwatchServer extends Child {
  build: string;
}

async function startServer(dataDir: string, build: string): Promise<FlowwatchServer> {
  const port = await freePort();
  const env = {
    ...process.env,
    FLOWWATCH_API_KEY: API_KEY,
    FLOWWATCH_APP_KEY: APP_KEY,
    FLOWWATCH_LOG_LEVEL: 'warn',
    // The data set is dated when it was loaded; retention must not delete it when the directory is reused.
    FLOWWATCH_RETENTION_DAYS: '3650',
  };
  const child = spawnNode(['bin/flowwatch.js', 'serve', '--port', String(port), '--data-dir', dataDir], {
    cwd: ROOT,
    env,
    url: `http://127.0.0.1:${port}`,
  });
  try {
    await waitHealthy(child, '/healthz', 120_000);
  } catch (err) {
    child.proc.kill('SIGKILL');
    await child.exited;
    throw new Error(`Flowwatch did not start (run npm run build?): ${(err as Error).message}`);
  }
  return { ...child, build };
}

/** One variant of a query: the HTTP request and the equivalent store call. */
interface Variant {
  note: string;
  method: 'GET' | 'POST';
  path: string;
  body?: object;
  /** the same work on the store in this process (no HTTP); absent for /healthz */
  store?: (s: SqliteStore) => Promise<unknown>;
}

/** A query of the report: its variants are cycled through the runs. */
interface Spec {
  id: string;
  label: string;
  window: string;
  target?: number;
  variants: Variant[];
}

interface Timing {
  spec: Spec;
  ms: number[];
  /** the variant of each run */
  variantOf: number[];
  /** rows (search) or buckets (aggregate) returned by each run */
  rows: number[];
  /** meta.elapsed of each answer */
  serverMs: number[];
  storeMs: number[];
  plans: { sql: string; plan: string }[];
  /** requests repeated after a network-level failure */
  retries: number;
}

function searchVariant(
  note: string,
  query: string,
  from: number,
  to: number,
  sort: 'timestamp' | '-timestamp' = '-timestamp',
): Variant {
  return {
    note,
    method: 'POST',
    path: '/api/v2/logs/events/search',
    // filter.to is inclusive in the API (Flowwatch adds 1 ms): ask for [from, to).
    body: { filter: { query, from, to: to - 1 }, sort, page: { limit: CFG.page } },
    store: (s) =>
      s.readLogs({
        from,
        to,
        sort: sort === 'timestamp' ? 'asc' : 'desc',
        limit: CFG.page,
        filter: query === '*' ? undefined : parseQuery(query),
      }),
  };
}

function aggregateVariant(note: string, query: string, from: number, to: number, groups: number): Variant {
  const request: AggregateRequest = {
    from,
    to,
    computes: [{ aggregation: 'count', type: 'timeseries', interval: HOUR }],
    groupBy: [
      {
        facet: parseFacet('@flow_name'),
        limit: groups,
        sort: { aggregation: 'count', order: 'desc', type: 'measure' },
      },
    ],
  };
  return {
    note,
    method: 'POST',
    path: '/api/v2/logs/analytics/aggregate',
    body: {
      filter: { query, from, to: to - 1 },
      compute: [{ aggregation: 'count', type: 'timeseries', interval: '1h' }],
      group_by: [{ facet: '@flow_name', limit: groups, sort: { aggregation: 'count', order: 'desc' } }],
    },
    store: (s) => s.aggregateLogs(request, query === '*' ? undefined : parseQuery(query)),
  };
}

function quoted(name: string): string {
  return `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function specs(ds: Dataset, sub: Subjects): Spec[] {
  const end = ds.endMs;
  const d30 = end - 30 * DAY;
  const d7 = end - 7 * DAY;
  const d1 = end - DAY;
  const flowVariants = (prefix: string) =>
    sub.flows.map((f) => searchVariant(f.name, `${prefix} @flow_name:${quoted(f.name)}`, d30, end));
  return [
    {
      id: 'healthz',
      label: 'GET /healthz (baseline: HTTP round trip)',
      window: '',
      variants: [{ note: '', method: 'GET', path: '/healthz' }],
    },
    {
      id: 'all',
      label: 'first page of `*` (baseline: no filter)',
      window: '30 d',
      variants: [searchVariant('', '*', d30, end)],
    },
    {
      id: 'flow-error',
      label: '`service:okta status:error @flow_name:"…"`',
      window: '30 d',
      target: TARGETS.flowPage,
      variants: flowVariants('service:okta status:error'),
    },
    {
      id: 'flow-fail',
      label: '`service:okta @event_type:FLOW_FAIL @flow_name:"…"`',
      window: '30 d',
      target: TARGETS.flowPage,
      variants: flowVariants('service:okta @event_type:FLOW_FAIL'),
    },
    {
      id: 'agg',
      label: 'count by `@flow_name` per hour (top 10), query `service:okta`',
      window: '7 d',
      target: TARGETS.aggregate,
      variants: [aggregateVariant('', 'service:okta', d7, end, 10)],
    },
    {
      id: 'agg-all',
      label: 'count by `@flow_name` per hour (top 25), query `*`',
      window: '7 d',
      target: TARGETS.aggregate,
      variants: [aggregateVariant('', '*', d7, end, 25)],
    },
    {
      id: 'word',
      label: `free text \`${sub.word}\`, newest first`,
      window: '30 d',
      target: TARGETS.freeText,
      variants: [searchVariant('', sub.word, d30, end)],
    },
    {
      id: 'word-1d',
      label: `free text \`${sub.word}\`, newest first`,
      window: '1 d',
      target: TARGETS.freeText,
      variants: [searchVariant('', sub.word, d1, end)],
    },
    {
      id: 'word-asc',
      label: `free text \`${sub.word}\`, oldest first (\`sort: timestamp\`)`,
      window: '30 d',
      target: TARGETS.freeText,
      variants: [searchVariant('', sub.word, d30, end, 'timestamp')],
    },
  ];
}

/** Sends one request and reads the whole answer; returns the wall time, rows and the server's meta.elapsed. */
async function send(url: string, v: Variant): Promise<{ ms: number; rows: number; serverMs: number }> {
  const headers: Record<string, string> = { 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY };
  if (v.body) headers['content-type'] = 'application/json';
  const t = performance.now();
  const res = await fetch(`${url}${v.path}`, {
    method: v.method,
    headers,
    body: v.body ? JSON.stringify(v.body) : undefined,
  });
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200)
    throw new Error(`${v.method} ${v.path} answered ${res.status}: ${text.slice(0, 500)}`);
  const json = JSON.parse(text) as { data?: unknown[] | { buckets: unknown[] }; meta?: { elapsed?: number } };
  const rows = Array.isArray(json.data) ? json.data.length : (json.data?.buckets.length ?? 0);
  return { ms, rows, serverMs: json.meta?.elapsed ?? Number.NaN };
}

/**
 * send() that retries once when the request fails at the network level (an idle keep-alive connection the
 * server closed while the store was being timed in this process); the failed attempt is not timed.
 */
async function sendRetrying(server: Child, v: Variant, t: Timing): Promise<Awaited<ReturnType<typeof send>>> {
  try {
    return await send(server.url, v);
  } catch (err) {
    if (!(err instanceof TypeError) || server.proc.exitCode !== null) {
      const out = server.proc.exitCode !== null ? ` (server exited: ${server.output().slice(-2000)})` : '';
      throw new Error(`${v.method} ${v.path} failed${out}`, { cause: err });
    }
    t.retries++;
    log(`  ${t.spec.id}: ${(err as Error).message} (${String((err as Error).cause ?? '')}), retrying once`);
    return send(server.url, v);
  }
}

async function timeHttp(server: Child, spec: Spec): Promise<Timing> {
  const t: Timing = {
    spec,
    ms: [],
    variantOf: [],
    rows: [],
    serverMs: [],
    storeMs: [],
    plans: [],
    retries: 0,
  };
  const nv = spec.variants.length;
  for (let i = 0; i < CFG.warmup; i++) await sendRetrying(server, spec.variants[i % nv]!, t);
  for (let i = 0; i < CFG.runs; i++) {
    const r = await sendRetrying(server, spec.variants[i % nv]!, t);
    t.ms.push(r.ms);
    t.variantOf.push(i % nv);
    t.rows.push(r.rows);
    t.serverMs.push(r.serverMs);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// The store in this process: SQL, query plans, time without HTTP

interface Captured {
  sql: string;
  args: unknown[];
}

/** Records the SQL (and its parameters) the store prepares and runs. */
function captureSql(store: SqliteStore): { take: () => Captured[]; explain: (c: Captured) => string } {
  const db = store.db;
  const prepare = db.prepare.bind(db);
  let seen: Captured[] = [];
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    const entry: Captured = { sql, args: [] };
    seen.push(entry);
    const s = stmt as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['all', 'get', 'iterate']) {
      const run = s[m]!.bind(stmt);
      s[m] = (...args: unknown[]) => {
        entry.args = args;
        return run(...args);
      };
    }
    return stmt;
  }) as typeof db.prepare;
  const explain = (c: Captured) => {
    const rows = prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.args) as {
      id: number;
      parent: number;
      detail: string;
    }[];
    const depth = new Map<number, number>([[0, 0]]);
    return rows
      .map((r) => {
        const d = (depth.get(r.parent) ?? 0) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d - 1)}${r.detail}`;
      })
      .join('\n');
  };
  return {
    take: () => {
      const out = seen;
      seen = [];
      return out;
    },
    explain,
  };
}

/** The store opened read-only in this process, recording the SQL it runs. */
interface LocalStore {
  store: SqliteStore;
  sql: ReturnType<typeof captureSql>;
}

/**
 * Calls the store directly (no HTTP) right after a query's HTTP runs, while the same pages are cached: a few
 * calls covering every variant, keeping the times and, from the first call, the SQL and its query plan.
 */
async function timeStore(local: LocalStore, t: Timing): Promise<void> {
  const runs = Math.max(CFG.storeRuns, t.spec.variants.length);
  for (let i = 0; i < runs; i++) {
    const v = t.spec.variants[i % t.spec.variants.length]!;
    if (!v.store) return;
    const s = performance.now();
    await v.store(local.store);
    t.storeMs.push(performance.now() - s);
    const main = local.sql
      .take()
      .filter((c) => /FROM (logs|rollup_hourly)\b/.test(c.sql) && !/attr_paths/.test(c.sql));
    if (i === 0) for (const c of main) t.plans.push({ sql: squeeze(c.sql), plan: local.sql.explain(c) });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

function squeeze(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}

function isoMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function mb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)} %`;
}

/** Nearest-rank percentile (with 30 runs, p99 is the slowest run). */
function percentile(xs: number[], p: number): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function median(xs: number[]): number {
  return percentile(xs, 50);
}

function fmtMs(ms: number): string {
  if (Number.isNaN(ms)) return '–';
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

interface Report {
  date: string;
  node: string;
  cpus: number;
  sqlite: string;
  build: string;
  dataDir: string;
  loadedNow: boolean;
  ds: Dataset;
  sub: Subjects;
  timings: Timing[];
  rssMax: number;
  errorLogs: number;
  /** mean 1-minute load average while measuring */
  loadAverage: number;
}

function datasetSection(r: Report): string[] {
  const { ds, sub } = r;
  const l = ds.load!;
  const bytes = l.dbBytes + l.walBytes;
  const n = ds.stored;
  const share = (x: number) => pct(x / n);
  const span = (ds.endMs - ds.startMs) / DAY;
  const flows = ds.flows;
  const mid = flows[Math.floor(flows.length / 2)]!;
  const types = Object.entries(ds.eventTypes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${share(v)}`)
    .join(', ');
  const statuses = Object.entries(ds.statuses)
    .map(([k, v]) => `\`${k}\` ${share(v)}`)
    .join(', ');
  const objects = l.objects.slice(0, 12).map(([name, b]) => `| ${name} | ${mb(b)} | ${(b / n).toFixed(0)} |`);
  return [
    '### Data set',
    '',
    `${num(n)} simulated ELS events (ElsSimulator seed ${ds.params.seed}, ${flows.length} flows, failure ratio ` +
      `${ds.params.failureRatio}), dated ${isoMinute(new Date(ds.startMs))} to ${isoMinute(new Date(ds.endMs))} ` +
      `(${span.toFixed(1)} days); each one in Okta's Datadog body template through \`normalize()\` and the ` +
      `built-in Okta pipeline (as intake stores it) and written with \`SqliteStore.appendLogs\` (inline writer, ${CFG.batch} per call). ` +
      `${num(ds.generated - n)} Okta redeliveries among ${num(ds.generated)} generated events were deduplicated.`,
    '',
    `**Load** ${r.loadedNow ? 'in this run' : `on ${l.date} (data directory reused by this run)`}: ` +
      `${(l.seconds / 60).toFixed(1)} min, **${num(n / l.seconds)} events/s** ` +
      `(${pct(l.appendSeconds / l.seconds, 0)} of the time inside appendLogs: ${num(n / l.appendSeconds)} events/s ` +
      `there; the rest generating and normalising), Node ${l.node}, ${l.cpus} CPUs, mean load average ` +
      `${l.loadAverage.toFixed(1)} while loading.`,
    '',
    `**On disk** after a checkpoint: ${mb(bytes)} (database ${mb(l.dbBytes)} + WAL ${mb(l.walBytes)}), ` +
      `**${(bytes / n).toFixed(0)} bytes per event**. Largest tables and indexes (dbstat):`,
    '',
    '| table or index | size | bytes/event |',
    '|---|---:|---:|',
    ...objects,
    '',
    `Flow popularity (events per flow): most popular \`${flows[0]!.name}\` ${share(flows[0]!.events)}, median ` +
      `\`${mid.name}\` ${share(mid.events)}, least \`${flows.at(-1)!.name}\` ${share(flows.at(-1)!.events)}. ` +
      `Event types: ${types}. Statuses: ${statuses}.`,
    '',
    `Free-text word: **\`${sub.word}\`**, in the message of ${num(sub.wordEvents)} events (**${share(sub.wordEvents)}**; ` +
      `the flow-name word closest to ${pct(CFG.wordShare, 0)}); it is in the name of ${sub.wordFlows.length} flows ` +
      `(${sub.wordFlows
        .slice(0, 4)
        .map((f) => `\`${f}\``)
        .join(', ')}${sub.wordFlows.length > 4 ? ', …' : ''}).`,
  ];
}

function resultRow(t: Timing): string {
  const p95 = percentile(t.ms, 95);
  const target = t.spec.target;
  const met = target === undefined ? '' : p95 <= target ? '**met**' : '**missed**';
  const rows = [...new Set(t.rows)].join('/');
  return (
    `| ${t.spec.label} | ${t.spec.window} | ${rows} | ${fmtMs(median(t.ms))} | ${fmtMs(p95)} | ` +
    `${fmtMs(percentile(t.ms, 99))} | ${fmtMs(median(t.serverMs))} | ${fmtMs(median(t.storeMs))} | ` +
    `${target === undefined ? '' : `≤ ${target} ms`} | ${met} |`
  );
}

function variantLines(t: Timing, sub: Subjects): string[] {
  return t.spec.variants.map((v, i) => {
    const ms = t.ms.filter((_x, j) => t.variantOf[j] === i);
    const rows = t.rows.filter((_x, j) => t.variantOf[j] === i);
    const f = sub.flows.find((x) => x.name === v.note);
    const what = f
      ? ` (${f.events.toLocaleString('en-US')} events, ${f.fails.toLocaleString('en-US')} FLOW_FAIL)`
      : '';
    return `- \`${v.note}\`${what}: ${rows[0] ?? 0} rows, median ${fmtMs(median(ms))}, slowest ${fmtMs(Math.max(...ms))}`;
  });
}

function retriesNote(timings: Timing[]): string {
  const n = timings.reduce((a, t) => a + t.retries, 0);
  return n === 0
    ? ''
    : ` ${n} request(s) failed at the network level (a closed keep-alive connection) and were sent again; ` +
        'only the repeated attempt is timed.';
}

function planSection(timings: Timing[]): string[] {
  const out = [
    '### Query plans',
    '',
    'The SQL the store runs for each query (first variant) and `EXPLAIN QUERY PLAN`:',
    '',
  ];
  for (const t of timings) {
    for (const p of t.plans) {
      out.push(
        `**${t.spec.label}** (${t.spec.window})`,
        '',
        '```sql',
        p.sql,
        '```',
        '',
        '```',
        p.plan,
        '```',
        '',
      );
    }
  }
  return out;
}

function renderSection(r: Report): string {
  const byId = (id: string) => r.timings.find((t) => t.spec.id === id);
  const flowError = byId('flow-error');
  const flowFail = byId('flow-fail');
  const errorNote =
    r.errorLogs === 0
      ? `**No stored event has status \`error\`** (ELS events are stored with status \`info\` until pipelines ` +
        'map FLOW_FAIL to error), so the `status:error` query returns nothing: its time shows the cost of ' +
        'finding nothing, not of the target query. `@event_type:FLOW_FAIL` is the equivalent today.'
      : `${num(r.errorLogs)} stored events have status \`error\` (the built-in Okta pipeline gives FLOW_FAIL the ` +
        'status `error`), so the two flow queries ask for the same logs.';
  return [
    `## bench:search, ${r.date}`,
    '',
    `Node ${r.node}, ${r.cpus} CPUs, SQLite ${r.sqlite}, Flowwatch started from dist (bin/flowwatch.js) ` +
      `(${r.build}), data directory \`${r.dataDir}\`.`,
    '',
    ...datasetSection(r),
    '',
    `### Queries (HTTP, one request at a time, ${CFG.warmup} warm-up + ${CFG.runs} timed runs each, page of ${CFG.page})`,
    '',
    'Times are wall-clock per request (send to last byte read) on 127.0.0.1; "server" is the `meta.elapsed` the ' +
      'API reports; "store" is the same call on `SqliteStore` in the benchmark process (no HTTP, no JSON), ' +
      `made right after the query's HTTP runs, median of ${CFG.storeRuns} or more calls. Percentiles are ` +
      `nearest-rank: with ${CFG.runs} runs, p99 is the slowest. Mean load average while measuring: ` +
      `${r.loadAverage.toFixed(1)} (${r.cpus} CPUs, shared).`,
    '',
    '| query | window | rows | p50 | p95 | p99 | server p50 | store p50 | target p95 | |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...r.timings.map(resultRow),
    '',
    errorNote,
    '',
    'Flows the flow_name queries cycle through (run i uses flow i mod 5), with `@event_type:FLOW_FAIL`:',
    '',
    ...(flowFail ? variantLines(flowFail, r.sub) : []),
    '',
    'and with `status:error`:',
    '',
    ...(flowError ? variantLines(flowError, r.sub) : []),
    '',
    `Resident memory of the server while answering: max ${mb(r.rssMax)}.${retriesNote(r.timings)}`,
    '',
    ...planSection(r.timings),
  ]
    .join('\n')
    .trimEnd();
}

const START = '<!-- bench:search:start -->';
const END = '<!-- bench:search:end -->';
const INTRO = `## Search and analytics at 10 million events

\`npm run bench:search\` (bench/search.ts) loads 10 million simulated Okta Workflows ELS events spread over 30 days
(\`ElsSimulator\`, seeded: 300 flows of uneven popularity, schedules, bursts, helper flows, failures,
redeliveries) into a data directory, the way intake stores them (\`normalize()\` of Okta's Datadog body and the
built-in Okta pipeline, then \`SqliteStore.appendLogs\` in batches of 5000), and keeps it: a later run with the same parameters reuses it
(\`BENCH_DATA_DIR\`, default under the OS temp directory; \`BENCH_EVENTS\`; \`BENCH_QUICK=1\` loads 200,000). It then
starts the built server on that directory and times, one request at a time over HTTP, each query of the
issue (targets: first page of a flow's errors over 30 days p95 ≤ 50 ms; count by \`@flow_name\` per hour over
7 days p95 ≤ 500 ms; first page of a free-text word matching about 1 % of events p95 ≤ 200 ms), with
\`/healthz\` and an unfiltered first page as baselines. Windows end at the newest stored event, so the figures
do not change as the data set ages. The report also gives each query's SQL and query plan.`;

/** Writes the section between the bench:search markers, adding them (after the intake part) when missing. */
function writeDocs(file: string, section: string): void {
  const block = `${START}\n${section}\n${END}`;
  const current = readFileSync(file, 'utf8');
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  const next =
    a >= 0 && b > a
      ? `${current.slice(0, a)}${block}${current.slice(b + END.length)}`
      : `${current.trimEnd()}\n\n${INTRO}\n\n${block}\n`;
  writeFileSync(file, next);
}

// ---------------------------------------------------------------------------------------------------------

/** Hard stop for the measuring part (loading has no deadline: 10 million events take a while). */
const MEASURE_DEADLINE_MS = 60 * 60_000;

async function main(): Promise<void> {
  killChildrenOnExit();
  const started = Date.now();
  const build = ensureBuilt();
  log(`build: ${build}`);
  let ds = existingDataset(CFG.dataDir);
  const loadedNow = !ds;
  if (ds) log(`reusing the data set in ${CFG.dataDir} (loaded ${ds.load?.date})`);
  else ds = await loadDataset(CFG.dataDir);
  setTimeout(() => {
    log(`bench:search: measuring for more than ${MEASURE_DEADLINE_MS / 60_000} minutes, giving up`);
    process.exit(1);
  }, MEASURE_DEADLINE_MS).unref();

  const sub = pickSubjects(ds);
  log(
    `free-text word "${sub.word}": ${pct(sub.wordEvents / ds.stored)} of events; flows: ` +
      sub.flows.map((f) => `${f.name} (${pct(f.events / ds.stored)})`).join(', '),
  );
  const dbFile = sqlitePath(CFG.dataDir);
  const ro = new Database(dbFile, { readonly: true, fileMustExist: true });
  const errorLogs = (
    ro.prepare("SELECT count(*) AS n FROM logs WHERE status = 'error'").get() as { n: number }
  ).n;
  const sqlite = (ro.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  ro.close();

  const server = await startServer(CFG.dataDir, build);
  log(`server pid ${server.pid} on ${server.url}`);
  const rss = new RssSampler();
  rss.watch(server.pid);
  const store = new SqliteStore({ dataDir: CFG.dataDir, readonly: true });
  const local = { store, sql: captureSql(store) };
  const timings: Timing[] = [];
  const loads: number[] = [];
  for (const spec of specs(ds, sub)) {
    loads.push(loadavg()[0]!);
    const t = await timeHttp(server, spec);
    await timeStore(local, t);
    timings.push(t);
    log(
      `  ${spec.id}: p50 ${fmtMs(median(t.ms))}, p95 ${fmtMs(percentile(t.ms, 95))}, ` +
        `p99 ${fmtMs(percentile(t.ms, 99))}, rows ${[...new Set(t.rows)].join('/')}; ` +
        `store p50 ${fmtMs(median(t.storeMs))}; load average ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  loads.push(loadavg()[0]!);
  await store.close();
  rss.stop();
  const code = await stopChild(server, 'SIGTERM');
  if (code !== 0) log(`server exited with ${code}: ${server.output().slice(-2000)}`);

  const report: Report = {
    date: isoMinute(new Date()),
    node: process.version,
    cpus: cpus().length,
    sqlite,
    build,
    dataDir: CFG.dataDir,
    loadedNow,
    ds,
    sub,
    timings,
    rssMax: rss.max,
    errorLogs,
    loadAverage: loads.reduce((a, b) => a + b, 0) / loads.length,
  };
  const section = renderSection(report);
  process.stdout.write(`\n${section}\n`);
  writeDocs(path.join(ROOT, 'docs/benchmarks.md'), section);
  log(
    `\nwrote docs/benchmarks.md in ${Math.round((Date.now() - started) / 1000)} s total; data kept in ${CFG.dataDir}`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:search failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
