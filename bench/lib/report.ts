// Benchmark report: one Markdown section, printed to stdout and kept in docs/benchmarks.md between markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { InsertRound } from './insert-baseline.ts';
import { median as medianOf, type RunResult } from './load.ts';

/** Single-event POST results. */
export interface SingleReport {
  connections: number;
  baseline: RunResult[];
  flowwatch: RunResult[];
  /** the same server with the built-in Okta pipeline disabled */
  flowwatchNoPipeline: RunResult[];
  /** the storage floor: node:http + JSON.parse + normalize + the same group commit (bench/storage-floor-server.ts) */
  floor: RunResult[];
  /** 2xx answered by Flowwatch over all runs, warm-ups included */
  acked: number;
  stored: number;
  exitCode: number | null;
}

/** Gzip batch results. */
export interface BatchReport {
  connections: number;
  eventsPerBody: number;
  gzipBytesPerBody: number;
  baseline: InsertRound[];
  flowwatch: RunResult[];
  /** events in 2xx-answered bodies, warm-ups included */
  acked: number;
  stored: number;
  exitCode: number | null;
  /** bodies generated during measurement because the pre-generated pool ran out */
  generatedLate: number;
}

/** Everything one run of bench:intake measured. */
export interface Report {
  date: string;
  node: string;
  cpus: number;
  launcher: string;
  build: string;
  single: SingleReport;
  batch: BatchReport;
  rssSingleMax: number;
  rssBatchMax: number;
}

/** Targets of PRODUCT/brief: ratios to the baselines and the memory ceiling. */
export const TARGETS = { singleRatio: 0.6, batchRatio: 0.5, rssMb: 300, pipelineCost: 0.1 } as const;

const START = '<!-- bench:intake:start -->';
const END = '<!-- bench:intake:end -->';

const HEADER = `# Benchmarks

\`npm run bench:intake\` (bench/intake.ts) measures the Datadog intake of Flowwatch against baselines that do the
least possible work, on 127.0.0.1 only, in about four minutes (it gives up after six):

1. **Single-event POSTs** in the Okta Workflows ELS body template (each with a unique \`idempotency_key\` and
   \`execution_id\`, so nothing is deduplicated), autocannon with 50 connections, against a bare \`node:http\`
   server that reads the body, \`JSON.parse\`s it and answers 202 \`{}\`, and against \`flowwatch serve\`. A third
   server, the *storage floor* (bench/storage-floor-server.ts), does only what storing the event durably in
   Flowwatch's schema takes: node:http, \`JSON.parse\`, \`normalize()\` and the same group commit through the
   same writer thread (logs table and indexes, full-text index, rollups), 202 after the commit; no keys, no
   Fastify, no pipelines, no monitors. All servers are child processes so that they share the CPUs with the
   load generator the same way; rounds are interleaved (baseline, floor, Flowwatch, …) and each has a warm-up. After the rounds the Flowwatch child is stopped
   with SIGTERM and the rows in its SQLite file are counted: every 2xx must have been stored.
2. **1000-event gzip arrays** posted to Flowwatch with 8 connections, against plain better-sqlite3 inserts of
   the same normalised rows into the same schema with the same statement (\`SqliteStore.appendLogs\`, 1000 per
   transaction; only the insert is timed).
3. **Resident memory** of the Flowwatch child (VmRSS every 250 ms through all rounds).

The machine is shared and small (2 cores, load generator included), so absolute figures move from run to run;
the ratios to the baselines measured in the same run are what the targets are about. Each ratio is the median
of the rounds' ratios (the servers of a round run back to back, so each ratio compares runs made under the
same load on the machine), and the pipeline's two runs alternate in order from round to round. The server CPU per request
(user + system time of the server process from /proc/PID/stat around each run, divided by the requests it
answered) is the figure least disturbed by other work on the machine. \`BENCH_QUICK=1\` runs one short round of
each as a smoke test; \`BENCH_FLOWWATCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"\` profiles the Flowwatch child.
`;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const num = (x: number) => Math.round(x).toLocaleString('en-US');
const us = (x: number) => `${x.toFixed(1)} µs`;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const pass = (ok: boolean) => (ok ? '**pass**' : '**FAIL**');

/**
 * The median over rounds of a figure comparing two servers' runs of the same round. Each round runs the
 * servers back to back, so a per-round ratio compares runs made under the same load on the machine; the
 * median of those moves less than a ratio of medians when the machine's speed drifts during the run.
 */
function pairedMedian<A, B>(a: A[], b: B[], f: (x: A, y: B) => number): number {
  const n = Math.min(a.length, b.length);
  return medianOf(Array.from({ length: n }, (_, i) => f(a[i] as A, b[i] as B)));
}

/** Median rates, CPU costs and ratios derived from the rounds. */
export function summary(r: Report) {
  const n = r.batch.eventsPerBody;
  const sBase = medianOf(r.single.baseline.map((x) => x.okPerSec));
  const sFw = medianOf(r.single.flowwatch.map((x) => x.okPerSec));
  const sBaseCpu = medianOf(r.single.baseline.map((x) => x.serverCpuUs));
  const sFwCpu = medianOf(r.single.flowwatch.map((x) => x.serverCpuUs));
  const sNoPipe = medianOf(r.single.flowwatchNoPipeline.map((x) => x.okPerSec));
  const sNoPipeCpu = medianOf(r.single.flowwatchNoPipeline.map((x) => x.serverCpuUs));
  const sFloor = medianOf(r.single.floor.map((x) => x.okPerSec));
  const sFloorCpu = medianOf(r.single.floor.map((x) => x.serverCpuUs));
  const bBase = medianOf(r.batch.baseline.map((x) => x.eventsPerSec));
  const bFw = medianOf(r.batch.flowwatch.map((x) => x.okPerSec * n));
  const bBaseCpu = medianOf(r.batch.baseline.map((x) => x.cpuUsPerEvent));
  const bFwCpu = medianOf(r.batch.flowwatch.map((x) => x.serverCpuUs / n));
  return {
    sBase,
    sFw,
    sRatio: pairedMedian(r.single.flowwatch, r.single.baseline, (f, b) => f.okPerSec / b.okPerSec),
    floorRatio: pairedMedian(r.single.floor, r.single.baseline, (f, b) => f.okPerSec / b.okPerSec),
    fwToFloor: pairedMedian(r.single.flowwatch, r.single.floor, (f, b) => f.okPerSec / b.okPerSec),
    sBaseCpu,
    sFwCpu,
    sNoPipe,
    sNoPipeCpu,
    sFloor,
    sFloorCpu,
    /** throughput lost to the built-in Okta pipeline */
    pipelineCost: pairedMedian(
      r.single.flowwatch,
      r.single.flowwatchNoPipeline,
      (f, n) => 1 - f.okPerSec / n.okPerSec,
    ),
    bBase,
    bFw,
    bRatio: pairedMedian(r.batch.flowwatch, r.batch.baseline, (f, b) => (f.okPerSec * n) / b.eventsPerSec),
    bBaseCpu,
    bFwCpu,
    rss: Math.max(r.rssSingleMax, r.rssBatchMax),
    sDurable: r.single.stored >= r.single.acked,
    bDurable: r.batch.stored >= r.batch.acked,
  };
}

function runCells(x: RunResult, perRequest = 1): string {
  const unit = perRequest > 1 ? 'event' : 'req';
  return (
    `${num(x.okPerSec * perRequest)} ${perRequest > 1 ? 'events' : 'req'}/s, p99 ${x.p99Ms} ms, non-2xx ${x.non2xx}, errors ${x.errors}, ` +
    `server CPU ${x.serverCpuPct.toFixed(0)} % (${(x.serverCpuUs / perRequest).toFixed(1)} µs/${unit})`
  );
}

function singleSection(r: Report, s: ReturnType<typeof summary>): string[] {
  const p99 = (xs: RunResult[]) => medianOf(xs.map((x) => x.p99Ms));
  const sum = (xs: RunResult[], f: (x: RunResult) => number) => xs.reduce((a, x) => a + f(x), 0);
  const { baseline: b, flowwatch: f } = r.single;
  return [
    `### Single-event POSTs (${r.single.connections} connections, ${b.length} interleaved rounds of four ~${Math.round(f[0]?.seconds ?? 0)} s runs)`,
    '',
    '| | median req/s | median p99 latency | non-2xx | errors/timeouts | server CPU per request |',
    '|---|---:|---:|---:|---:|---:|',
    `| bare node:http + JSON.parse | ${num(s.sBase)} | ${p99(b)} ms | ${sum(b, (x) => x.non2xx)} | ${sum(b, (x) => x.errors)} | ${us(s.sBaseCpu)} |`,
    `| storage floor: node:http + JSON.parse + normalize + the same group commit | ${num(s.sFloor)} | ${p99(r.single.floor)} ms | ${sum(r.single.floor, (x) => x.non2xx)} | ${sum(r.single.floor, (x) => x.errors)} | ${us(s.sFloorCpu)} |`,
    `| Flowwatch | ${num(s.sFw)} | ${p99(f)} ms | ${sum(f, (x) => x.non2xx)} | ${sum(f, (x) => x.errors)} | ${us(s.sFwCpu)} |`,
    `| Flowwatch, built-in Okta pipeline disabled | ${num(s.sNoPipe)} | ${p99(r.single.flowwatchNoPipeline)} ms | ${sum(r.single.flowwatchNoPipeline, (x) => x.non2xx)} | ${sum(r.single.flowwatchNoPipeline, (x) => x.errors)} | ${us(s.sNoPipeCpu)} |`,
    '',
    `Cost of the built-in Okta pipeline: **${pct(s.pipelineCost)}** of throughput (target ≤ ${pct(TARGETS.pipelineCost)}): ${pass(s.pipelineCost <= TARGETS.pipelineCost)}; ` +
      `${us(s.sFwCpu - s.sNoPipeCpu)} more server CPU per request.`,
    '',
    `Ratio Flowwatch / baseline: **${pct(s.sRatio)}** (target ≥ ${pct(TARGETS.singleRatio)}): ${pass(s.sRatio >= TARGETS.singleRatio)}. ` +
      `CPU cost ratio (baseline µs / Flowwatch µs per request, less sensitive to other load on the machine): ${pct(s.sBaseCpu / s.sFwCpu)}.`,
    '',
    `Storage floor / baseline: **${pct(s.floorRatio)}** (CPU ${pct(s.sBaseCpu / s.sFloorCpu)}): the most any server can reach ` +
      `that stores each event durably in this schema (logs table and indexes, full-text index, rollups) on this machine. ` +
      `Flowwatch / storage floor: **${pct(s.fwToFloor)}** (what keys, Fastify, pipelines, monitors and metrics cost on top).`,
    '',
    `Durability: ${num(r.single.acked)} requests answered 2xx (warm-ups included), ${num(r.single.stored)} rows in ` +
      `\`logs\` after SIGTERM (exit code ${r.single.exitCode}): ${pass(s.sDurable && r.single.exitCode === 0)}` +
      (r.single.stored > r.single.acked
        ? ` (${r.single.stored - r.single.acked} more rows: requests in flight when a run stopped)`
        : ''),
    '',
    'Rounds:',
    '',
    ...b.flatMap((x, i) => [
      `- baseline ${i + 1}: ${runCells(x)}`,
      ...(r.single.floor[i] ? [`- storage floor ${i + 1}: ${runCells(r.single.floor[i]!)}`] : []),
      ...(f[i] ? [`- Flowwatch ${i + 1}: ${runCells(f[i]!)}`] : []),
      ...(r.single.flowwatchNoPipeline[i]
        ? [`- Flowwatch without the Okta pipeline ${i + 1}: ${runCells(r.single.flowwatchNoPipeline[i]!)}`]
        : []),
    ]),
  ];
}

function batchSection(r: Report, s: ReturnType<typeof summary>): string[] {
  const { baseline: b, flowwatch: f, eventsPerBody: n } = r.batch;
  const p99 = medianOf(f.map((x) => x.p99Ms));
  return [
    `### ${n}-event gzip arrays (${r.batch.connections} connections, ~${num(r.batch.gzipBytesPerBody)} bytes gzip per body)`,
    '',
    '| | median events/s | CPU per event | notes |',
    '|---|---:|---:|---|',
    `| better-sqlite3 appendLogs, ${n} rows per transaction | ${num(s.bBase)} | ${us(s.bBaseCpu)} | insert time only |`,
    `| Flowwatch POST /api/v2/logs | ${num(s.bFw)} | ${us(s.bFwCpu)} | p99 ${p99} ms per request, non-2xx ${f.reduce((a, x) => a + x.non2xx, 0)}, errors ${f.reduce((a, x) => a + x.errors, 0)} |`,
    '',
    `Ratio Flowwatch / baseline: **${pct(s.bRatio)}** (target ≥ ${pct(TARGETS.batchRatio)}): ${pass(s.bRatio >= TARGETS.batchRatio)}. ` +
      `CPU cost ratio: ${pct(s.bBaseCpu / s.bFwCpu)}.`,
    '',
    `Durability: ${num(r.batch.acked)} events in 2xx-answered bodies, ${num(r.batch.stored)} rows after SIGTERM ` +
      `(exit code ${r.batch.exitCode}): ${pass(s.bDurable && r.batch.exitCode === 0)}`,
    ...(r.batch.generatedLate > 0
      ? ['', `(${r.batch.generatedLate} bodies were generated during measurement: the pool ran out.)`]
      : []),
    '',
    'Rounds:',
    '',
    ...b.flatMap((x, i) => [
      `- baseline ${i + 1}: ${num(x.eventsPerSec)} events/s (${num(x.events)} rows in ${x.insertSeconds.toFixed(2)} s of inserts, ` +
        `${x.cpuUsPerEvent.toFixed(1)} µs CPU/event)`,
      ...(f[i] ? [`- Flowwatch ${i + 1}: ${runCells(f[i]!, n)}`] : []),
    ]),
  ];
}

/** The Markdown section (without markers). */
export function renderSection(r: Report): string {
  const s = summary(r);
  return [
    `## bench:intake, ${r.date}`,
    '',
    `Node ${r.node}, ${r.cpus} CPUs, Flowwatch started from ${r.launcher} (${r.build}).`,
    '',
    ...singleSection(r, s),
    '',
    ...batchSection(r, s),
    '',
    '### Resident memory of the Flowwatch child',
    '',
    `Max VmRSS: single-event rounds ${mb(r.rssSingleMax)}, gzip rounds ${mb(r.rssBatchMax)}; ` +
      `max ${mb(s.rss)} (target < ${TARGETS.rssMb} MB): ${pass(s.rss < TARGETS.rssMb * 1024 * 1024)}`,
  ].join('\n');
}

/** Writes the section into `file` between the bench:intake markers, creating the file with its header. */
export function writeDocs(file: string, section: string): void {
  const block = `${START}\n${section}\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  const next =
    a >= 0 && b > a
      ? `${current.slice(0, a)}${block}${current.slice(b + END.length)}`
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
