// Backpressure, a full database and retention: intake refuses cleanly and never loses what it acknowledged.
import { afterEach, describe, expect, it } from 'vitest';
import { LogWriter } from '../src/intake/writer.ts';
import type { Running } from '../src/main.ts';
import { createMetrics } from '../src/metrics/metrics.ts';
import { makeLog } from '../src/store/conformance.ts';
import { runRetention } from '../src/store/retention.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { API_KEY, startTestServer, tempDir } from './helpers/server.ts';

let srv: (Running & { dataDir: string }) | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const post = (url: string, body: string) =>
  fetch(`${url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': API_KEY },
    body,
  });

describe('backpressure', () => {
  it('answers 503 with Retry-After when the queue is full, and stores every 202', async () => {
    // A real SQLite store whose commits take 50 ms, as a slow disk would, so that the queue fills up.
    const dataDir = tempDir();
    const real = new SqliteStore({ dataDir });
    const slow = Object.assign(Object.create(real) as SqliteStore, {
      appendEncoded: async (groups: Parameters<SqliteStore['appendEncoded']>[0]) => {
        await new Promise((r) => setTimeout(r, 50));
        return real.appendEncoded(groups);
      },
    });
    srv = await startTestServer({ max_queue_events: 5, data_dir: dataDir }, slow);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(srv!.url, JSON.stringify({ message: `bp-${i}` })).then(async (r) => ({
          i,
          status: r.status,
          retry: r.headers.get('retry-after'),
          body: await r.json(),
        })),
      ),
    );
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 503);
    expect(accepted.length + refused.length).toBe(200);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.retry).toBe('1');
    expect((refused[0]!.body as any).errors[0].detail).toMatch(/retry later/);
    const page = await srv.store.readLogs({ from: 0, to: Date.now() + 1e7, sort: 'asc', limit: 1000 });
    expect(page.logs.map((l) => l.message).sort()).toEqual(accepted.map((r) => `bp-${r.i}`).sort());
  });

  it('the writer commits concurrent submissions in one group and resolves each with its own results', async () => {
    const store = new SqliteStore({ dataDir: tempDir() });
    const metrics = createMetrics();
    const writer = new LogWriter(store, metrics, 1000);
    const results = await Promise.all([
      writer.submit([makeLog({ dedup_key: 'a' }), makeLog({ dedup_key: 'b' })]),
      writer.submit([makeLog({ dedup_key: 'a' })]),
      writer.submit([makeLog()]),
    ]);
    expect(results).toEqual([[true, true], [false], [true]]);
    // Commit listeners (monitors, live tail) get exactly the stored logs, duplicates left out.
    const seen: string[] = [];
    writer.onCommit((events) => seen.push(...events.map((e) => e.message)));
    await Promise.all([
      writer.submit([
        makeLog({ dedup_key: 'a', message: 'dup' }),
        makeLog({ dedup_key: 'c', message: 'new-c' }),
      ]),
      writer.submit([makeLog({ message: 'plain' })]),
    ]);
    expect(seen).toEqual(['new-c', 'plain']);
    const batches = (
      await metrics.registry.getSingleMetric('flowwatch_store_commit_logs')!.get()
    ).values.find((v) => (v as { metricName?: string }).metricName === 'flowwatch_store_commit_logs_count');
    expect(batches?.value).toBe(2);
    await store.close();
  });
});

describe('a full database', () => {
  it('answers 507 once max_db_size_mb is reached, keeps earlier logs and keeps serving reads', async () => {
    srv = await startTestServer({ max_db_size_mb: 2 });
    expect((await post(srv.url, JSON.stringify({ message: 'before-full' }))).status).toBe(202);
    const chunk = JSON.stringify(
      Array.from({ length: 20 }, (_, i) => ({ message: `${i}${'z'.repeat(20_000)}` })),
    );
    let status = 202;
    let answer: any;
    for (let i = 0; i < 50 && status === 202; i++) {
      const res = await post(srv.url, chunk);
      status = res.status;
      answer = await res.json();
      if (status !== 202) expect(res.headers.get('retry-after')).toBe('60');
    }
    expect(status).toBe(507);
    expect(answer.errors[0]).toMatchObject({ status: '507', title: 'Insufficient Storage' });
    expect(answer.errors[0].detail).toMatch(/max_db_size_mb/);
    const page = await srv.store.readLogs({ from: 0, to: Date.now() + 1e7, sort: 'asc', limit: 1 });
    expect(page.logs[0]!.message).toBe('before-full');
    // Not ready while nothing can be persisted, and it says why.
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).detail).toMatch(/database is full/);
    const integrity = (srv.store as SqliteStore).db.pragma('integrity_check', { simple: true });
    expect(integrity).toBe('ok');
  });
});

describe('retention', () => {
  it('deletes only logs older than the cutoff, in batches, while writes continue', async () => {
    const store = new SqliteStore({ dataDir: tempDir() });
    const now = Date.now();
    const old = Array.from({ length: 5000 }, (_, i) =>
      makeLog({ timestamp: now - 91 * 86_400_000 + i, message: `old${i}` }),
    );
    await store.appendLogs(old);
    await store.appendLogs([makeLog({ timestamp: now - 89 * 86_400_000, message: 'recent' })]);
    const deleting = runRetention(store, now - 90 * 86_400_000);
    // Writes interleave with the batches of the running pass.
    await store.appendLogs([makeLog({ timestamp: now, message: 'during' })]);
    expect(await deleting).toBe(5000);
    const left = await store.readLogs({ from: 0, to: now + 1, sort: 'asc', limit: 10 });
    expect(left.logs.map((l) => l.message)).toEqual(['recent', 'during']);
    await store.close();
  });
});

describe('in-flight byte budget', () => {
  it('counts decompressed bytes: small gzip bodies that inflate past the budget get 503, the rest are stored', async () => {
    const { gzipSync } = await import('node:zlib');
    srv = await startTestServer({ max_inflight_bytes: 6 * 1024 * 1024 });
    const body = (i: number) =>
      gzipSync(
        JSON.stringify(
          Array.from({ length: 500 }, (_, k) => ({ message: `inflate-${i}-${k}`, pad: ' '.repeat(4000) })),
        ),
      );
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${srv!.url}/api/v2/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'dd-api-key': API_KEY },
          body: body(i),
        }).then((r) => r.status),
      ),
    );
    expect(results.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(results.every((s) => s === 202 || s === 503)).toBe(true);
    const stored = await srv.store.countLogs();
    expect(stored).toBe(results.filter((s) => s === 202).length * 500);
  });
});

describe('large logs in many concurrent requests', () => {
  it('commits 15 concurrent 4 MB requests without exhausting the writer thread', async () => {
    srv = await startTestServer();
    const body = (i: number) =>
      JSON.stringify(
        Array.from({ length: 4 }, (_, k) => ({ message: `${i}-${k}-${'m'.repeat(1_000_000 - 20)}` })),
      );
    const statuses = await Promise.all(
      Array.from({ length: 15 }, (_, i) => post(srv!.url, body(i)).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
    expect(await srv.store.countLogs()).toBe(statuses.filter((s) => s === 202).length * 4);
    // The writer is still healthy afterwards.
    expect((await post(srv.url, JSON.stringify({ message: 'after' }))).status).toBe(202);
  }, 60_000);
});
