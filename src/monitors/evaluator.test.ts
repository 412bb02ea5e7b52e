import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeLog } from '../store/conformance.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { isMuted, parseDowntimeCreate } from './downtime.ts';
import { type EvaluatorOptions, MonitorEvaluator, notifyKeys } from './evaluator.ts';
import type { MonitorInput } from './model.ts';

const T = Date.parse('2026-11-27T10:00:00Z');
const MIN = 60_000;

function setup(dataDir = mkdtempSync(path.join(tmpdir(), 'fw-eval-')), muting?: EvaluatorOptions['muting']) {
  const store = new SqliteStore({ dataDir });
  let now = T;
  const ev = new MonitorEvaluator({ store, now: () => now, tickMs: 0, muting });
  return {
    store,
    ev,
    dataDir,
    at: (t: number) => {
      now = t;
    },
    events: async (id: number) =>
      (await store.listMonitorEvents({ monitorId: id, limit: 100 }))
        .reverse()
        .map((e) => `${e.group_key} ${e.body.transition} ${e.body.value}`),
  };
}

const monitor = (query: string, options: MonitorInput['options'] = {}): MonitorInput => ({
  name: 'm',
  type: 'log alert',
  query,
  message: '',
  tags: [],
  priority: null,
  options,
});

const fail = (t: number, flow = 'Sync') =>
  makeLog({ timestamp: t, status: 'error', attributes: { flow_name: flow, duration: 100 } });

describe('monitor evaluator', () => {
  it('triggers on the log that crosses the threshold and recovers when the window slides past', async () => {
    const { store, ev, at, events } = setup();
    const m = await store.insertMonitor(monitor('logs("status:error").last("5m") > 2'), T);
    await ev.start();
    for (let i = 0; i < 3; i++) {
      at(T + i * 1000);
      ev.feed([fail(T + i * 1000)]);
      await ev.stop();
    }
    expect(await events(m.id)).toEqual(['* Triggered 3']);
    at(T + 2 * MIN);
    ev.tick();
    await ev.stop();
    expect(await events(m.id)).toEqual(['* Triggered 3']);
    at(T + 6 * MIN);
    ev.tick();
    await ev.stop();
    expect(await events(m.id)).toEqual(['* Triggered 3', '* Recovered 0']);
    expect(ev.overallState(m.id)).toBe('OK');
  });

  it('ignores logs its query does not match, and groups by facet', async () => {
    const { store, ev, at, events } = setup();
    const m = await store.insertMonitor(
      monitor('logs("status:error").by("@flow_name").last("5m") >= 2', { new_group_delay: 0 }),
      T,
    );
    await ev.start();
    at(T);
    ev.feed([
      fail(T, 'A'),
      fail(T, 'B'),
      makeLog({ timestamp: T, status: 'info', attributes: { flow_name: 'A' } }),
    ]);
    ev.feed([fail(T, 'A')]);
    await ev.stop();
    expect(await events(m.id)).toEqual(['@flow_name:A Triggered 2']);
    expect(ev.groups(m.id).map((g) => [g.key, g.state?.status])).toEqual([
      ['@flow_name:A', 'Alert'],
      ['@flow_name:B', 'OK'],
    ]);
  });

  it('rebuilds windows from the store and keeps persisted states after a restart: no second notification', async () => {
    const first = setup();
    const m = await first.store.insertMonitor(monitor('logs("status:error").last("10m") > 1'), T);
    await first.store.appendLogs([fail(T - MIN), fail(T - 30_000)]);
    await first.ev.start();
    first.ev.tick();
    await first.ev.stop();
    expect(await first.events(m.id)).toEqual(['* Triggered 2']);
    await first.store.close();

    const again = setup(first.dataDir);
    again.at(T + MIN);
    await again.ev.start();
    again.ev.tick();
    await again.ev.stop();
    expect(again.ev.overallState(m.id)).toBe('Alert');
    expect(again.ev.groups(m.id)[0]?.value).toBe(2);
    expect(await again.events(m.id)).toEqual(['* Triggered 2']);
    again.at(T + 11 * MIN);
    again.ev.tick();
    await again.ev.stop();
    expect(await again.events(m.id)).toEqual(['* Triggered 2', '* Recovered 0']);
  });

  it('alerts on silence with a below threshold, and measures with other rollups', async () => {
    const { store, ev, at, events } = setup();
    const silent = await store.insertMonitor(monitor('logs("service:payroll").last("5m") < 1'), T);
    const slow = await store.insertMonitor(
      monitor('logs("*").rollup("avg", "@duration").last("5m") > 150'),
      T,
    );
    await ev.start();
    ev.tick();
    await ev.stop();
    expect(await events(silent.id)).toEqual(['* Triggered 0']);
    at(T + 1000);
    ev.feed([makeLog({ timestamp: T + 1000, service: 'payroll', attributes: { duration: 100 } })]);
    ev.feed([makeLog({ timestamp: T + 1000, attributes: { duration: 300 } })]);
    await ev.stop();
    expect(await events(silent.id)).toEqual(['* Triggered 0', '* Recovered 1']);
    expect(await events(slow.id)).toEqual(['* Triggered 200']);
  });
  it('notify_by: one notification group per flow, alerting when any of its (flow, env) groups alerts', async () => {
    const { store, ev, at, events } = setup();
    const m = await store.insertMonitor(
      monitor('logs("status:error").by("@flow_name,env").last("5m") > 1', {
        new_group_delay: 0,
        notify_by: ['@flow_name'],
      }),
      T,
    );
    await ev.start();
    const failIn = (t: number, flow: string, env: string) =>
      makeLog({ timestamp: t, status: 'error', tags: [`env:${env}`], attributes: { flow_name: flow } });
    at(T);
    // one failure in each env: no (flow, env) group is above 1, and counts are not added up across envs
    ev.feed([failIn(T, 'A', 'prod'), failIn(T, 'A', 'dev')]);
    await ev.stop();
    expect(await events(m.id)).toEqual([]);
    ev.feed([failIn(T, 'A', 'prod')]);
    await ev.stop();
    expect(await events(m.id)).toEqual(['@flow_name:A Triggered 2']);
    // the other env of the same flow breaching too: still one alert for the flow
    ev.feed([failIn(T, 'A', 'dev'), failIn(T, 'A', 'dev')]);
    await ev.stop();
    expect(await events(m.id)).toEqual(['@flow_name:A Triggered 2']);
    expect(ev.groups(m.id).map((g) => [g.key, g.by, g.state?.status, g.value])).toEqual([
      ['@flow_name:A', { '@flow_name': 'A' }, 'Alert', 3],
    ]);
    // another flow is its own notification group
    ev.feed([failIn(T, 'B', 'prod'), failIn(T, 'B', 'prod')]);
    await ev.stop();
    expect(await events(m.id)).toEqual(['@flow_name:A Triggered 2', '@flow_name:B Triggered 2']);
    at(T + 6 * MIN);
    ev.tick();
    await ev.stop();
    expect((await events(m.id)).slice(2).sort()).toEqual([
      '@flow_name:A Recovered 0',
      '@flow_name:B Recovered 0',
    ]);
  });

  it('notify_by: a downtime scope sees the sub-groups of a notification group (env:staging mutes flow A)', async () => {
    const staging = parseDowntimeCreate({ scope: 'env:staging', monitor_identifier: { monitor_id: 1 } }, T);
    const seen: unknown[] = [];
    const { store, ev, at } = setup(undefined, (m, group, t) => {
      seen.push(group);
      return isMuted([staging], m, group, t.at, t);
    });
    const m = await store.insertMonitor(
      monitor('logs("status:error").by("@flow_name,env").last("5m") > 1', {
        new_group_delay: 0,
        notify_by: ['@flow_name'],
      }),
      T,
    );
    expect(m.id).toBe(1);
    await ev.start();
    const failIn = (flow: string, env: string) =>
      makeLog({ timestamp: T, status: 'error', tags: [`env:${env}`], attributes: { flow_name: flow } });
    at(T);
    // flow A breaches in prod while it also has a staging sub-group; flow B only runs in prod
    ev.feed([failIn('A', 'staging'), failIn('A', 'prod'), failIn('A', 'prod')]);
    ev.feed([failIn('B', 'prod'), failIn('B', 'prod')]);
    await ev.stop();
    const got = (await store.listMonitorEvents({ monitorId: m.id, limit: 10 }))
      .reverse()
      .map((e) => [e.group_key, e.body.transition, e.body.muted, e.body.downtime_id]);
    expect(got).toEqual([
      ['@flow_name:A', 'Triggered', true, staging.id],
      ['@flow_name:B', 'Triggered', false, null],
    ]);
    expect(seen).toEqual([
      [
        { '@flow_name': 'A', env: 'staging' },
        { '@flow_name': 'A', env: 'prod' },
      ],
      [{ '@flow_name': 'B', env: 'prod' }],
    ]);
    // groups() hands the same view to the API (downtime_matches, groups search, end of downtimes)
    expect(ev.groups(m.id).map((g) => g.scopeTarget)).toEqual(seen);
    // once the staging logs leave the window (only prod logs remain), env:staging no longer covers flow A
    at(T + 2 * MIN);
    ev.feed([
      makeLog({
        timestamp: T + 2 * MIN,
        status: 'error',
        tags: ['env:prod'],
        attributes: { flow_name: 'A' },
      }),
    ]);
    at(T + 6 * MIN);
    ev.tick();
    await ev.stop();
    expect(ev.groups(m.id)[0]?.scopeTarget).toEqual([{ '@flow_name': 'A', env: 'prod' }]);
  });

  it('notify_by ["*"]: one simple alert over every group, rebuilt after a restart', async () => {
    const first = setup();
    const m = await first.store.insertMonitor(
      monitor('logs("status:error").by("@flow_name").last("10m") > 1', { notify_by: ['*'] }),
      T,
    );
    await first.store.appendLogs([fail(T - MIN, 'A'), fail(T - 30_000, 'B'), fail(T - 20_000, 'B')]);
    await first.ev.start();
    first.ev.tick();
    await first.ev.stop();
    // simple alert: no new_group_delay, the worst flow (B: 2) alerts the single group
    expect(await first.events(m.id)).toEqual(['* Triggered 2']);
    await first.store.close();
    const again = setup(first.dataDir);
    again.at(T + MIN);
    await again.ev.start();
    again.ev.feed([fail(T + MIN, 'C'), fail(T + MIN, 'C'), fail(T + MIN, 'C')]);
    await again.ev.stop();
    expect(again.ev.groups(m.id).map((g) => [g.key, g.state?.status, g.value])).toEqual([['*', 'Alert', 3]]);
    expect(await again.events(m.id)).toEqual(['* Triggered 2']);
  });

  it('evaluation_delay shifts the window back; notify_no_data waits no_data_timeframe', async () => {
    const { store, ev, at, events } = setup();
    const delayed = await store.insertMonitor(
      monitor('logs("status:error").last("1m") > 0', { evaluation_delay: 120 }),
      T,
    );
    const nodata = await store.insertMonitor(
      monitor('logs("status:error").rollup("avg", "@duration").last("1m") > 1000', {
        notify_no_data: true,
        no_data_timeframe: 10,
      }),
      T,
    );
    await ev.start();
    at(T);
    ev.feed([fail(T)]);
    ev.tick();
    await ev.stop();
    // the log is ahead of the delayed window: not counted yet
    expect(await events(delayed.id)).toEqual([]);
    at(T + 2 * MIN + 1000);
    ev.tick();
    await ev.stop();
    expect(await events(delayed.id)).toEqual(['* Triggered 1']);
    // the avg monitor saw data at T; No Data only 10 minutes after its window last held data
    at(T + 9 * MIN);
    ev.tick();
    await ev.stop();
    expect(await events(nodata.id)).toEqual([]);
    at(T + 11 * MIN + 2000);
    ev.tick();
    await ev.stop();
    expect(await events(nodata.id)).toEqual(['* No Data null']);
  });

  it.each([
    [['@flow_name', 'env'], undefined, null],
    [['@flow_name', 'env'], [], null],
    [['@flow_name', 'env'], ['env', '@flow_name'], null],
    [
      ['@flow_name', 'env', 'host'],
      ['host', '@flow_name'],
      ['@flow_name', 'host'],
    ],
    [['@flow_name', 'env'], ['*'], []],
    [[], ['*'], null],
  ] as [string[], string[] | undefined, string[] | null][])('notifyKeys(%j, %j) = %j', (by, notify, want) => {
    expect(notifyKeys(by, notify)).toEqual(want);
  });
});
