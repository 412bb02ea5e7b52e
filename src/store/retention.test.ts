import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneNotificationHistory } from './retention.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('pruneNotificationHistory', () => {
  it('removes old delivered history in batches until none is left, keeping the newest job of the queue', async () => {
    store = new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-retention-')) });
    const n = 1200; // more than two batches of 500
    await store.saveMonitorProgress(
      [],
      Array.from({ length: n }, (_, i) => ({
        monitor_id: 1,
        group_key: 'g',
        at: 10 + (i % 100),
        body: { handles: ['@webhook-a'] },
      })),
    );
    const s = store.notifications;
    await s.dispatchEvents(n, 100, () => ({
      jobs: [{ handle: '@webhook-a', channel: 'webhook' }],
      deadline_at: 1e6,
    }));
    const jobs = await s.listJobs({ limit: n });
    expect(jobs).toHaveLength(n);
    for (const j of jobs.reverse()) await s.recordAttempt(j.id, { kind: 'delivered', at: 200, status: 200 });

    let stops = 0;
    const none = await pruneNotificationHistory(store, 150);
    expect(none).toEqual({ jobs: 0, events: 0, bundles: 0 });
    const stopped = await pruneNotificationHistory(store, 1000, () => stops++ > 0);
    expect(stopped.jobs).toBe(500); // one batch, then asked to stop
    const rest = await pruneNotificationHistory(store, 1000);
    expect(rest.jobs).toBe(n - 1 - 500);
    expect(stopped.events + rest.events).toBe(n - 1);

    const left = await s.listJobs({ limit: 10 });
    expect(left).toHaveLength(1);
    expect(left[0]?.event_id).toBe(Math.max(...jobs.map((j) => j.event_id)));
    expect((await store.listMonitorEvents({ limit: 10 })).map((e) => e.id)).toEqual([left[0]?.event_id]);
  });
});
