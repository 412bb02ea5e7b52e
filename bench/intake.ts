// `npm run bench:intake`: Flowwatch's Datadog intake against bare baselines (single ELS events over HTTP,
// 1000-event gzip arrays vs plain SQLite inserts), durability of every 2xx, and the server's peak RSS.
// Prints a Markdown report and keeps it in docs/benchmarks.md. Traffic stays on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import {
  type Child,
  freePort,
  killChildrenOnExit,
  RssSampler,
  spawnNode,
  stopChild,
  tempDir,
  waitHealthy,
} from './lib/children.ts';
import { ElsGenerator } from './lib/els-bodies.ts';
import {
  API_KEY,
  countStoredLogs,
  ensureBuilt,
  type FlowwatchChild,
  ROOT,
  START_NODE_ARGS,
  setOktaPipeline,
  startFlowwatch,
} from './lib/flowwatch.ts';
import { InsertBaseline } from './lib/insert-baseline.ts';
import { type RunResult, run } from './lib/load.ts';
import { type BatchReport, type Report, renderSection, type SingleReport, writeDocs } from './lib/report.ts';

/** Durations and sizes; BENCH_QUICK=1 shrinks them to smoke-test the script. */
const QUICK = process.env.BENCH_QUICK === '1';
const CFG = {
  singleRounds: QUICK ? 1 : 4,
  batchRounds: QUICK ? 1 : 3,
  warmupS: QUICK ? 1 : 2,
  measureS: QUICK ? 2 : 8,
  singleConnections: 50,
  batchConnections: 8,
  batchEvents: 1000,
  batchWarmupS: 1,
  batchMeasureS: QUICK ? 2 : 6,
  insertRoundS: QUICK ? 1 : 4,
  /** gzip bodies generated before the first Flowwatch round; later rounds size the pool from the last rate */
  batchPool: QUICK ? 50 : 250,
};

const INTAKE_PATH = '/api/v2/logs';
const JSON_HEADERS = { 'content-type': 'application/json', 'dd-api-key': API_KEY };
const GZIP_HEADERS = { ...JSON_HEADERS, 'content-encoding': 'gzip' };

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describe(label: string, r: RunResult, perRequest = 1): string {
  const [one, many] = perRequest > 1 ? ['event', 'events'] : ['req', 'req'];
  const rate = `${Math.round(r.okPerSec * perRequest)} ${many}/s`;
  const cpu = `server CPU ${Math.round(r.serverCpuPct)} %, ${Math.round(r.serverCpuUs / perRequest)} µs/${one}`;
  return `${label}: ${rate}, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}, errors ${r.errors}, ${cpu}`;
}

/** Starts the bare node:http baseline as a child. */
async function startBaselineServer(): Promise<Child> {
  const port = await freePort();
  const child = spawnNode(['--import', 'tsx', 'bench/baseline-server.ts', String(port)], {
    cwd: ROOT,
    env: process.env,
    url: `http://127.0.0.1:${port}`,
  });
  await waitHealthy(child, '/', 15_000);
  return child;
}

/** Starts the storage floor (bench/storage-floor-server.ts) as a child on a fresh data directory. */
async function startFloorServer(): Promise<Child> {
  const port = await freePort();
  const child = spawnNode(
    // The same node flags as `npm start` (the heap cap), as Flowwatch runs with them.
    [
      ...START_NODE_ARGS,
      '--import',
      'tsx',
      'bench/storage-floor-server.ts',
      String(port),
      tempDir('flowwatch-bench-floor-'),
    ],
    { cwd: ROOT, env: process.env, url: `http://127.0.0.1:${port}` },
  );
  await waitHealthy(child, '/', 15_000);
  return child;
}

/** A warm-up run then a measured run of single-event POSTs; returns the measured run and all 2xx. */
async function singleRound(server: Child, gen: ElsGenerator): Promise<{ measured: RunResult; ok: number }> {
  const base = {
    url: `${server.url}${INTAKE_PATH}`,
    connections: CFG.singleConnections,
    headers: JSON_HEADERS,
    serverPid: server.pid,
  };
  // Every run starts from the same state of the disk: what the previous run left dirty in the page cache
  // is written out first instead of during this one (it used to slow whichever server ran next).
  spawnSync('sync');
  const warm = await run({ ...base, seconds: CFG.warmupS, nextBody: () => gen.body() });
  const measured = await run({ ...base, seconds: CFG.measureS, nextBody: () => gen.body() });
  return { measured, ok: warm.ok + measured.ok };
}

/** Part 1: interleaved single-event rounds, then the durability check of the Flowwatch child. */
async function singleEvents(rss: RssSampler): Promise<{ report: SingleReport; launcher: string }> {
  const gen = new ElsGenerator();
  const baseline = await startBaselineServer();
  const floor = await startFloorServer();
  const fw = await startFlowwatch();
  log(`single events: Flowwatch from ${fw.launcher}, pid ${fw.pid}, data ${fw.dataDir}`);
  rss.watch(fw.pid);
  const report: SingleReport = {
    connections: CFG.singleConnections,
    baseline: [],
    flowwatch: [],
    flowwatchNoPipeline: [],
    floor: [],
    acked: 0,
    stored: 0,
    exitCode: null,
  };
  for (let i = 1; i <= CFG.singleRounds; i++) {
    const b = await singleRound(baseline, gen);
    report.baseline.push(b.measured);
    log(describe(`  baseline ${i}`, b.measured));
    const fl = await singleRound(floor, gen);
    report.floor.push(fl.measured);
    log(describe(`  storage floor ${i}`, fl.measured));
    // The same server with the built-in Okta pipeline disabled gives the pipeline's cost; the two runs
    // alternate in order so that a machine slowing down or speeding up does not favour either.
    const withPipeline = async () => {
      const f = await singleRound(fw, gen);
      report.flowwatch.push(f.measured);
      report.acked += f.ok;
      log(describe(`  flowwatch ${i}`, f.measured));
    };
    const withoutPipeline = async () => {
      await setOktaPipeline(fw.url, false);
      const n = await singleRound(fw, gen);
      await setOktaPipeline(fw.url, true);
      report.flowwatchNoPipeline.push(n.measured);
      report.acked += n.ok;
      log(describe(`  flowwatch without the Okta pipeline ${i}`, n.measured));
    };
    if (i % 2 === 1) {
      await withPipeline();
      await withoutPipeline();
    } else {
      await withoutPipeline();
      await withPipeline();
    }
  }
  await stopChild(baseline);
  await stopChild(floor, 'SIGTERM');
  await finishFlowwatch(fw, rss, report);
  return { report, launcher: fw.launcher };
}

/** Stops a Flowwatch child with SIGTERM and counts what it stored. */
async function finishFlowwatch(
  fw: FlowwatchChild,
  rss: RssSampler,
  into: { stored: number; exitCode: number | null },
) {
  into.exitCode = await stopChild(fw, 'SIGTERM');
  rss.stop();
  into.stored = countStoredLogs(fw.dataDir);
  if (into.exitCode !== 0) log(`  flowwatch exited with ${into.exitCode}: ${fw.output().slice(-2000)}`);
}

/** Gzip bodies generated ahead of a run (so the load generator only sends), with a counted fallback. */
class BodyPool {
  private bodies: Buffer[] = [];
  private generated = 0;
  private bytes = 0;
  /** bodies generated during a run because the pool was empty */
  late = 0;

  constructor(
    private readonly gen: ElsGenerator,
    private readonly events: number,
  ) {}

  private make(): Buffer {
    const b = this.gen.gzipArray(this.events);
    this.generated++;
    this.bytes += b.length;
    return b;
  }

  /** Generates bodies until `n` are ready. */
  topUp(n: number): void {
    while (this.bodies.length < n) this.bodies.push(this.make());
  }

  /** Average compressed size of the bodies generated so far. */
  avgBytes(): number {
    return this.bytes / Math.max(1, this.generated);
  }

  /** The next unused body. */
  next(): Buffer {
    const b = this.bodies.pop();
    if (b) return b;
    this.late++;
    return this.make();
  }
}

/** Part 2: interleaved insert-baseline and Flowwatch gzip-array rounds, then the durability check. */
async function gzipBatches(rss: RssSampler): Promise<BatchReport> {
  const gen = new ElsGenerator();
  const pool = new BodyPool(gen, CFG.batchEvents);
  pool.topUp(CFG.batchPool);
  const inserts = new InsertBaseline(new ElsGenerator());
  const fw = await startFlowwatch();
  log(
    `gzip batches: Flowwatch from ${fw.launcher}, pid ${fw.pid}, bodies of ~${Math.round(pool.avgBytes())} bytes`,
  );
  rss.watch(fw.pid);
  const report: BatchReport = {
    connections: CFG.batchConnections,
    eventsPerBody: CFG.batchEvents,
    gzipBytesPerBody: 0,
    baseline: [],
    flowwatch: [],
    acked: 0,
    stored: 0,
    exitCode: null,
    generatedLate: 0,
  };
  const base = {
    url: `${fw.url}${INTAKE_PATH}`,
    connections: CFG.batchConnections,
    headers: GZIP_HEADERS,
    nextBody: () => pool.next(),
    serverPid: fw.pid,
  };
  for (let i = 1; i <= CFG.batchRounds; i++) {
    const b = await inserts.round(CFG.insertRoundS, CFG.batchEvents);
    report.baseline.push(b);
    log(
      `  inserts ${i}: ${Math.round(b.eventsPerSec)} events/s (${b.events} rows, ` +
        `${b.insertSeconds.toFixed(2)} s inserting, ${b.cpuUsPerEvent.toFixed(1)} µs CPU/event)`,
    );
    const last = report.flowwatch.at(-1);
    if (last) pool.topUp(Math.ceil(1.5 * last.okPerSec * (CFG.batchWarmupS + CFG.batchMeasureS)) + 20);
    const warm = await run({ ...base, seconds: CFG.batchWarmupS });
    const f = await run({ ...base, seconds: CFG.batchMeasureS });
    report.flowwatch.push(f);
    report.acked += (warm.ok + f.ok) * CFG.batchEvents;
    log(describe(`  flowwatch ${i}`, f, CFG.batchEvents));
  }
  await inserts.close();
  report.generatedLate = pool.late;
  report.gzipBytesPerBody = pool.avgBytes();
  await finishFlowwatch(fw, rss, report);
  return report;
}

/** Hard stop: whatever happens, the benchmark ends (and its children die) within this time. */
const DEADLINE_MS = 6 * 60_000;

async function main(): Promise<void> {
  killChildrenOnExit();
  setTimeout(() => {
    log(`bench:intake: still running after ${DEADLINE_MS / 60_000} minutes, giving up`);
    process.exit(1);
  }, DEADLINE_MS).unref();
  const started = Date.now();
  const build = ensureBuilt();
  log(`build: ${build}`);
  const rssSingle = new RssSampler();
  const single =
    process.env.BENCH_ONLY_GZIP === '1'
      ? { report: undefined as never, launcher: '' }
      : await singleEvents(rssSingle);
  const rssBatch = new RssSampler();
  const batch = await gzipBatches(rssBatch);
  if (process.env.BENCH_ONLY_GZIP === '1') {
    // An experiment on the gzip rounds (memory): the figures are printed, docs/benchmarks.md is left alone.
    log(`gzip rounds only: max VmRSS ${Math.round(rssBatch.max / 1048576)} MB`);
    return;
  }
  const report: Report = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    node: process.version,
    cpus: cpus().length,
    launcher: single.launcher,
    build,
    single: single.report,
    batch,
    rssSingleMax: rssSingle.max,
    rssBatchMax: rssBatch.max,
  };
  const section = renderSection(report);
  process.stdout.write(`\n${section}\n`);
  writeDocs(path.join(ROOT, 'docs/benchmarks.md'), section);
  log(`\nwrote docs/benchmarks.md in ${Math.round((Date.now() - started) / 1000)} s total`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench:intake failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
