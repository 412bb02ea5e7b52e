// Monitors end to end: the official client's MonitorsApi against a running server, a FLOW_FAIL posted in
// Okta's template raising the alert at once (streaming evaluation), and a restart in the middle of the alert
// keeping its state without a second notification.
import { client, v1 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running & { dataDir: string };
let api: v1.MonitorsApi;

function connect(url: string) {
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(url, {}),
  });
  api = new v1.MonitorsApi(config);
}

beforeAll(async () => {
  srv = await startTestServer();
  connect(srv.url);
});
afterAll(async () => {
  await srv.close();
});

async function postEls(name: string, over: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body: oktaBody(elsEvent(name, over)),
  });
  expect(res.status).toBe(202);
}

async function history(id: number) {
  const res = await fetch(`${srv.url}/api/flowwatch/v1/monitor/${id}/history`, { headers: appHeaders });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { group_key: string; body: Record<string, any> }[] }).data;
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

describe('log monitors', () => {
  let grouped: v1.Monitor;

  it('creates a grouped log alert with MonitorsApi; a FLOW_FAIL triggers it within the commit', async () => {
    grouped = await api.createMonitor({
      body: {
        name: 'Okta flow failures',
        type: 'log alert',
        query: 'logs("service:okta status:error").index("*").rollup("count").by("@flow_name").last("5m") > 0',
        message:
          '{{#is_alert}}{{@flow_name.name}} failed: {{log.attributes.error.message}} @slack-okta-alerts{{/is_alert}}' +
          '{{#is_recovery}}{{@flow_name.name}} recovered @slack-okta-alerts{{/is_recovery}}',
        tags: ['team:iam'],
        priority: 2,
        options: { thresholds: { critical: 0 }, newGroupDelay: 0, enableLogsSample: true },
      },
    });
    expect(grouped.id).toBeGreaterThan(0);
    expect(grouped.type).toBe('log alert');
    expect(grouped.multi).toBe(true);
    const run = `mon-${Date.now()}`;
    const sent = Date.now();
    await postEls('flow_fail', { execution_id: run, idempotency_key: run, flow_name: 'Sync Users' });
    const events = await waitFor(async () => {
      const h = await history(grouped.id!);
      return h.length > 0 ? h : undefined;
    });
    const took = Date.now() - sent;
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.group_key).toBe('@flow_name:Sync Users');
    expect(e.body).toMatchObject({
      transition: 'Triggered',
      from: 'OK',
      to: 'Alert',
      notify: true,
      value: 1,
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      message: 'Sync Users failed: Workday: 503 Service Unavailable @slack-okta-alerts',
      handles: ['@slack-okta-alerts'],
    });
    expect(e.body.sample.attributes.attributes.execution_id).toBe(run);
    expect(e.body.log_link).toContain('/logs?query=');
    expect(took).toBeLessThan(5000);
    const got = await api.getMonitor({ monitorId: grouped.id!, groupStates: 'all' });
    expect(got.overallState).toBe('Alert');
    expect(got.state?.groups?.['@flow_name:Sync Users']?.status).toBe('Alert');
  });

  it('keeps the alert across a restart without a second notification', async () => {
    const dataDir = srv.dataDir;
    await srv.close();
    srv = await startTestServer({ data_dir: dataDir });
    connect(srv.url);
    const got = await api.getMonitor({ monitorId: grouped.id!, groupStates: 'all' });
    expect(got.overallState).toBe('Alert');
    // a tick passes with the window still holding the failure: still one event
    await new Promise((r) => setTimeout(r, 1500));
    expect(await history(grouped.id!)).toHaveLength(1);
    // a second failure of another flow is a new group
    const run = `mon2-${Date.now()}`;
    await postEls('flow_fail', { execution_id: run, idempotency_key: run, flow_name: 'Payroll Export' });
    const h = await waitFor(async () => {
      const x = await history(grouped.id!);
      return x.length === 2 ? x : undefined;
    });
    expect(h[0]!.group_key).toBe('@flow_name:Payroll Export');
  });

  it('lists, searches, validates, updates and deletes like Datadog', async () => {
    const list = await api.listMonitors({ name: 'okta flow', tags: 'team:iam' });
    expect(list.map((m) => m.id)).toContain(grouped.id);
    const search = await api.searchMonitors({ query: 'status:alert' });
    expect(search.monitors?.map((m) => m.id)).toContain(grouped.id);
    const updated = await api.updateMonitor({
      monitorId: grouped.id!,
      body: { name: 'Okta flow failures (renamed)' },
    });
    expect(updated.name).toBe('Okta flow failures (renamed)');
    expect(updated.query).toBe(grouped.query);
    await api.validateMonitor({
      body: { type: 'log alert', query: 'logs("*").last("5m") > 1', name: 'v', message: 'x' },
    });
    const bad = await api
      .validateMonitor({
        body: {
          type: 'log alert',
          query: 'logs("*").last("5m") > 1',
          name: 'v',
          options: { thresholds: { critical: 3 } },
        },
      })
      .catch((err: unknown) => err);
    expect((bad as client.ApiException<{ errors: string[] }>).code).toBe(400);
    expect((bad as client.ApiException<{ errors: string[] }>).body.errors[0]).toMatch(
      /^The value provided for parameter 'query' is invalid: alert threshold \(3\) does not match that used in the query \(1\)/,
    );
    const res = await fetch(`${srv.url}/api/v1/monitor`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({
        type: 'metric alert',
        name: 'm',
        query: 'logs("a AND (").last("5m") > 1',
        message: '{{#is_alert}}',
      }),
    });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: string[] };
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/parameter 'type' is invalid/),
        expect.stringMatching(
          /parameter 'query' is invalid: in the search query: unexpected end of query: expected a term at column 14/,
        ),
      ]),
    );
    const deleted = await api.deleteMonitor({ monitorId: grouped.id! });
    expect(deleted.deletedMonitorId).toBe(grouped.id);
    const gone = await api.getMonitor({ monitorId: grouped.id! }).catch((e: unknown) => e);
    expect((gone as client.ApiException<unknown>).code).toBe(404);
  });
});
