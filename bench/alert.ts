// `npm run bench:alert`: alerting under load. Two Flowwatch servers (built dist) receive the same paced
// background of Okta Workflows ELS traffic (2,000 events/s, single-event POSTs in Okta's Datadog template) in
// interleaved rounds: server A has no monitor, server B has 50 log monitors (grouped and ungrouped counts,
// event types, measure rollups, below-threshold heartbeats). Every 2 s a FLOW_FAIL of a fresh probe flow is
// posted; on B a probe monitor grouped by @flow_name triggers one new group per probe. Measured:
//   - latency from the client receiving the probe's 202 to the transition (the event row's stored `at`, and
//     the moment a read-only connection to B's SQLite file first sees the committed row), and to the
//     notification arriving at a webhook receiver in this process (issue 6): B has a Datadog webhook `bench`
//     (registered through the webhooks integration API, no bundling) that the monitors' messages mention as
//     `@webhook-bench`; every probe must produce exactly one request;
//   - evaluation cost: server CPU (/proc/PID/stat, all threads) of B minus A over the same traffic.
// Prints a Markdown report and keeps it in docs/benchmarks.md between its markers. Traffic stays on 127.0.0.1.
//
// A probe's timeline is a map of named stages (PROBE_STAGES), each with its target; a new stage gets its
// latency row in the report like the others.
//
// Environment: BENCH_QUICK=1 (two short rounds each), BENCH_RATE (events/s, default 2000), BENCH_ROUNDS,
// BENCH_ROUND_S.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { type ElsEvent, ElsSimulator, oktaDatadogBody } from '../src/okta/simulator.ts';
import { cpuSeconds, killChildrenOnExit, stopChild } from './lib/children.ts';
import { API_KEY, APP_KEY, ensureBuilt, type FlowwatchChild, ROOT, startFlowwatch } from './lib/flowwatch.ts';
import { type MonitorDef, monitorDefs, PROBE_QUERY, QUIET_SERVICES } from './lib/monitor-defs.ts';
import { keepAliveAgent, type PacedResult, paced, percentile, post } from './lib/paced.ts';
import { type Arrival, startWebhookReceiver } from './lib/webhook-receiver.ts';

const QUICK = process.env.BENCH_QUICK === '1';

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive whole number, got "${v}"`);
  return n;
}

const CFG = {
  rate: intEnv('BENCH_RATE', 2000),
  /** measured rounds per server (A, B, A, B, …) */
  rounds: intEnv('BENCH_ROUNDS', QUICK ? 2 : 5),
  roundS: intEnv('BENCH_ROUND_S', QUICK ? 10 : 45),
  warmupS: QUICK ? 3 : 10,
  probeEveryMs: 2000,
  /** distinct simulated events cycled through (fresh ids and timestamps on every send) */
  pool: QUICK ? 5_000 : 20_000,
  /** one request in this many is a heartbeat of a quiet service */
  heartbeatEvery: 200,
  /** background connections */
  sockets: 16,
  /** read-only poll of B's monitor_events */
  pollMs: 5,
  targetP99Ms: 200,
  /** 202 → webhook request arriving at the local receiver (issue 6) */
  targetWebhookP99Ms: 500,
  /** after the last round, how long to wait at most for the last probes' webhooks */
  webhookWaitMs: 10_000,
  targetCpuPct: 20,
};

const INTAKE = '/api/v2/logs';
const JSON_HEADERS = { 'content-type': 'application/json', 'dd-api-key': API_KEY };
const APP_HEADERS = { ...JSON_HEADERS, 'dd-application-key': APP_KEY };

const RUN = Date.now().toString(36);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Background traffic

/** ELS events of a simulated org (60 flows, 2 % of executions fail) with fresh ids and timestamps on every
 * send, cycled from a pool so that generating them costs little; plus heartbeats of the quiet services. */
class Background {
  private readonly pool: ElsEvent[] = [];
  private n = 0;
  readonly failShare: number;

  constructor(size: number) {
    const sim = new ElsSimulator({ seed: 20261127, flows: 60, failureRatio: 0.02, startMs: Date.now() });
    while (this.pool.length < size) {
      for (const e of sim.take(1000)) if (!sim.isRedelivery(e)) this.pool.push(e);
    }
    this.pool.length = size;
    this.failShare = this.pool.filter((e) => e.event_type === 'FLOW_FAIL').length / size;
  }

  /** The next request body. */
  body(): string {
    const i = this.n++;
    if (i % CFG.heartbeatEvery === CFG.heartbeatEvery - 1) return heartbeat(i / CFG.heartbeatEvery);
    const e = this.pool[i % this.pool.length] as ElsEvent;
    const id = `${RUN}-bg-${i.toString(16).padStart(10, '0')}`;
    return oktaDatadogBody({
      ...e,
      execution_id: id,
      root_execution_id: e.depth > 1 ? `${id}-root` : id,
      idempotency_key: `${RUN}${i.toString(16).padStart(24, '0')}`,
      timestamp: new Date().toISOString(),
    });
  }
}

function heartbeat(i: number): string {
  const service = QUIET_SERVICES[Math.floor(i) % QUIET_SERVICES.length] as string;
  return JSON.stringify({
    ddsource: 'cron',
    ddtags: 'env:production',
    hostname: 'batch-01',
    service,
    status: 'info',
    message: `${service} heartbeat: sync finished`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Monitors

/** Groups with a state over all monitors of a server (the API's group_states). */
async function countGroups(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/monitor?group_states=all`, { headers: APP_HEADERS });
  const list = (await res.json()) as { state?: { groups?: Record<string, unknown> } }[];
  return list.reduce((n, m) => n + Object.keys(m.state?.groups ?? {}).length, 0);
}

/** Creates a monitor through the API; returns its id. */
async function createMonitor(url: string, d: MonitorDef): Promise<number> {
  const res = await fetch(`${url}/api/v1/monitor`, {
    method: 'POST',
    headers: APP_HEADERS,
    body: JSON.stringify({
      type: 'log alert',
      name: d.name,
      query: d.query,
      message: `{{#is_alert}}${d.name}: {{value}} @webhook-bench{{/is_alert}}`,
      tags: ['bench:alert', `kind:${d.kind.replaceAll(' ', '-')}`],
      options: d.options ?? {},
    }),
  });
  const body = (await res.json()) as { id?: number; errors?: string[] };
  if (res.status !== 200 || !body.id)
    throw new Error(`creating "${d.name}": HTTP ${res.status} ${JSON.stringify(body.errors ?? body)}`);
  return body.id;
}

// ---------------------------------------------------------------------------------------------------------
// Probes and what happens to them

/** The stages of a probe's timeline after the 202, in order, each with its p99 target. */
const PROBE_STAGES = [
  {
    key: 'at',
    label: 'transition `at` (evaluation time stored with the event)',
    targetMs: CFG.targetP99Ms,
  },
  {
    key: 'seen',
    label: 'transition row committed (first seen by a read-only reader)',
    targetMs: CFG.targetP99Ms,
  },
  {
    key: 'webhook',
    label: 'webhook request arrived (`@webhook-bench`, local receiver)',
    targetMs: CFG.targetWebhookP99Ms,
  },
] as const;
type StageKey = (typeof PROBE_STAGES)[number]['key'];

interface Probe {
  flow: string;
  server: 'A' | 'B';
  sent: number;
  /** client time the 202 arrived */
  acked?: number;
  status?: number;
  /** stage → time (ms since the epoch, same machine clock) */
  stages: Partial<Record<StageKey, number>>;
  triggered: number;
  /** webhook requests for this probe's Triggered transition */
  webhooks: number;
}

let probeSeq = 0;
const probeAgent = keepAliveAgent(2);

/** A FLOW_FAIL of a fresh flow, in Okta's template. */
function probeBody(flow: string): string {
  const fx = JSON.parse(
    readFileSync(path.join(ROOT, 'test/fixtures/els/flow_fail.json'), 'utf8'),
  ) as ElsEvent;
  const id = `${RUN}-probe-${probeSeq}`;
  return oktaDatadogBody({
    ...fx,
    flow_name: flow,
    root_flow_name: flow,
    execution_id: id,
    root_execution_id: id,
    idempotency_key: `${RUN}probe${String(probeSeq).padStart(20, '0')}`,
    timestamp: new Date().toISOString(),
  });
}

async function sendProbe(fw: FlowwatchChild, server: 'A' | 'B', into: Probe[]): Promise<void> {
  const flow = `probe-${RUN}-${++probeSeq}`;
  const body = probeBody(flow);
  const p: Probe = { flow, server, sent: Date.now(), stages: {}, triggered: 0, webhooks: 0 };
  into.push(p);
  try {
    const r = await post(new URL(`${fw.url}${INTAKE}`), JSON_HEADERS, body, probeAgent);
    p.acked = r.at;
    p.status = r.status;
  } catch {
    p.status = 0;
  }
}

interface EventRow {
  id: number;
  monitor_id: number;
  group_key: string;
  at: number;
  transition: string;
  seen: number;
}

/** Polls B's monitor_events through a read-only connection: every transition with the time it became
 * visible (committed). */
class TransitionWatcher {
  readonly rows: EventRow[] = [];
  private readonly db: Database.Database;
  private readonly stmt: Database.Statement;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, 'flowwatch.db'), { readonly: true, fileMustExist: true });
    this.stmt = this.db.prepare(
      `SELECT id, monitor_id, group_key, at, json_extract(body, '$.transition') AS transition
       FROM monitor_events WHERE id > ? ORDER BY id`,
    );
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), CFG.pollMs);
  }

  poll(): void {
    const seen = Date.now();
    for (const r of this.stmt.all(this.last) as Omit<EventRow, 'seen'>[]) {
      this.rows.push({ ...r, seen });
      this.last = r.id;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.poll();
    this.db.close();
  }
}

/** Matches B's transitions to the probes (a probe's stages come from its first Triggered event) and lists
 * the transitions of the other monitors. */
function classify(rows: EventRow[], probes: Probe[], ids: Map<number, MonitorDef>, probeId: number) {
  const byFlow = new Map(probes.filter((p) => p.server === 'B').map((p) => [p.flow, p]));
  const probeTransitions = { triggered: 0, other: new Map<string, number>(), unknown: 0 };
  const otherTransitions = new Map<string, string[]>();
  for (const row of rows) {
    if (row.monitor_id !== probeId) {
      const name = ids.get(row.monitor_id)?.name ?? `monitor ${row.monitor_id}`;
      const list = otherTransitions.get(name) ?? [];
      list.push(`${row.transition} (${row.group_key})`);
      otherTransitions.set(name, list);
      continue;
    }
    const p = byFlow.get(row.group_key.replace(/^@flow_name:/, ''));
    if (!p) probeTransitions.unknown++;
    else if (row.transition === 'Triggered') {
      probeTransitions.triggered++;
      p.triggered++;
      if (p.triggered === 1) Object.assign(p.stages, { at: row.at, seen: row.seen });
      continue;
    }
    probeTransitions.other.set(row.transition, (probeTransitions.other.get(row.transition) ?? 0) + 1);
  }
  return { probeTransitions, otherTransitions };
}

// ---------------------------------------------------------------------------------------------------------
// Webhook arrivals (issue 6)

const WEBHOOKS = '/api/v1/integration/webhooks/configuration/webhooks';
/** The template of B's `bench` webhook: the probe's flow is in the scope (`@flow_name:probe-…`). */
const WEBHOOK_PAYLOAD = JSON.stringify({
  title: '$EVENT_TITLE',
  scope: '$ALERT_SCOPE',
  transition: '$ALERT_TRANSITION',
  monitor_id: '$ALERT_ID',
  event_id: '$ID',
}).replace('"$ALERT_ID"', '$ALERT_ID');

/** Registers the webhook `bench` on a server through Datadog's webhooks integration API. */
async function registerWebhook(url: string, receiverUrl: string): Promise<void> {
  const res = await fetch(`${url}${WEBHOOKS}`, {
    method: 'POST',
    headers: APP_HEADERS,
    body: JSON.stringify({
      name: 'bench',
      url: `${receiverUrl}/hooks/bench`,
      payload: WEBHOOK_PAYLOAD,
      encode_as: 'json',
    }),
  });
  if (res.status !== 201) throw new Error(`creating webhook bench: HTTP ${res.status} ${await res.text()}`);
}

/** What the receiver got, matched to the probes. */
interface WebhookStats {
  requests: number;
  /** requests for a probe's Triggered transition */
  probeTriggered: number;
  /** Idempotency-Keys that arrived more than once (a redelivery) */
  repeatedKeys: number;
  /** other requests: "transition on monitor/group" → count */
  other: Map<string, number>;
  /** B's outbox at the end (`GET /api/flowwatch/v1/notifications`) */
  outbox: { pending: number; delivered: number; dead: number } | undefined;
  /** `flowwatch_notify_bundled_total` of B at the end: alerts held into a summary (0 without bundling) */
  bundled: number;
  /** how long the end of the run waited for the last webhooks */
  waitedMs: number;
}

const probeFlowRe = new RegExp(`probe-${RUN}-\\d+`);

/** Matches the receiver's requests to B's probes: a probe's `webhook` stage is its first request for a
 * Triggered transition; every request is counted (duplicates, other monitors or transitions). */
function matchWebhooks(
  arrivals: Arrival[],
  probes: Probe[],
): Omit<WebhookStats, 'outbox' | 'bundled' | 'waitedMs'> {
  const byFlow = new Map(probes.filter((p) => p.server === 'B').map((p) => [p.flow, p]));
  const keys = new Map<string, number>();
  const other = new Map<string, number>();
  let probeTriggered = 0;
  for (const p of byFlow.values()) {
    p.webhooks = 0;
    delete p.stages.webhook;
  }
  for (const a of arrivals) {
    if (a.idempotencyKey) keys.set(a.idempotencyKey, (keys.get(a.idempotencyKey) ?? 0) + 1);
    let body: { title?: unknown; scope?: unknown; transition?: unknown; monitor_id?: unknown } = {};
    try {
      body = JSON.parse(a.body) as typeof body;
    } catch {
      other.set('a body that is not JSON', (other.get('a body that is not JSON') ?? 0) + 1);
      continue;
    }
    const flow = probeFlowRe.exec(`${body.scope ?? ''} ${body.title ?? ''}`)?.[0];
    const p = flow ? byFlow.get(flow) : undefined;
    if (p && body.transition === 'Triggered') {
      probeTriggered++;
      p.webhooks++;
      if (p.webhooks === 1) p.stages.webhook = a.at;
      continue;
    }
    const what = `${String(body.transition)} on monitor ${String(body.monitor_id)} (${String(body.scope) || 'no group'})`;
    other.set(what, (other.get(what) ?? 0) + 1);
  }
  const repeatedKeys = [...keys.values()].filter((n) => n > 1).length;
  return { requests: arrivals.length, probeTriggered, repeatedKeys, other };
}

/** Waits until every B probe answered 202 has its webhook, at most `maxMs`; returns the time waited. */
async function waitForWebhooks(arrivals: Arrival[], probes: Probe[], maxMs: number): Promise<number> {
  const t0 = Date.now();
  const want = probes.filter((p) => p.server === 'B' && p.status === 202);
  while (Date.now() - t0 < maxMs) {
    matchWebhooks(arrivals, probes);
    if (want.every((p) => p.webhooks > 0)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

/** B's outbox counts and bundled-alert counter at the end. */
async function outboxState(url: string): Promise<Pick<WebhookStats, 'outbox' | 'bundled'>> {
  const res = await fetch(`${url}/api/flowwatch/v1/notifications?limit=1`, { headers: APP_HEADERS });
  const outbox = res.ok ? ((await res.json()) as { counts: WebhookStats['outbox'] }).counts : undefined;
  const metrics = await (await fetch(`${url}/metrics`, { headers: APP_HEADERS })).text();
  const bundled = [...metrics.matchAll(/^flowwatch_notify_bundled_total(?:\{[^}]*\})? (\S+)$/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  return { outbox, bundled };
}

// ---------------------------------------------------------------------------------------------------------
// Rounds

/** Server CPU per answered request in µs, from its CPU % over a run. */
function perEvent(cpuPct: number, load: PacedResult): number {
  return (((cpuPct / 100) * load.seconds) / Math.max(1, load.ok + load.non2xx)) * 1e6;
}

interface Round {
  server: 'A' | 'B';
  load: PacedResult;
  cpuPct: number;
  /** server CPU per answered request, µs */
  cpuUs: number;
  probes: number;
}

/** One round of background traffic plus a probe every 2 s (none without `probes`: a warm-up) against one
 * server; measures its CPU. */
async function round(
  fw: FlowwatchChild,
  server: 'A' | 'B',
  seconds: number,
  bg: Background,
  agent: http.Agent,
  probes: Probe[] | undefined,
): Promise<Round> {
  if (!probes) {
    const cpu0 = cpuSeconds(fw.pid);
    const t0 = performance.now();
    const load = await paced({
      url: `${fw.url}${INTAKE}`,
      rate: CFG.rate,
      seconds,
      headers: JSON_HEADERS,
      nextBody: () => bg.body(),
      agent,
    });
    const cpuPct = ((cpuSeconds(fw.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    return { server, load, cpuPct, cpuUs: perEvent(cpuPct, load), probes: 0 };
  }
  const before = probes.length;
  const inFlight: Promise<void>[] = [];
  const cpu0 = cpuSeconds(fw.pid);
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const firstProbe = setTimeout(() => {
    inFlight.push(sendProbe(fw, server, probes));
    timer = setInterval(() => inFlight.push(sendProbe(fw, server, probes)), CFG.probeEveryMs);
  }, CFG.probeEveryMs / 2);
  const load = await paced({
    url: `${fw.url}${INTAKE}`,
    rate: CFG.rate,
    seconds,
    headers: JSON_HEADERS,
    nextBody: () => bg.body(),
    agent,
  });
  clearTimeout(firstProbe);
  if (timer) clearInterval(timer);
  await Promise.all(inFlight);
  const cpuPct = ((cpuSeconds(fw.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  return { server, load, cpuPct, cpuUs: perEvent(cpuPct, load), probes: probes.length - before };
}

// ---------------------------------------------------------------------------------------------------------
// Report

interface Report {
  date: string;
  node: string;
  cpus: number;
  build: string;
  load: { start: number[]; end: number[]; others: string[] };
  failShare: number;
  monitors: { kind: string; n: number }[];
  rounds: Round[];
  probes: Probe[];
  /** transitions of B's monitors other than the probe monitor: monitor name → transition names */
  otherTransitions: Map<string, string[]>;
  probeTransitions: { triggered: number; other: Map<string, number>; unknown: number };
  loopDelayP99Ms: number;
  exit: { a: number | null; b: number | null };
  createMs: number;
  /** groups with a state over B's monitors at the end */
  groups: number;
  webhook: WebhookStats;
}

const fmt = (x: number, d = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : '–';
const ms = (x: number) => (Number.isFinite(x) ? `${fmt(x)} ms` : '–');
const met = (ok: boolean) => (ok ? '**met**' : '**NOT met**');

function median(xs: number[]): number {
  return xs.length ? percentile([...xs], 50) : Number.NaN;
}

/** Other heavy node processes on the machine (e.g. another benchmark), from /proc. */
function otherBenchmarks(): string[] {
  const found: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      const m = /bench\/(?!alert)[\w-]+\.ts/.exec(cmd);
      if (m) found.push(`${m[0]} (pid ${d})`);
    } catch {
      // gone
    }
  }
  return found;
}

function latencyRows(probes: Probe[]): string[] {
  const b = probes.filter((p) => p.server === 'B' && p.acked !== undefined);
  const rows: string[] = [];
  for (const s of PROBE_STAGES) {
    const got = b.filter((p) => p.stages[s.key] !== undefined);
    const raw = got.map((p) => (p.stages[s.key] as number) - (p.acked as number));
    const negative = raw.filter((x) => x < 0);
    const d = raw.map((x) => Math.max(0, x));
    const fromSend = got.map((p) => (p.stages[s.key] as number) - p.sent);
    const p99 = percentile([...d], 99);
    rows.push(
      `| 202 → ${s.label} | ${got.length} | ${ms(percentile([...d], 50))} | ${ms(percentile([...d], 95))} | ` +
        `**${ms(p99)}** | ${ms(Math.max(...d))} | ${negative.length} (min ${ms(Math.min(0, ...raw))}) | ` +
        `${ms(percentile([...fromSend], 99))} | ≤ ${s.targetMs} ms | ${met(p99 <= s.targetMs)} |`,
    );
  }
  return rows;
}

function renderSection(r: Report): string {
  const a = r.rounds.filter((x) => x.server === 'A');
  const b = r.rounds.filter((x) => x.server === 'B');
  const diffs = b.map((x, i) => x.cpuPct - (a[i]?.cpuPct ?? Number.NaN));
  const diff = median(diffs);
  const usA = median(a.map((x) => x.cpuUs));
  const usB = median(b.map((x) => x.cpuUs));
  /** the per-event difference at the target rate: what the % difference would be had both run at full rate */
  const projected = ((usB - usA) * CFG.rate) / 1e4;
  const rateA = median(a.map((x) => x.load.ok / x.load.seconds));
  const rateB = median(b.map((x) => x.load.ok / x.load.seconds));
  // the % difference only means something when both servers carried the target rate; else the per-request
  // difference scaled to the target rate is the estimate, and B falling behind is itself a failure
  const fullRate = rateA >= 0.95 * CFG.rate && rateB >= 0.95 * CFG.rate;
  const cost = fullRate ? diff : Math.max(diff, projected);
  const costMet = fullRate && diff <= CFG.targetCpuPct;
  const bProbes = r.probes.filter((p) => p.server === 'B');
  const acked = bProbes.filter((p) => p.status === 202).length;
  const exactlyOne = bProbes.filter((p) => p.triggered === 1).length;
  const missing = bProbes.filter((p) => p.triggered === 0).length;
  const twice = bProbes.filter((p) => p.triggered > 1).length;
  const p99Of = (key: StageKey) =>
    percentile(
      bProbes
        .filter((p) => p.stages[key] !== undefined && p.acked)
        .map((p) => Math.max(0, p.stages[key]! - p.acked!)),
      99,
    );
  const seenP99 = p99Of('seen');
  const hookP99 = p99Of('webhook');
  const w = r.webhook;
  const hookOnce = bProbes.filter((p) => p.webhooks === 1).length;
  const hookMissing = bProbes.filter((p) => p.status === 202 && p.webhooks === 0).length;
  const hookTwice = bProbes.filter((p) => p.webhooks > 1).length;
  const hookAllOnce = hookOnce === bProbes.length && bProbes.length > 0;
  const rate = median(r.rounds.map((x) => x.load.ok / x.load.seconds));
  const lines = [
    `## bench:alert, ${r.date}`,
    '',
    `\`npm run bench:alert\` (bench/alert.ts): two Flowwatch servers from dist (${r.build}) get the same ` +
      `paced background of single-event POSTs in Okta's Datadog template — ${fmt(CFG.rate)} events/s of a ` +
      `simulated org (ElsSimulator, 60 flows, ${(r.failShare * 100).toFixed(1)} % FLOW_FAIL, fresh ids and ` +
      `timestamps on every send), 1 request in ${CFG.heartbeatEvery} a heartbeat of one of ${QUIET_SERVICES.length} ` +
      `quiet services — in interleaved rounds of ${CFG.roundS} s (A, B, A, B, …; ${CFG.rounds} each, after a ` +
      `${CFG.warmupS} s warm-up each). **A has no monitor; B has ${r.monitors.reduce((n, m) => n + m.n, 0)}** ` +
      `(${r.monitors.map((m) => `${m.n} ${m.kind}`).join(', ')}; created through the API in ${fmt(r.createMs)} ms). ` +
      `Every ${CFG.probeEveryMs / 1000} s (to both servers) a FLOW_FAIL of a fresh flow \`probe-…\` is posted; on B ` +
      `the probe monitor \`${PROBE_QUERY}\` (new_group_delay 0) triggers one new group per probe. The other ` +
      "thresholds are above what the background produces (it is ~400 times a real org's traffic), so any other " +
      'transition is listed below.',
    '',
    `Machine: Node ${r.node}, ${r.cpus} CPUs, load average ${r.load.start.map((x) => x.toFixed(2)).join(' / ')} ` +
      `before and ${r.load.end.map((x) => x.toFixed(2)).join(' / ')} after (1/5/15 min); other benchmarks ` +
      `running: ${r.load.others.length ? r.load.others.join(', ') : 'none'}.`,
    '',
    '### Probe latency on B (202 of the FLOW_FAIL → its transition → its webhook)',
    '',
    'Client and server share the machine clock. The 202 time is when the probe client got the response ' +
      "headers; `at` is the evaluator's clock when it evaluated the group (just before the commit: the " +
      'evaluator runs on the intake commit, before the 202 is written, so `at − 202` is often slightly ' +
      'negative: counted, then bounded at 0); "committed" is when a read-only connection polling ' +
      `\`monitor_events\` every ${CFG.pollMs} ms first saw the row (an upper bound of the commit, poll period ` +
      'included). "send → …" starts at the request instead of the 202 (a bound that ignores any delay in the ' +
      `client's own event loop; its p99 event-loop delay was ${ms(r.loopDelayP99Ms)}). "webhook" is when the ` +
      "receiver in the benchmark process (127.0.0.1) got the request headers of the probe's notification: B has " +
      'the Datadog webhook `bench` (created through `/api/v1/integration/webhooks/configuration/webhooks`, a ' +
      "JSON template with `$ALERT_SCOPE` naming the probe flow), the monitors' messages mention " +
      '`@webhook-bench`, and nothing bundles (no configuration file, no notification rule): the full path ' +
      'evaluator → outbox (dispatch transaction) → delivery worker → HTTP. That receiver shares the event ' +
      'loop with the load generator, so its times include that delay. Nearest-rank percentiles.',
    '',
    '| from → to | probes | p50 | p95 | p99 | max | negative | send → …, p99 | target p99 | |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...latencyRows(r.probes),
    '',
    `Probes to B: ${bProbes.length} sent, ${acked} answered 202; **${exactlyOne} triggered exactly once**, ` +
      `${missing} not at all, ${twice} more than once (${r.probeTransitions.triggered} Triggered events on the ` +
      `probe monitor). Other probe-monitor transitions: ${
        r.probeTransitions.other.size
          ? [...r.probeTransitions.other].map(([k, n]) => `${n} ${k}`).join(', ')
          : 'none'
      }${r.probeTransitions.unknown ? `; ${r.probeTransitions.unknown} on groups that are no probe` : ''}. ` +
      `Probes to A: ${r.probes.length - bProbes.length}. At the end B's monitors had ${fmt(r.groups)} groups.`,
    '',
    `Webhook: ${w.requests} requests arrived; **${hookOnce} of ${bProbes.length} probes got exactly one**, ` +
      `${hookMissing} answered 202 but got none, ${hookTwice} more than one; ${w.repeatedKeys} Idempotency-Keys ` +
      `arrived more than once; other requests: ${
        w.other.size ? [...w.other].map(([k, n]) => `${n} × ${k}`).join('; ') : 'none'
      }. B's outbox at the end: ${
        w.outbox
          ? `${w.outbox.delivered} delivered, ${w.outbox.pending} pending, ${w.outbox.dead} dead`
          : 'not readable'
      }; alerts held by bundling: ${w.bundled} (off, as intended). The end of the run waited ` +
      `${fmt(w.waitedMs / 1000, 1)} s for the last webhooks (at most ${CFG.webhookWaitMs / 1000} s).`,
    '',
    `**Beside Datadog:** here the FLOW_FAIL's notification reaches the webhook ${ms(hookP99)} (p99) after ` +
      'the 202, because monitors are evaluated as logs are committed and the outbox sends at once. With ' +
      'Datadog the same alert arrives about three minutes after the log (PRODUCT.md): log monitors are ' +
      'evaluated once a minute (datadog-compat.md §4.4) over a window that waits for logs arriving with ' +
      `delay, and the notification leaves after that evaluation; three minutes is ~${fmt(180_000 / Math.max(1, hookP99))} ` +
      'times this p99.',
    '',
    `Transitions of the other ${r.monitors.reduce((n, m) => n + m.n, 0) - 1} monitors: ${
      r.otherTransitions.size
        ? [...r.otherTransitions].map(([k, v]) => `\`${k}\` ${v.join(', ')}`).join('; ')
        : '**none** (as intended)'
    }.`,
    '',
    '### Evaluation cost (server CPU with 50 monitors minus with none, same traffic)',
    '',
    'CPU: user + system time of the server process (all threads: event loop, SQLite writer, checkpoints) ' +
      'from /proc/PID/stat over each round, in % of one core.',
    '',
    '| round | server | background 2xx/s | behind | non-2xx | errors | POST p50 | POST p99 | probes | server CPU | per request |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rounds.map(
      (x, i) =>
        `| ${Math.floor(i / 2) + 1} | ${x.server === 'A' ? 'A (0 monitors)' : 'B (50 monitors)'} | ` +
        `${fmt(x.load.ok / x.load.seconds)} | ${fmt(x.load.behind)} | ${fmt(x.load.non2xx)} | ` +
        `${fmt(x.load.errors)} | ${fmt(x.load.p50Ms, 1)} ms | ${fmt(x.load.p99Ms, 1)} ms | ${x.probes} | ` +
        `${fmt(x.cpuPct, 1)} % | ${fmt(x.cpuUs, 1)} µs |`,
    ),
    '',
    `Median server CPU: A ${fmt(median(a.map((x) => x.cpuPct)), 1)} %, B ${fmt(median(b.map((x) => x.cpuPct)), 1)} %; ` +
      `B − A per round pair: ${diffs.map((x) => `${fmt(x, 1)}`).join(', ')} points; **median ${fmt(diff, 1)} % of ` +
      `one core** (target ≤ ${CFG.targetCpuPct} %${fullRate ? `): ${met(costMet)}` : ', not comparable: see below)'}. Background achieved ` +
      `${fmt(rate)} events/s (median over rounds; "behind": requests due that were not sent because 64 were ` +
      `already waiting). Per request: A ${fmt(usA, 1)} µs, B ${fmt(usB, 1)} µs; (B − A) × ${fmt(CFG.rate)}/s = ` +
      `${fmt(projected, 1)} % of one core. Both servers exited with ${r.exit.a} / ${r.exit.b} after SIGTERM.`,
    ...(fullRate
      ? []
      : [
          '',
          `**The background did not reach ${fmt(CFG.rate)} events/s** (median A ${fmt(rateA)}/s, B ` +
            `${fmt(rateB)}/s): ${
              rateB < 0.8 * rateA
                ? 'B, with the monitors, fell far behind A under the same offered load: evaluation saturated it'
                : 'the machine could not drive it (see the load above)'
            }. The % difference is then not that of the target rate and does not decide the target; the ` +
            'per-request difference scaled to the target rate is the estimate.',
        ]),
    '',
    `**Summary:** p99 202 → committed transition ${ms(seenP99)} (target ≤ ${CFG.targetP99Ms} ms): ` +
      `${met(seenP99 <= CFG.targetP99Ms && fullRate)}${fullRate ? '' : ' (only at the rate B could carry)'}; ` +
      `p99 202 → webhook arrived ${ms(hookP99)} (target ≤ ${CFG.targetWebhookP99Ms} ms, Datadog ~3 min): ` +
      `${met(hookP99 <= CFG.targetWebhookP99Ms && fullRate)}${fullRate ? '' : ' (only at the rate B could carry)'}; ` +
      `every probe exactly one webhook request: ${met(hookAllOnce)}; ` +
      `evaluation ${fmt(cost, 1)} % of one core (target ≤ ${CFG.targetCpuPct} %): ${met(costMet)}; every probe ` +
      'triggered exactly once: ' +
      `${met(exactlyOne === bProbes.length && bProbes.length > 0)}.`,
  ];
  return lines.join('\n');
}

const START = '<!-- bench:alert:start -->';
const END = '<!-- bench:alert:end -->';

/** Replaces (or appends) only this benchmark's section, reading the file right before writing it. */
function writeSection(file: string, section: string): void {
  const block = `${START}\n${section}\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  const next =
    a >= 0 && b > a
      ? `${current.slice(0, a)}${block}${current.slice(b + END.length)}`
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

// ---------------------------------------------------------------------------------------------------------

/** Hard stop: whatever happens, the benchmark ends (and its children die) within this time. */
const DEADLINE_MS = (QUICK ? 5 : 20) * 60_000;

async function main(): Promise<void> {
  killChildrenOnExit();
  setTimeout(() => {
    log(`bench:alert: still running after ${DEADLINE_MS / 60_000} minutes, giving up`);
    process.exit(1);
  }, DEADLINE_MS).unref();
  const loadStart = loadavg();
  const others = otherBenchmarks();
  if (others.length) log(`note: other benchmarks running: ${others.join(', ')}`);
  const build = ensureBuilt();
  log(`build: ${build}`);
  const bg = new Background(CFG.pool);
  const A = await startFlowwatch();
  const B = await startFlowwatch();
  log(`A (no monitors) pid ${A.pid}, B (50 monitors) pid ${B.pid}`);
  const receiver = await startWebhookReceiver();
  await registerWebhook(B.url, receiver.url);
  log(`webhook bench on B → ${receiver.url}/hooks/bench`);
  // a heartbeat of every quiet service first, so that the `< 1` monitors start with data
  for (const fw of [A, B])
    for (let i = 0; i < QUIET_SERVICES.length; i++) {
      const r = await post(new URL(`${fw.url}${INTAKE}`), JSON_HEADERS, heartbeat(i), probeAgent);
      if (r.status !== 202) throw new Error(`heartbeat: HTTP ${r.status}`);
    }
  const defs = monitorDefs();
  const t0 = performance.now();
  const ids = new Map<number, MonitorDef>();
  for (const d of defs) ids.set(await createMonitor(B.url, d), d);
  const createMs = performance.now() - t0;
  const probeId = [...ids].find(([, d]) => d.query === PROBE_QUERY)?.[0] as number;
  log(`created ${ids.size} monitors on B in ${Math.round(createMs)} ms (probe monitor ${probeId})`);

  const watcher = new TransitionWatcher(B.dataDir);
  watcher.start();
  const agent = keepAliveAgent(CFG.sockets);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const probes: Probe[] = [];
  for (const [fw, name] of [
    [A, 'A'],
    [B, 'B'],
  ] as const) {
    const w = await round(fw, name, CFG.warmupS, bg, agent, undefined);
    log(`warm-up ${name}: ${Math.round(w.load.ok / w.load.seconds)} 2xx/s, CPU ${w.cpuPct.toFixed(1)} %`);
  }
  loop.enable();
  const rounds: Round[] = [];
  for (let i = 1; i <= CFG.rounds; i++) {
    for (const [fw, name] of [
      [A, 'A'],
      [B, 'B'],
    ] as const) {
      const r = await round(fw, name, CFG.roundS, bg, agent, probes);
      rounds.push(r);
      log(
        `round ${i} ${name}: ${Math.round(r.load.ok / r.load.seconds)} 2xx/s (behind ${r.load.behind}, ` +
          `non-2xx ${r.load.non2xx}, errors ${r.load.errors}, p99 ${r.load.p99Ms.toFixed(1)} ms), ` +
          `CPU ${r.cpuPct.toFixed(1)} %, ${r.probes} probes`,
      );
    }
  }
  loop.disable();
  // the last probes' transitions and webhooks
  await new Promise((r) => setTimeout(r, 2000));
  const waitedMs = 2000 + (await waitForWebhooks(receiver.arrivals, probes, CFG.webhookWaitMs));
  watcher.stop();
  agent.destroy();
  probeAgent.destroy();

  const { probeTransitions, otherTransitions } = classify(watcher.rows, probes, ids, probeId);
  const webhook: WebhookStats = {
    ...matchWebhooks(receiver.arrivals, probes),
    ...(await outboxState(B.url)),
    waitedMs,
  };
  const groups = await countGroups(B.url);
  const exitA = await stopChild(A, 'SIGTERM');
  const exitB = await stopChild(B, 'SIGTERM');
  await receiver.close();
  const kinds = new Map<string, number>();
  for (const d of defs) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  const report: Report = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    node: process.version,
    cpus: cpus().length,
    build,
    load: { start: loadStart, end: loadavg(), others: [...new Set([...others, ...otherBenchmarks()])] },
    failShare: bg.failShare,
    monitors: [...kinds].map(([kind, n]) => ({ kind, n })),
    rounds,
    probes,
    otherTransitions,
    probeTransitions,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    exit: { a: exitA, b: exitB },
    createMs,
    groups,
    webhook,
  };
  const section = renderSection(report);
  process.stdout.write(`\n${section}\n`);
  if (QUICK && process.env.BENCH_WRITE_DOCS !== '1') log('\nBENCH_QUICK=1: docs/benchmarks.md left as it is');
  else {
    writeSection(path.join(ROOT, 'docs/benchmarks.md'), section);
    log('\nwrote the bench:alert section of docs/benchmarks.md');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:alert failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
