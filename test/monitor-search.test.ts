// Monitor searches through the official client: MonitorsApi.searchMonitors and searchMonitorGroups against a
// running server (query, paging, sort, counts), with a FLOW_FAIL alerting one group and a downtime muting a
// monitor.
import { client, v1, v2 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running;
let api: v1.MonitorsApi;
let downtimes: v2.DowntimesApi;

beforeAll(async () => {
  srv = await startTestServer();
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  api = new v1.MonitorsApi(config);
  downtimes = new v2.DowntimesApi(config);
});
afterAll(async () => {
  await srv.close();
});

async function waitFor<T>(f: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('monitor searches', () => {
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    const create = async (name: string, query: string, tags: string[], priority?: number) =>
      (
        await api.createMonitor({
          body: {
            name,
            type: 'log alert',
            query,
            message: `${name} @slack-${tags[0]!.split(':')[1]}`,
            tags,
            priority,
            options: { newGroupDelay: 0 },
          },
        })
      ).id!;
    ids.fail = await create(
      'Okta flow failures',
      'logs("service:okta status:error").rollup("count").by("@flow_name").last("5m") > 0',
      ['team:iam', 'env:prod'],
      1,
    );
    ids.throttle = await create(
      'Okta throttles',
      'logs("service:okta status:warning").rollup("count").by("@flow_name").last("5m") > 10',
      ['team:iam'],
      3,
    );
    ids.silence = await create('Payroll silence', 'logs("service:payroll").last("1h") < 1', ['team:payroll']);
    for (const flow of ['Sync Users', 'Payroll Export']) {
      const run = `search-${flow}-${Date.now()}`;
      const res = await fetch(`${srv.url}/api/v2/logs`, {
        method: 'POST',
        headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
        body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run, flow_name: flow })),
      });
      expect(res.status).toBe(202);
    }
    await waitFor(async () => {
      const m = await api.getMonitor({ monitorId: ids.fail!, groupStates: 'all' });
      return Object.keys(m.state?.groups ?? {}).length === 2 ? m : undefined;
    });
    await downtimes.createDowntime({
      body: {
        data: {
          type: 'downtime',
          attributes: { scope: '*', monitorIdentifier: { monitorTags: ['team:payroll'] } },
        },
      },
    });
  });

  it('searchMonitors: query, counts, sort and paging in Datadog shapes', async () => {
    const all = await api.searchMonitors({ query: 'type:log', sort: 'name,asc' });
    expect(all._unparsed).toBeFalsy();
    expect(all.monitors?.map((m) => m.name)).toEqual([
      'Okta flow failures',
      'Okta throttles',
      'Payroll silence',
    ]);
    const fail = all.monitors![0]!;
    expect(fail).toMatchObject({
      id: ids.fail,
      status: 'Alert',
      type: 'log alert',
      classification: 'log',
      tags: ['team:iam', 'env:prod'],
      notifications: [{ handle: 'slack-iam', name: 'slack-iam' }],
    });
    expect(Math.abs(fail.lastTriggeredTs! * 1000 - Date.now())).toBeLessThan(10_000);
    expect(fail.creator?.handle).toBe('flowwatch');
    expect(all.metadata).toMatchObject({ page: 0, perPage: 30, pageCount: 1, totalCount: 3 });
    // the silence monitor alerts (no payroll logs), the throttle monitor has no group yet (No Data)
    expect(all.counts?.status).toEqual([
      expect.objectContaining({ name: 'Alert', count: 2 }),
      expect.objectContaining({ name: 'No Data', count: 1 }),
    ]);
    expect(all.counts?.tag?.[0]).toMatchObject({ name: 'team:iam', count: 2 });
    expect(all.counts?.type).toEqual([expect.objectContaining({ name: 'log', count: 3 })]);
    expect(all.counts?.muted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: false, count: 2 }),
        expect.objectContaining({ name: true, count: 1 }),
      ]),
    );

    const alerting = await api.searchMonitors({ query: 'status:alert tag:team:iam' });
    expect(alerting.monitors?.map((m) => m.id)).toEqual([ids.fail]);
    const muted = await api.searchMonitors({ query: 'muted:true' });
    expect(muted.monitors?.map((m) => m.id)).toEqual([ids.silence]);
    const either = await api.searchMonitors({ query: 'priority:(p1 OR p3) -throttles' });
    expect(either.monitors?.map((m) => m.id)).toEqual([ids.fail]);
    const page = await api.searchMonitors({ query: 'team:iam', sort: 'priority,desc', perPage: 1, page: 0 });
    expect(page.monitors?.map((m) => m.id)).toEqual([ids.throttle]);
    expect(page.metadata).toMatchObject({ page: 0, perPage: 1, pageCount: 2, totalCount: 2 });
    const next = await api.searchMonitors({ query: 'team:iam', sort: 'priority,desc', perPage: 1, page: 1 });
    expect(next.monitors?.map((m) => m.id)).toEqual([ids.fail]);
  });

  it('searchMonitorGroups: one row per group with its status and times', async () => {
    const res = await api.searchMonitorGroups({ query: 'status:alert team:iam', sort: 'group,asc' });
    expect(res._unparsed).toBeFalsy();
    expect(res.groups?.map((g) => [g.monitorId, g.group, g.status])).toEqual([
      [ids.fail, '@flow_name:Payroll Export', 'Alert'],
      [ids.fail, '@flow_name:Sync Users', 'Alert'],
    ]);
    expect(res.groups![0]).toMatchObject({
      groupTags: ['@flow_name:Payroll Export'],
      monitorName: 'Okta flow failures',
    });
    expect(Math.abs(res.groups![0]!.lastTriggeredTs! * 1000 - Date.now())).toBeLessThan(10_000);
    expect(res.counts?.status).toEqual([expect.objectContaining({ name: 'Alert', count: 2 })]);
    expect(res.metadata).toMatchObject({ totalCount: 2, perPage: 30 });
    const one = await api.searchMonitorGroups({ query: 'group:"Sync Users"' });
    expect(one.groups?.map((g) => g.group)).toEqual(['@flow_name:Sync Users']);
    const silence = await api.searchMonitorGroups({ query: `id:${ids.silence}` });
    expect(silence.groups?.map((g) => [g.group, g.groupTags, g.status])).toEqual([['*', ['*'], 'Alert']]);
  });

  it('answers 400 naming the parameter for a bad query, sort or page', async () => {
    for (const [path, want] of [
      ['/api/v1/monitor/search?query=status:(alert', /parameter 'query' is invalid: unbalanced "\("/],
      ['/api/v1/monitor/search?sort=created,asc', /sort must be "<field>,asc"/],
      ['/api/v1/monitor/groups/search?per_page=0', /per_page must be an integer from 1 to 1000/],
      ['/api/v1/monitor/groups/search?page=-1', /page must be an integer ≥ 0/],
    ] as const) {
      const res = await fetch(`${srv.url}${path}`, { headers: appHeaders });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { errors: string[] }).errors[0]).toMatch(want);
    }
  });
});
