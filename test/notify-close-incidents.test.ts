// Deleting or muting a monitor resolves its open incidents, end to end (issue 6 §4): a running server with
// PagerDuty, Opsgenie and Slack fakes; a FLOW_FAIL triggers PagerDuty and creates an Opsgenie alert; then
// DELETE /api/v1/monitor/:id → PagerDuty `resolve` with the trigger's dedup_key and Opsgenie close by the
// create's alias (Slack, which holds no incident, gets nothing more); and a downtime starting to cover a
// triggered monitor → the same resolve, within the downtime service's tick.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.ts';
import { type Running, startServer } from '../src/main.ts';
import { type Fake, startOpsgenieFake, startPagerDutyFake, startSlackFake } from './helpers/chat-fakes.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, tempDir } from './helpers/server.ts';

const ROUTING_KEY = 'c0ffeec04764012d7bfb002500d5d1a6';
const GENIE_KEY = '11111111-2222-3333-4444-555555555555';
let srv: Running;
let pd: Fake;
let og: Fake;
let slack: Fake;

beforeAll(async () => {
  pd = await startPagerDutyFake();
  og = await startOpsgenieFake(GENIE_KEY);
  slack = await startSlackFake();
  const dir = tempDir();
  const configFile = path.join(dir, 'flowwatch.yaml');
  writeFileSync(
    configFile,
    [
      'settings:',
      '  notify_retry_base_ms: 10',
      'notifications:',
      '  slack:',
      '    channels:',
      `      okta-alerts: ${slack.url}/services/T1/B1/x`,
      '  pagerduty:',
      `    url: ${pd.url}`,
      '    services:',
      `      okta: \${env:PD_KEY}`,
      '  opsgenie:',
      '    services:',
      '      okta:',
      `        api_key: \${env:GENIE_KEY}`,
      '        region: custom',
      `        custom_url: ${og.url}`,
      '',
    ].join('\n'),
  );
  const env = {
    FLOWWATCH_API_KEY: API_KEY,
    FLOWWATCH_APP_KEY: APP_KEY,
    PD_KEY: ROUTING_KEY,
    GENIE_KEY,
  };
  const settings = loadSettings({ configFile, flags: { data_dir: dir, port: 0 }, env: {} });
  srv = await startServer(settings, {
    env,
    logger: pino({ level: process.env.DEBUG_LOG ? 'debug' : 'silent' }),
    configFile,
  });
});
afterAll(async () => {
  await srv?.close();
  await Promise.all([pd?.close(), og?.close(), slack?.close()]);
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`${srv.url}${p}`, {
    method,
    headers: body === undefined ? { 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY } : appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

/** A monitor on one flow's failures that pages PagerDuty and Opsgenie and posts to Slack; then a failure. */
async function triggered(flow: string): Promise<number> {
  const m = await call('POST', '/api/v1/monitor', {
    name: `Okta ${flow} failures`,
    type: 'log alert',
    query: `logs("service:okta status:error @flow_name:\\"${flow}\\"").index("*").rollup("count").by("@flow_name").last("5m") > 0`,
    message: '{{@flow_name.name}} failed @pagerduty-okta @opsgenie-okta @slack-okta-alerts',
    priority: 2,
    options: { thresholds: { critical: 0 }, new_group_delay: 0 },
  });
  expect(m.status).toBe(200);
  const run = `close-${flow}-${Date.now()}`;
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run, flow_name: flow })),
  });
  expect(res.status).toBe(202);
  return m.json.id;
}

const sent = (f: Fake, pred: (r: Fake['received'][number]) => boolean) => f.received.filter(pred);

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deleting or muting a monitor resolves its open incidents', () => {
  it('DELETE /api/v1/monitor/:id resolves the PagerDuty incident and closes the Opsgenie alert', async () => {
    const id = await triggered('Sync Users');
    await Promise.all([pd.waitFor(1), og.waitFor(1), slack.waitFor(1)]);
    const trigger = pd.received[0]!.body;
    expect(trigger).toMatchObject({ event_action: 'trigger', routing_key: ROUTING_KEY });
    const created = og.received[0]!;
    expect(created.path).toBe('/v2/alerts');

    const del = await call('DELETE', `/api/v1/monitor/${id}`);
    expect(del).toEqual({ status: 200, json: { deleted_monitor_id: id } });
    await Promise.all([pd.waitFor(2), og.waitFor(2)]);
    expect(pd.received[1]!.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: trigger.dedup_key,
    });
    expect(og.received[1]!.path).toBe(`/v2/alerts/${created.body.alias}/close?identifierType=alias`);
    expect(og.received[1]!.body.note).toMatch(/^Resolved: \[P2\] \[Resolved on \{@flow_name:Sync Users\}\]/);
    expect([...pd.rejected, ...og.rejected]).toEqual([]);
    // Slack holds no incident: nothing more went there; the close jobs are recorded and delivered.
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.received.length).toBe(1);
    const jobs = (await call('GET', '/api/flowwatch/v1/notifications?limit=20')).json.data.filter(
      (j: any) => j.monitor_id === id,
    );
    expect(jobs.map((j: any) => `${j.channel}:${j.state}`).sort()).toEqual([
      'opsgenie:delivered',
      'opsgenie:delivered',
      'pagerduty:delivered',
      'pagerduty:delivered',
      'slack:delivered',
    ]);
    // Deleting again: the monitor is gone (404), nothing is sent twice.
    expect((await call('DELETE', `/api/v1/monitor/${id}`)).status).toBe(404);
  });

  it('a downtime that starts covering a triggered monitor resolves its incidents (same dedup_key)', async () => {
    const pdBefore = pd.received.length;
    const ogBefore = og.received.length;
    const id = await triggered('Deprovision');
    await until(() => pd.received.length > pdBefore && og.received.length > ogBefore);
    const trigger = pd.received[pdBefore]!.body;
    expect(trigger.event_action).toBe('trigger');

    const dt = await call('POST', '/api/v2/downtime', {
      data: { type: 'downtime', attributes: { scope: '*', monitor_identifier: { monitor_id: id } } },
    });
    expect(dt.status).toBe(200);
    await until(
      () =>
        sent(pd, (r) => r.body.event_action === 'resolve' && r.body.dedup_key === trigger.dedup_key).length >
        0,
    );
    const alias = og.received[ogBefore]!.body.alias;
    await until(
      () => sent(og, (r) => r.path === `/v2/alerts/${alias}/close?identifierType=alias`).length > 0,
    );
    // The monitor's history shows the close event, caused by the downtime.
    const history = (await call('GET', `/api/flowwatch/v1/monitor/${id}/history`)).json.data;
    expect(history[0].body).toMatchObject({
      transition: 'Resolved',
      to: 'OK',
      cause: 'monitor_muted',
      downtime_id: dt.json.data.id,
      handles: ['@pagerduty-okta', '@opsgenie-okta'],
    });
    // The next ticks find nothing open: one resolve only.
    await new Promise((r) => setTimeout(r, 1500));
    expect(sent(pd, (r) => r.body.dedup_key === trigger.dedup_key).map((r) => r.body.event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
  });
});
