// The simulator against a real Flowwatch: Okta-shaped traffic is stored once per event, redeliveries deduplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { runSimulation } from '../src/okta/simulate-run.ts';
import { API_KEY, startTestServer } from './helpers/server.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});

describe('flowwatch simulate → flowwatch serve', () => {
  it('stores every accepted event exactly once, with trees and failures intact', async () => {
    const summary = await runSimulation({
      url: srv.url,
      apiKey: API_KEY,
      rate: 150,
      durationS: 2,
      flows: 12,
      failureRatio: 0.2,
      seed: 42,
    });
    expect(summary.failed).toBe(0);
    expect(summary.accepted).toBe(summary.sent);
    const page = await srv.store.readLogs({
      from: 0,
      to: Date.now() + 3_600_000,
      sort: 'asc',
      limit: 10_000,
    });
    const logs = page.logs;
    // Redelivered copies are acknowledged but stored once.
    expect(logs.length).toBe(summary.sent - summary.duplicatesSent);
    const keys = logs.map((l) => l.dedup_key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const l of logs) {
      expect(l).toMatchObject({ service: 'okta', source: 'okta-workflows-els' });
      expect(l.tags).toEqual(['env:production', 'service:okta']);
      expect(l.message).toMatch(/^Flow (started|completed|failed|canceled|throttled|paused)/);
      expect(l.attributes._flowwatch).toBeUndefined();
    }
    const byType = new Map<string, number>();
    for (const l of logs)
      byType.set(String(l.attributes.event_type), (byType.get(String(l.attributes.event_type)) ?? 0) + 1);
    expect(byType.get('FLOW_START')).toBeGreaterThan(0);
    expect(byType.get('FLOW_FAIL')).toBeGreaterThan(0);
    // Child executions point at a stored root execution.
    const starts = new Set(
      logs.filter((l) => l.attributes.event_type === 'FLOW_START').map((l) => l.attributes.execution_id),
    );
    const children = logs.filter(
      (l) => l.attributes.parent_execution_id && l.attributes.event_type === 'FLOW_START',
    );
    for (const c of children) expect(starts.has(c.attributes.root_execution_id)).toBe(true);
  }, 30_000);
});
