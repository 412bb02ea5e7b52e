// Downtimes end to end: the official client's DowntimesApi against a running server, a monitor group muted
// by a downtime recording its transition with `muted: true`, and the end-of-downtime event on cancel.
import { client, v1, v2 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running & { dataDir: string };
let monitors: v1.MonitorsApi;
let downtimes: v2.DowntimesApi;

beforeAll(async () => {
  srv = await startTestServer();
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  monitors = new v1.MonitorsApi(config);
  downtimes = new v2.DowntimesApi(config);
});
afterAll(async () => {
  await srv.close();
});

async function postFail(flow: string): Promise<void> {
  const run = `dt-${flow}-${Date.now()}`;
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run, flow_name: flow })),
  });
  expect(res.status).toBe(202);
}

type Event = { group_key: string; body: Record<string, any> };
async function history(id: number): Promise<Event[]> {
  const res = await fetch(`${srv.url}/api/flowwatch/v1/monitor/${id}/history`, { headers: appHeaders });
  return ((await res.json()) as { data: Event[] }).data;
}
async function waitFor<T>(f: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('downtimes', () => {
  let monitorId: number;
  let downtimeId: string;

  it('creates, gets, lists and updates downtimes with DowntimesApi', async () => {
    const m = await monitors.createMonitor({
      body: {
        name: 'Okta flow failures',
        type: 'log alert',
        query: 'logs("service:okta status:error").rollup("count").by("@flow_name").last("5m") > 0',
        message: '{{#is_alert}}{{@flow_name.name}} failed @slack-ops{{/is_alert}}',
        tags: ['team:iam'],
        options: { thresholds: { critical: 0 }, newGroupDelay: 0 },
      },
    });
    monitorId = m.id!;
    const created = await downtimes.createDowntime({
      body: {
        data: {
          type: 'downtime',
          attributes: {
            scope: '@flow_name:"Sync Users"',
            monitorIdentifier: { monitorId },
            message: 'Workday maintenance @slack-ops',
            notifyEndTypes: ['canceled', 'expired'],
            notifyEndStates: ['alert'],
          },
        },
      },
    });
    downtimeId = created.data!.id!;
    expect(downtimeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.data?.type).toBe('downtime');
    const a = created.data!.attributes!;
    expect(a.status).toBe('active');
    expect(a.scope).toBe('@flow_name:"Sync Users"');
    expect(a.monitorIdentifier).toEqual({ monitorId });
    expect(a.muteFirstRecoveryNotification).toBe(false);
    expect(a.displayTimezone).toBe('UTC');
    expect(a.created).toBeInstanceOf(Date);
    const schedule = a.schedule as v2.DowntimeScheduleOneTimeResponse;
    expect(schedule.start).toBeInstanceOf(Date);
    expect(Math.abs(schedule.start.getTime() - Date.now())).toBeLessThan(10_000);
    expect(schedule.end ?? null).toBeNull();
    expect(created.data?.relationships?.monitor?.data?.id).toBe(String(monitorId));

    const recurring = await downtimes.createDowntime({
      body: {
        data: {
          type: 'downtime',
          attributes: {
            scope: '@flow_name:"Nightly Export"',
            monitorIdentifier: { monitorTags: ['team:iam'] },
            schedule: {
              recurrences: [
                {
                  rrule: 'FREQ=MONTHLY;BYSETPOS=3;BYDAY=WE;INTERVAL=1',
                  duration: '2h',
                  start: '2026-01-01T03:00',
                },
              ],
              timezone: 'Europe/Paris',
            },
          },
        },
      },
    });
    const rs = recurring.data!.attributes!.schedule as v2.DowntimeScheduleRecurrencesResponse;
    expect(rs.timezone).toBe('Europe/Paris');
    expect(rs.recurrences[0]).toMatchObject({
      rrule: 'FREQ=MONTHLY;BYSETPOS=3;BYDAY=WE;INTERVAL=1',
      duration: '2h',
    });
    expect(rs.currentDowntime?.start).toBeInstanceOf(Date);
    expect(rs.currentDowntime!.start!.getUTCDay()).toBe(3); // a Wednesday
    expect(rs.currentDowntime!.start!.getUTCHours()).toBeGreaterThanOrEqual(1); // 03:00 in Paris
    expect(recurring.data!.attributes!.status).toBe('scheduled');

    const got = await downtimes.getDowntime({ downtimeId });
    expect(got.data?.attributes?.message).toBe('Workday maintenance @slack-ops');
    const list = await downtimes.listDowntimes({});
    expect(list.data?.map((d) => d.id)).toEqual([downtimeId, recurring.data!.id]);
    expect(list.meta?.page?.totalFilteredCount).toBe(2);
    const current = await downtimes.listDowntimes({ currentOnly: true });
    expect(current.data?.map((d) => d.id)).toEqual([downtimeId]);
    const updated = await downtimes.updateDowntime({
      downtimeId: recurring.data!.id!,
      body: {
        data: { type: 'downtime', id: recurring.data!.id!, attributes: { message: 'staging freeze' } },
      },
    });
    expect(updated.data?.attributes?.message).toBe('staging freeze');
    expect(updated.data?.attributes?.scope).toBe('@flow_name:"Nightly Export"');

    // The monitor lists both as matching_downtimes (v1 MatchingDowntime: int64 id, POSIX seconds), the
    // official client deserializing them; the v2 id and the status travel as additional properties.
    const mon = await monitors.getMonitor({ monitorId });
    expect(mon._unparsed).toBeFalsy();
    const matching = mon.matchingDowntimes ?? [];
    expect(matching).toHaveLength(2);
    const [active, scheduled] = matching;
    expect(Number.isSafeInteger(active!.id)).toBe(true);
    expect(active!.scope).toEqual(['@flow_name:"Sync Users"']);
    expect(active!.end ?? null).toBeNull();
    expect(Math.abs(active!.start! * 1000 - Date.now())).toBeLessThan(10_000);
    expect(active!.additionalProperties).toMatchObject({ downtime_id: downtimeId, status: 'active' });
    expect(scheduled!.additionalProperties).toMatchObject({
      downtime_id: recurring.data!.id,
      status: 'scheduled',
    });
    expect(scheduled!.start).toBe(rs.currentDowntime!.start!.getTime() / 1000);
    expect(scheduled!.end! - scheduled!.start!).toBe(7200);
    expect(scheduled!.id).not.toBe(active!.id);
    const listed = await monitors.listMonitors({ name: 'Okta flow failures' });
    expect(listed.find((x) => x.id === monitorId)?.matchingDowntimes).toHaveLength(2);
  });

  it('a muted group records its transition with muted: true; another group notifies', async () => {
    await postFail('Sync Users');
    await postFail('Payroll');
    const events = await waitFor(async () => {
      const h = await history(monitorId);
      return h.length >= 2 ? h : undefined;
    });
    const sync = events.find((e) => e.group_key === '@flow_name:Sync Users')!;
    const payroll = events.find((e) => e.group_key === '@flow_name:Payroll')!;
    expect(sync.body).toMatchObject({
      transition: 'Triggered',
      to: 'Alert',
      muted: true,
      notify: false,
      downtime_id: downtimeId,
    });
    expect(payroll.body).toMatchObject({
      transition: 'Triggered',
      muted: false,
      notify: true,
      downtime_id: null,
    });
    // the state still changed
    const m = await monitors.getMonitor({ monitorId, groupStates: 'all' });
    expect(m.state?.groups?.['@flow_name:Sync Users']?.status).toBe('Alert');
  });

  it('canceling with notify_end_types canceled sends one event for the group still in alert', async () => {
    await downtimes.cancelDowntime({ downtimeId });
    const h = await waitFor(async () => {
      const x = await history(monitorId);
      return x.length >= 3 ? x : undefined;
    });
    expect(h).toHaveLength(3);
    expect(h[0]).toMatchObject({
      group_key: '@flow_name:Sync Users',
      body: {
        transition: 'Triggered',
        from: 'Alert',
        to: 'Alert',
        cause: 'downtime_canceled',
        notify: true,
        muted: false,
        downtime_id: downtimeId,
        title: '[Triggered on {@flow_name:Sync Users}] Okta flow failures',
        message: 'Sync Users failed @slack-ops',
      },
    });
    const got = await downtimes.getDowntime({ downtimeId });
    expect(got.data?.attributes?.status).toBe('canceled');
    expect(got.data?.attributes?.canceled).toBeInstanceOf(Date);
    // canceling twice is harmless and sends nothing more
    await downtimes.cancelDowntime({ downtimeId });
    await new Promise((r) => setTimeout(r, 200));
    expect(await history(monitorId)).toHaveLength(3);
  });

  it('answers 404 for an unknown id and 400 naming the attribute for a bad request', async () => {
    const gone = await downtimes.getDowntime({ downtimeId: 'no-such-id' }).catch((e: unknown) => e);
    expect((gone as client.ApiException<unknown>).code).toBe(404);
    const bad = await downtimes
      .createDowntime({
        body: {
          data: {
            type: 'downtime',
            attributes: {
              scope: '*',
              monitorIdentifier: { monitorId },
              schedule: { recurrences: [{ rrule: 'FREQ=SECONDLY', duration: '1h' }] },
            },
          },
        },
      })
      .catch((e: unknown) => e);
    expect((bad as client.ApiException<{ errors: string[] }>).code).toBe(400);
    expect((bad as client.ApiException<{ errors: string[] }>).body.errors).toEqual([
      'schedule.recurrences[0]: FREQ=SECONDLY is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY',
    ]);
    const res = await fetch(`${srv.url}/api/v2/downtime`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({
        data: { type: 'downtime', attributes: { monitor_identifier: { monitor_id: 1 } } },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: string[] }).errors[0]).toMatch(/^scope: /);
  });
});

// Datadog's DowntimesApi.listMonitorDowntimes (GET /api/v2/monitor/{id}/downtime_matches) and the scope rule
// of matching_downtimes: a downtime whose scope cannot cover any group of the monitor is not listed.
describe('downtimes matching a monitor', () => {
  const create = async (attributes: v2.DowntimeCreateRequestAttributes) =>
    (await downtimes.createDowntime({ body: { data: { type: 'downtime', attributes } } })).data!.id!;
  async function postLogs(items: Record<string, unknown>[]): Promise<void> {
    const res = await fetch(`${srv.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(items),
    });
    expect(res.status).toBe(202);
  }

  it('lists the active and scheduled downtimes with the groups they cover, paged, through DowntimesApi', async () => {
    const m = await monitors.createMonitor({
      body: {
        name: 'Okta flow failures (matches)',
        type: 'log alert',
        query: 'logs("service:okta status:error").rollup("count").by("@flow_name").last("5m") > 0',
        message: 'failed @slack-ops',
        tags: ['team:matches'],
        options: { thresholds: { critical: 0 }, newGroupDelay: 0 },
      },
    });
    const id = m.id!;
    await postFail('Sync Users');
    await postFail('Payroll');
    await waitFor(async () => ((await history(id)).length >= 2 ? true : undefined));

    const sync = await create({ scope: '@flow_name:"Sync Users"', monitorIdentifier: { monitorId: id } });
    const notPayroll = await create({
      scope: '-@flow_name:Payroll',
      monitorIdentifier: { monitorTags: ['team:matches'] },
    });
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    const end = new Date(start.getTime() + 7_200_000);
    const later = await create({
      scope: '*',
      monitorIdentifier: { monitorId: id },
      schedule: { start, end },
    });
    // the monitor is not grouped by env: this scope can cover none of its groups
    const staging = await create({
      scope: 'env:staging',
      monitorIdentifier: { monitorTags: ['team:matches'] },
    });
    // canceled: not listed
    const gone = await create({ scope: '*', monitorIdentifier: { monitorId: id } });
    await downtimes.cancelDowntime({ downtimeId: gone });

    const page = await downtimes.listMonitorDowntimes({ monitorId: id });
    expect(page._unparsed).toBeFalsy();
    expect(page.meta?.page?.totalFilteredCount).toBe(3);
    const rows = page.data ?? [];
    expect(rows.map((r) => r.id)).toEqual([sync, notPayroll, later]);
    expect(rows.every((r) => r.type === 'downtime_match')).toBe(true);
    expect(rows[0]!.attributes).toMatchObject({
      scope: '@flow_name:"Sync Users"',
      groups: ['@flow_name:Sync Users'],
    });
    expect(rows[0]!.attributes!.start).toBeInstanceOf(Date);
    expect(Math.abs(rows[0]!.attributes!.start!.getTime() - Date.now())).toBeLessThan(10_000);
    expect(rows[0]!.attributes!.end ?? null).toBeNull();
    expect(rows[1]!.attributes!.groups).toEqual(['@flow_name:Sync Users']);
    expect(rows[2]!.attributes!.groups!.sort()).toEqual(['@flow_name:Payroll', '@flow_name:Sync Users']);
    expect(rows[2]!.attributes!.start).toEqual(start);
    expect(rows[2]!.attributes!.end).toEqual(end);
    expect(rows.map((r) => r.id)).not.toContain(staging);

    // page[offset] / page[limit], and the client's own pagination over them
    const second = await downtimes.listMonitorDowntimes({ monitorId: id, pageOffset: 1, pageLimit: 1 });
    expect(second.data?.map((r) => r.id)).toEqual([notPayroll]);
    expect(second.meta?.page?.totalFilteredCount).toBe(3);
    const all: string[] = [];
    for await (const r of downtimes.listMonitorDowntimesWithPagination({ monitorId: id, pageLimit: 2 }))
      all.push(r.id!);
    expect(all).toEqual([sync, notPayroll, later]);

    // matching_downtimes (v1) applies the same rule
    const mon = await monitors.getMonitor({ monitorId: id });
    expect(mon.matchingDowntimes?.map((x) => x.additionalProperties?.downtime_id)).toEqual([
      sync,
      notPayroll,
      later,
    ]);

    const unknown = await downtimes.listMonitorDowntimes({ monitorId: 999_999 }).catch((e: unknown) => e);
    expect((unknown as client.ApiException<unknown>).code).toBe(404);
    const bad = await fetch(`${srv.url}/api/v2/monitor/${id}/downtime_matches?page[limit]=0`, {
      headers: appHeaders,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: string[] }).errors[0]).toMatch(/page\[limit\]/);
    const badId = await fetch(`${srv.url}/api/v2/monitor/abc/downtime_matches`, { headers: appHeaders });
    expect(badId.status).toBe(400);
  });

  it('notify_by: a scope on a sub-group key covers the notification groups that include it', async () => {
    const m = await monitors.createMonitor({
      body: {
        name: 'Flow failures per flow (notify_by)',
        type: 'log alert',
        query: 'logs("service:nb-test status:error").rollup("count").by("@flow_name,env").last("5m") > 1',
        message: '{{@flow_name.name}} failed',
        tags: ['team:notify-by'],
        options: { thresholds: { critical: 1 }, newGroupDelay: 0, notifyBy: ['@flow_name'] },
      },
    });
    const id = m.id!;
    const staging = await create({ scope: 'env:staging', monitorIdentifier: { monitorId: id } });
    // env is a group-by (of the sub-groups): the downtime matches the monitor
    const mon = await monitors.getMonitor({ monitorId: id });
    expect(mon.matchingDowntimes?.map((x) => x.additionalProperties?.downtime_id)).toEqual([staging]);

    const fail = (flow: string, env: string) => ({
      service: 'nb-test',
      status: 'error',
      ddtags: `env:${env}`,
      message: `${flow} failed`,
      flow_name: flow,
    });
    // flow A has a staging sub-group (and breaches in prod); flow B runs in prod only
    await postLogs([fail('A', 'staging'), fail('A', 'prod'), fail('A', 'prod')]);
    await postLogs([fail('B', 'prod'), fail('B', 'prod')]);
    const events = await waitFor(async () => {
      const h = await history(id);
      return h.length >= 2 ? h : undefined;
    });
    const byGroup = Object.fromEntries(events.map((e) => [e.group_key, e.body]));
    expect(byGroup['@flow_name:A']).toMatchObject({
      transition: 'Triggered',
      muted: true,
      downtime_id: staging,
    });
    expect(byGroup['@flow_name:B']).toMatchObject({
      transition: 'Triggered',
      muted: false,
      downtime_id: null,
    });
    const matches = await downtimes.listMonitorDowntimes({ monitorId: id });
    expect(matches.data?.map((r) => [r.id, r.attributes?.groups])).toEqual([[staging, ['@flow_name:A']]]);
  });
});
