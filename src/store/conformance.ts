// The conformance suite every Store implementation must pass (SQLite now, PostgreSQL later).
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../domain/log-event.ts';
import { parseQuery } from '../search/parse.ts';
import { type Store, StoreFullError } from './store.ts';

/** Builds a log for tests. */
export function makeLog(over: Partial<LogEvent> = {}): LogEvent {
  return {
    timestamp: Date.parse('2026-11-27T03:00:00Z'),
    received_at: Date.parse('2026-11-27T03:00:01Z'),
    status: 'info',
    service: 'okta',
    source: 'okta-workflows-els',
    host: 'acme.workflows.okta.com',
    message: 'Flow completed: Sync',
    tags: ['env:production'],
    trace_id: null,
    attributes: { flow_name: 'Sync', nested: { a: [1, 'two', { b: null }] }, unicode: 'é😀' },
    raw: null,
    dedup_key: null,
    ...over,
  };
}

/** Runs the shared suite against a store factory; `full` (optional) returns a store that has no room left. */
export function storeConformance(
  name: string,
  open: () => Promise<Store>,
  opts: { fullStore?: () => Promise<Store> } = {},
): void {
  describe(`Store conformance: ${name}`, () => {
    it('round-trips every field of a log', async () => {
      const store = await open();
      const log = makeLog({ trace_id: 'abc', raw: '{"x":1}', dedup_key: 'k1', status: 'error' });
      expect(await store.appendLogs([log])).toEqual([true]);
      const page = await store.readLogs({ from: 0, to: Number.MAX_SAFE_INTEGER, sort: 'desc', limit: 10 });
      expect(page.logs).toHaveLength(1);
      const { id, ...rest } = page.logs[0]!;
      expect(typeof id).toBe('string');
      expect(rest).toEqual(log);
      await store.close();
    });

    it('stores a dedup_key once, within a batch and across batches, and keeps logs without a key', async () => {
      const store = await open();
      expect(
        await store.appendLogs([
          makeLog({ dedup_key: 'a' }),
          makeLog({ dedup_key: 'a' }),
          makeLog(),
          makeLog(),
        ]),
      ).toEqual([true, false, true, true]);
      expect(await store.appendLogs([makeLog({ dedup_key: 'a' })])).toEqual([false]);
      expect(await store.countLogs()).toBe(3);
      await store.close();
    });

    it('pages through a time range in both orders, each log exactly once', async () => {
      const store = await open();
      const base = Date.parse('2026-11-27T00:00:00Z');
      // Several logs share a timestamp so the cursor must break ties.
      const logs = Array.from({ length: 257 }, (_, i) =>
        makeLog({ timestamp: base + Math.floor(i / 3) * 1000, message: `m${i}` }),
      );
      await store.appendLogs(logs);
      for (const sort of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let last: number | undefined;
        do {
          const page = await store.readLogs({ from: base, to: base + 86_400_000, sort, limit: 50, cursor });
          for (const l of page.logs) {
            if (last !== undefined)
              expect(sort === 'asc' ? l.timestamp >= last : l.timestamp <= last).toBe(true);
            last = l.timestamp;
            seen.push(l.message);
          }
          cursor = page.cursor;
        } while (cursor);
        expect(seen).toHaveLength(257);
        expect(new Set(seen).size).toBe(257);
      }
      const window = await store.readLogs({
        from: base + 10_000,
        to: base + 20_000,
        sort: 'asc',
        limit: 1000,
      });
      expect(window.logs.map((l) => l.message)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 30}`));
      await store.close();
    });

    it('follows logs in stored order from the end, including ones dated in the past', async () => {
      const store = await open();
      await store.appendLogs([makeLog({ message: 'old one' })]);
      const start = await store.readLogsAfter(undefined, 10);
      expect(start.logs).toEqual([]);
      await store.appendLogs([makeLog({ message: 'late', timestamp: 1 }), makeLog({ message: 'new' })]);
      const page = await store.readLogsAfter(start.next, 1);
      expect(page.logs.map((l) => l.message)).toEqual(['late']);
      const rest = await store.readLogsAfter(page.next, 10);
      expect(rest.logs.map((l) => l.message)).toEqual(['new']);
      expect((await store.readLogsAfter(rest.next, 10)).logs).toEqual([]);
      await expect(store.readLogsAfter('garbage', 1)).rejects.toThrow(/invalid cursor/);
      await store.close();
    });

    it('rejects a garbage cursor', async () => {
      const store = await open();
      await expect(
        store.readLogs({ from: 0, to: 1, sort: 'asc', limit: 1, cursor: 'nonsense' }),
      ).rejects.toThrow(/invalid cursor/);
      await store.close();
    });

    it('deletes logs older than a date in bounded batches', async () => {
      const store = await open();
      const t = Date.parse('2026-11-27T00:00:00Z');
      await store.appendLogs([
        ...Array.from({ length: 10 }, () => makeLog({ timestamp: t - 1 })),
        makeLog({ timestamp: t }),
      ]);
      expect(await store.deleteLogsBefore(t, 4)).toBe(4);
      expect(await store.deleteLogsBefore(t, 100)).toBe(6);
      expect(await store.deleteLogsBefore(t, 100)).toBe(0);
      expect(await store.countLogs()).toBe(1);
      await store.close();
    });

    it('filters with the query language: full text, attributes, arrays, and retention forgets deleted logs', async () => {
      const store = await open();
      const t = Date.parse('2026-11-27T00:00:00Z');
      await store.appendLogs([
        makeLog({
          timestamp: t - 1,
          message: 'Flow failed: Payroll Export',
          attributes: { flow_name: 'Payroll Export' },
        }),
        makeLog({
          timestamp: t,
          message: 'Flow completed: Sync',
          attributes: { flow_name: 'Sync', users: [{ n: 'ann' }] },
        }),
        makeLog({ timestamp: t + 1, status: 'error', message: 'payroll retry', attributes: { code: 5 } }),
      ]);
      const ids = async (q: string) =>
        (
          await store.readLogs({
            from: 0,
            to: Number.MAX_SAFE_INTEGER,
            sort: 'asc',
            limit: 10,
            filter: parseQuery(q),
          })
        ).logs.map((l) => l.message);
      expect(await ids('payroll')).toEqual(['Flow failed: Payroll Export', 'payroll retry']);
      expect(await ids('@flow_name:Sync')).toEqual(['Flow completed: Sync']);
      expect(await ids('@users.n:ann')).toEqual(['Flow completed: Sync']);
      expect(await ids('*:export')).toEqual(['Flow failed: Payroll Export']);
      expect(await ids('@code:>=5 status:error')).toEqual(['payroll retry']);
      expect(await ids('-payroll')).toEqual(['Flow completed: Sync']);
      await store.deleteLogsBefore(t, 100);
      expect(await ids('payroll')).toEqual(['payroll retry']);
      await store.close();
    });

    it('pages through a filtered result with cursors, each matching log exactly once', async () => {
      const store = await open();
      const t = Date.parse('2026-11-27T00:00:00Z');
      // many logs share a timestamp: the cursor must break ties
      await store.appendLogs(
        Array.from({ length: 2500 }, (_, i) =>
          makeLog({ timestamp: t + Math.floor(i / 7), message: i % 3 === 0 ? `even ${i}` : `odd ${i}` }),
        ),
      );
      for (const sort of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.readLogs({
            from: 0,
            to: Number.MAX_SAFE_INTEGER,
            sort,
            limit: 333,
            cursor,
            filter: parseQuery('even'),
          });
          seen.push(...page.logs.map((l) => l.message));
          cursor = page.cursor;
        } while (cursor);
        expect(seen).toHaveLength(834);
        expect(new Set(seen).size).toBe(834);
      }
      await store.close();
    });

    it('aggregates counts, measures and timeseries by facet', async () => {
      const store = await open();
      const h = 3_600_000;
      const t = Date.parse('2026-11-27T00:00:00Z');
      await store.appendLogs([
        makeLog({ timestamp: t, attributes: { flow_name: 'A', duration: 10 } }),
        makeLog({ timestamp: t + h, attributes: { flow_name: 'A', duration: 30 } }),
        makeLog({ timestamp: t + h, attributes: { flow_name: 'B', duration: 5 } }),
        makeLog({ timestamp: t + h, attributes: { duration: 7 } }),
      ]);
      const buckets = await store.aggregateLogs({
        from: t,
        to: t + 2 * h,
        computes: [
          { aggregation: 'count', type: 'total', interval: 0 },
          {
            aggregation: 'sum',
            metric: { kind: 'attr', path: 'duration', name: '@duration' },
            type: 'total',
            interval: 0,
          },
          { aggregation: 'count', type: 'timeseries', interval: h },
        ],
        groupBy: [
          {
            facet: { kind: 'attr', path: 'flow_name', name: '@flow_name' },
            limit: 10,
            sort: { aggregation: 'count', order: 'desc', type: 'measure' },
            missing: 'none',
          },
        ],
      });
      const iso = (x: number) => new Date(x).toISOString();
      expect(buckets).toEqual([
        {
          by: { '@flow_name': 'A' },
          computes: {
            c0: 2,
            c1: 40,
            c2: [
              { time: iso(t), value: 1 },
              { time: iso(t + h), value: 1 },
            ],
          },
        },
        {
          by: { '@flow_name': 'B' },
          computes: {
            c0: 1,
            c1: 5,
            c2: [
              { time: iso(t), value: 0 },
              { time: iso(t + h), value: 1 },
            ],
          },
        },
        {
          by: { '@flow_name': 'none' },
          computes: {
            c0: 1,
            c1: 7,
            c2: [
              { time: iso(t), value: 0 },
              { time: iso(t + h), value: 1 },
            ],
          },
        },
      ]);
      await store.close();
    });

    it('stores pipelines in order, replaces, reorders and deletes them', async () => {
      const store = await open();
      const p = (id: string, ro = false) => ({
        id,
        type: 'pipeline' as const,
        is_read_only: ro,
        name: `pipeline ${id}`,
        is_enabled: true,
        filter: { query: 'service:okta' },
        processors: [{ type: 'status-remapper', is_enabled: true, sources: ['lvl'] }],
        tags: ['team:iam'],
        description: 'd',
      });
      await store.insertPipeline(p('a'));
      await store.insertPipeline(p('b'));
      await store.insertPipeline(p('builtin', true), 'first');
      expect((await store.listPipelines()).map((x) => x.id)).toEqual(['builtin', 'a', 'b']);
      expect((await store.listPipelines())[0]).toEqual(p('builtin', true));
      expect(await store.replacePipeline({ ...p('a'), name: 'renamed' })).toBe(true);
      expect(await store.replacePipeline(p('zz'))).toBe(false);
      await store.setPipelineOrder(['b', 'a', 'builtin']);
      expect((await store.listPipelines()).map((x) => [x.id, x.name])).toEqual([
        ['b', 'pipeline b'],
        ['a', 'renamed'],
        ['builtin', 'pipeline builtin'],
      ]);
      await expect(store.setPipelineOrder(['b', 'a'])).rejects.toThrow(/missing pipelines: builtin/);
      await expect(store.setPipelineOrder(['b', 'a', 'builtin', 'x'])).rejects.toThrow(
        /unknown pipelines: x/,
      );
      expect(await store.deletePipeline('a')).toBe(true);
      expect(await store.deletePipeline('a')).toBe(false);
      expect((await store.listPipelines()).map((x) => x.id)).toEqual(['b', 'builtin']);
      await store.close();
    });

    it('stores monitors, their group states and events atomically', async () => {
      const store = await open();
      const input = {
        name: 'Flow failures',
        type: 'log alert',
        query: 'logs("status:error").last("5m") > 0',
        message: 'm @slack-ops',
        tags: ['team:iam'],
        priority: 2,
        options: { thresholds: { critical: 0 } },
      };
      const m = await store.insertMonitor(input, 1000);
      const m2 = await store.insertMonitor({ ...input, name: 'second' }, 1001);
      expect(m2.id).toBeGreaterThan(m.id);
      expect(await store.listMonitors()).toEqual([m, m2]);
      expect(await store.updateMonitor(m.id, { ...input, name: 'renamed' }, 2000)).toMatchObject({
        name: 'renamed',
        created_at: 1000,
        modified_at: 2000,
      });
      expect(await store.updateMonitor(999_999, input, 2000)).toBeUndefined();
      const saved = await store.saveMonitorProgress(
        [
          { monitor_id: m.id, group_key: '*', state: { status: 'Alert' } },
          { monitor_id: m2.id, group_key: 'a', state: { status: 'OK' } },
        ],
        [{ monitor_id: m.id, group_key: '*', at: 3000, body: { transition: 'Triggered' } }],
      );
      expect(saved).toEqual([
        {
          id: expect.any(Number),
          monitor_id: m.id,
          group_key: '*',
          at: 3000,
          body: { transition: 'Triggered' },
          delivered_at: null,
        },
      ]);
      await store.saveMonitorProgress([{ monitor_id: m2.id, group_key: 'a', state: null }], []);
      const groups = await store.loadMonitorGroups();
      expect(groups.get(m.id)?.get('*')).toEqual({ status: 'Alert' });
      expect(groups.get(m2.id)).toBeUndefined();
      await store.saveMonitorProgress(
        [],
        [{ monitor_id: m.id, group_key: '*', at: 4000, body: { transition: 'Recovered' } }],
      );
      const events = await store.listMonitorEvents({ monitorId: m.id, limit: 10 });
      expect(events.map((e) => e.body.transition)).toEqual(['Recovered', 'Triggered']);
      expect((await store.listMonitorEvents({ limit: 1, beforeId: events[0]!.id })).map((e) => e.at)).toEqual(
        [3000],
      );
      expect(await store.deleteMonitor(m.id)).toBe(true);
      expect((await store.loadMonitorGroups()).get(m.id)).toBeUndefined();
      expect(await store.listMonitorEvents({ monitorId: m.id, limit: 10 })).toHaveLength(2);
      await store.close();
    });

    it('stores downtimes: insert, list oldest first, update keeping created_at', async () => {
      const store = await open();
      const d = {
        id: '0d1b1d3e-0000-4000-8000-000000000001',
        scope: 'env:prod',
        monitor_identifier: { monitor_tags: ['team:iam'] },
        schedule: { kind: 'one_time' as const, start: 1000, end: null },
        message: 'maintenance @slack-ops',
        display_timezone: 'UTC',
        mute_first_recovery_notification: false,
        notify_end_states: ['alert' as const],
        notify_end_types: ['expired' as const],
        created_at: 2000,
        modified_at: 2000,
        canceled_at: null,
        ended_through: null,
      };
      const older = { ...d, id: '0d1b1d3e-0000-4000-8000-000000000002', created_at: 1000, modified_at: 1000 };
      await store.insertDowntime(d);
      await store.insertDowntime(older);
      expect(await store.listDowntimes()).toEqual([older, d]);
      const canceled = { ...d, canceled_at: 5000, modified_at: 5000, created_at: 1 };
      expect(await store.updateDowntime(canceled)).toBe(true);
      expect((await store.listDowntimes())[1]).toEqual({ ...canceled, created_at: 2000 });
      const notice = { monitor_id: 0, group_key: `downtime:${d.id}`, at: 6000, body: { cause: 'downtime' } };
      expect(await store.updateDowntime({ ...d, id: 'nope' }, [notice])).toBe(false);
      expect(await store.listMonitorEvents({ limit: 10 })).toEqual([]);
      // A downtime's notices are saved with it, in one transaction.
      expect(await store.updateDowntime({ ...canceled, created_at: 2000 }, [notice])).toBe(true);
      expect(await store.listMonitorEvents({ limit: 10 })).toMatchObject([{ ...notice, delivered_at: null }]);
      await store.close();
    });

    it('stores notification rules: insert, get, list oldest first, replace keeping created_at, delete', async () => {
      const store = await open();
      const a = {
        id: '6f1b1d3e-0000-4000-8000-000000000001',
        name: 'okta',
        filter: { scope: 'service:okta AND NOT env:staging' },
        recipients: ['slack-okta', 'user@example.com'],
        created_at: 2000,
        modified_at: 2000,
      };
      const b = {
        id: '6f1b1d3e-0000-4000-8000-000000000002',
        name: 'conditional',
        filter: { tags: ['team:iam'] },
        conditional_recipients: {
          conditions: [{ scope: 'transition_type:is_alert', recipients: ['pagerduty-iam'] }],
          fallback_recipients: ['slack-iam'],
        },
        bundle_config: { duration: 300 },
        created_at: 1000,
        modified_at: 1000,
      };
      await store.insertNotificationRule(a);
      await store.insertNotificationRule(b);
      expect(await store.getNotificationRule(a.id)).toEqual(a);
      expect(await store.getNotificationRule('nope')).toBeUndefined();
      expect((await store.listNotificationRules()).map((r) => r.id)).toEqual([b.id, a.id]);
      expect(await store.listNotificationRules()).toContainEqual(b);
      const changed = {
        ...a,
        name: 'okta prod',
        recipients: ['slack-prod'],
        created_at: 9,
        modified_at: 3000,
      };
      expect(await store.replaceNotificationRule(changed)).toBe(true);
      expect(await store.getNotificationRule(a.id)).toEqual({ ...changed, created_at: 2000 });
      expect(await store.replaceNotificationRule({ ...changed, id: 'nope' })).toBe(false);
      expect(await store.deleteNotificationRule(a.id)).toBe(true);
      expect(await store.deleteNotificationRule(a.id)).toBe(false);
      expect((await store.listNotificationRules()).map((r) => r.id)).toEqual([b.id]);
      await store.close();
    });

    it('stores keys, lists them and revokes by id or name', async () => {
      const store = await open();
      const k = {
        id: 'id1',
        kind: 'api' as const,
        name: 'ci',
        hash: 'h1',
        hint: 'abcd',
        created_at: 1,
        revoked_at: null,
      };
      await store.insertKey(k);
      await store.insertKey({ ...k, id: 'id2', name: 'other', hash: 'h2', kind: 'app' });
      expect(await store.listKeys()).toHaveLength(2);
      expect((await store.revokeKey('ci', 5))?.revoked_at).toBe(5);
      expect((await store.revokeKey('id2', 6))?.id).toBe('id2');
      expect(await store.revokeKey('nope', 7)).toBeUndefined();
      expect((await store.listKeys()).every((x) => x.revoked_at !== null)).toBe(true);
      await store.close();
    });

    if (opts.fullStore) {
      it('fails with StoreFullError when there is no room, and keeps what it had', async () => {
        const store = await opts.fullStore!();
        const before = await store.countLogs();
        const big = 'x'.repeat(64 * 1024);
        await expect(
          store.appendLogs(Array.from({ length: 200 }, () => makeLog({ message: big }))),
        ).rejects.toBeInstanceOf(StoreFullError);
        expect(await store.countLogs()).toBe(before);
        await store.close();
      });
    }
  });
}
