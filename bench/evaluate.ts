// bench:evaluate — the monitor evaluator's CPU per committed log, in process (no HTTP, no load generator):
// the 50 monitors of bench:alert (bench/lib/monitor-defs.ts) against none, over the same simulated Okta
// traffic fed log by log as single-event commits are, with the 1 s tick and the state saves included.
// Process CPU time (user + system) is what is compared, so other work on the machine matters little.
// Prints the figures; docs/benchmarks.md records them by hand with bench:alert's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogEvent } from '../src/domain/log-event.ts';
import { normalize } from '../src/intake/normalize.ts';
import { MonitorEvaluator } from '../src/monitors/evaluator.ts';
import { ElsSimulator, oktaDatadogBody } from '../src/okta/simulator.ts';
import { PipelineService } from '../src/pipelines/service.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { monitorDefs } from './lib/monitor-defs.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS = QUICK ? 5_000 : 60_000;
const RATE = 2_000; // events per second of simulated time, as bench:alert's target
const ROUNDS = QUICK ? 1 : 3;

async function traffic(store: SqliteStore, startMs: number): Promise<LogEvent[]> {
  const pipelines = new PipelineService(store);
  await pipelines.start();
  const sim = new ElsSimulator({ seed: 7, flows: 60, failureRatio: 0.009, startMs, eventsPerSecond: RATE });
  return sim.take(EVENTS).map((e) => {
    const item: unknown = JSON.parse(oktaDatadogBody(e));
    const event = normalize(item, {}, { now: Date.parse(e.timestamp), outOfWindow: 'keep', checkSize: false })
      .event as LogEvent;
    pipelines.process([event], event.timestamp);
    return event;
  });
}

/** CPU µs per log of the evaluator with `monitors` of the 50 (0 = none). */
async function round(monitors: number): Promise<{ usPerLog: number; events: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-bench-evaluate-'));
  const store = new SqliteStore({ dataDir: dir });
  try {
    const start = Date.now() - (EVENTS / RATE) * 1000 - 60_000;
    const logs = await traffic(store, start);
    for (const d of monitorDefs().slice(0, monitors)) {
      const options = { ...(d.options ?? {}) } as never;
      await store.insertMonitor(
        { name: d.name, type: 'log alert', query: d.query, message: '', tags: [], priority: null, options },
        start,
      );
    }
    let now = start;
    const ev = new MonitorEvaluator({ store, now: () => now, tickMs: 0 });
    await ev.start();
    let lastTick = now;
    let saved = 0;
    const cpu = process.cpuUsage();
    for (const log of logs) {
      now = log.timestamp + 500; // committed half a second after the event's date
      ev.feed([log]);
      if (now - lastTick >= 1000) {
        lastTick = now;
        ev.tick();
        // let the state saves run, as the event loop would between commits
        await new Promise((r) => setImmediate(r));
        saved++;
      }
    }
    await ev.stop();
    const used = process.cpuUsage(cpu);
    if (saved === 0) throw new Error('no tick ran: the traffic is too short');
    return { usPerLog: (used.user + used.system) / logs.length, events: logs.length };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const none: number[] = [];
  const fifty: number[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const a = await round(0);
    const b = await round(50);
    none.push(a.usPerLog);
    fifty.push(b.usPerLog);
    process.stdout.write(
      `round ${i}: ${a.events} logs; no monitors ${a.usPerLog.toFixed(1)} µs/log, 50 monitors ${b.usPerLog.toFixed(1)} µs/log\n`,
    );
  }
  const cost = median(fifty) - median(none);
  const share = (cost * RATE) / 1e6;
  process.stdout.write(
    `\nmedian: no monitors ${median(none).toFixed(1)} µs/log, 50 monitors ${median(fifty).toFixed(1)} µs/log; ` +
      `evaluation ${cost.toFixed(1)} µs/log = ${(share * 100).toFixed(1)} % of one core at ${RATE} logs/s ` +
      `(target ≤ 20 %): ${share <= 0.2 ? 'met' : 'NOT met'}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:evaluate failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
