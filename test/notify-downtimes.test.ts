// Downtime notices end to end: a downtime whose message names @webhook-x, @slack-iam and @pagerduty-okta,
// created to start two seconds later on a running server. Its scheduled, started and canceled notices reach
// the local webhook receiver and the Slack fake once each, across two restarts of the server; PagerDuty gets
// none (a notice would open an incident nothing closes).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.ts';
import { type Running, startServer } from '../src/main.ts';
import { type Fake, startPagerDutyFake, startSlackFake } from './helpers/chat-fakes.ts';
import { type Receiver, startReceiver } from './helpers/receiver.ts';
import { API_KEY, APP_KEY, appHeaders, tempDir } from './helpers/server.ts';

let srv: Running | undefined;
let rx: Receiver;
let slack: Fake;
let pd: Fake;
let dir: string;
let configFile: string;

const start = async () => {
  const settings = loadSettings({ configFile, flags: { data_dir: dir, port: 0 }, env: {} });
  srv = await startServer(settings, {
    env: { FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY },
    logger: pino({ level: 'silent' }),
    configFile,
  });
  return srv;
};
const restart = async () => {
  await srv?.close();
  return start();
};

beforeAll(async () => {
  rx = await startReceiver();
  slack = await startSlackFake();
  pd = await startPagerDutyFake();
  dir = tempDir();
  configFile = path.join(dir, 'flowwatch.yaml');
  writeFileSync(
    configFile,
    [
      'settings:',
      '  notify_retry_base_ms: 10',
      'notifications:',
      '  slack:',
      '    channels:',
      `      iam: ${slack.url}/services/T0001/B0001/XXXXsecret`,
      '  pagerduty:',
      `    url: ${pd.url}`,
      '    services:',
      '      okta: e93facc04764012d7bfb002500d5d1a6',
      '',
    ].join('\n'),
  );
  await start();
});
afterAll(async () => {
  await srv?.close();
  await rx?.close();
  await slack?.close();
  await pd?.close();
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`${srv!.url}${p}`, {
    method,
    headers: body === undefined ? { 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY } : appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('downtime notices', () => {
  it('sends scheduled, started and canceled notices to the handles of the message, once each', async () => {
    expect(
      (
        await call('POST', '/api/v1/integration/webhooks/configuration/webhooks', {
          name: 'x',
          url: `${rx.url}/hook`,
        })
      ).status,
    ).toBe(201);
    const m = await call('POST', '/api/v1/monitor', {
      name: 'Okta flow failures',
      type: 'log alert',
      query: 'logs("service:okta status:error").index("*").rollup("count").by("env").last("5m") > 0',
      message: 'flows fail',
      options: { thresholds: { critical: 0 } },
    });
    expect(m.status).toBe(200);
    const startAt = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000);
    const created = await call('POST', '/api/v2/downtime', {
      data: {
        type: 'downtime',
        attributes: {
          scope: 'env:staging',
          monitor_identifier: { monitor_id: m.json.id },
          schedule: { start: startAt.toISOString().replace(/\.\d+Z$/, 'Z') },
          message: 'Staging upgrade, ask #iam. @webhook-x @slack-iam @pagerduty-okta',
        },
      },
    });
    expect(created.status).toBe(200);
    const id = created.json.data.id as string;
    expect(created.json.data.attributes.status).toBe('scheduled');

    // Scheduled, at once: the webhook's default payload, Slack's Block Kit (checked by the fake).
    const [scheduled] = await rx.waitFor(1);
    const p = JSON.parse(scheduled!.body);
    expect(p.title).toBe('Downtime scheduled: env:staging on Okta flow failures');
    expect(p.body).toContain('Staging upgrade, ask #iam. @webhook-x');
    expect(p.body).toContain('**Scope:** `env:staging`');
    expect(p.body).toContain('It will start at ');
    expect(p.body).toContain(`[[Downtime](${srv!.url}/monitors/downtimes?id=${id})]`);
    expect(p.body).not.toContain('count of logs'); // no monitor status sentence
    expect(scheduled!.headers['idempotency-key']).toMatch(/^\d+:@webhook-x$/);
    await slack.waitFor(1);
    expect(slack.rejected).toEqual([]);
    const s = slack.received[0]!.body;
    expect(s.text).toBe('Downtime scheduled: env:staging on Okta flow failures');
    expect(JSON.stringify(s.blocks)).toContain('Staging upgrade, ask #iam.');
    expect(JSON.stringify(s.attachments)).toContain('View downtime');

    // A restart before the start sends nothing again; after it, the started notice comes.
    await restart();
    const [, started] = await rx.waitFor(2);
    expect(JSON.parse(started!.body).title).toBe('Downtime started: env:staging on Okta flow failures');
    expect(Date.now()).toBeGreaterThanOrEqual(startAt.getTime());
    await slack.waitFor(2);

    // Another restart while active: no second started notice; cancel → the canceled notice.
    await restart();
    await sleep(1500);
    expect(rx.requests).toHaveLength(2);
    expect((await call('DELETE', `/api/v2/downtime/${id}`)).status).toBe(204);
    const [, , canceled] = await rx.waitFor(3);
    const c = JSON.parse(canceled!.body);
    expect(c.title).toBe('Downtime canceled: env:staging on Okta flow failures');
    expect(c.body).toContain('It was canceled at ');
    await slack.waitFor(3);
    expect(slack.received.map((r) => r.body.text)).toEqual([
      'Downtime scheduled: env:staging on Okta flow failures',
      'Downtime started: env:staging on Okta flow failures',
      'Downtime canceled: env:staging on Okta flow failures',
    ]);

    // Nothing more: not twice, not to PagerDuty; the jobs are listed with the other notifications.
    await restart();
    await sleep(1500);
    expect(rx.requests).toHaveLength(3);
    expect(new Set(rx.requests.map((r) => r.headers['idempotency-key'])).size).toBe(3);
    expect(slack.received).toHaveLength(3);
    expect(pd.received).toEqual([]);
    const jobs = await call('GET', '/api/flowwatch/v1/notifications?limit=20');
    expect(jobs.status).toBe(200);
    const handles = (jobs.json.data as { handle: string; state: string }[]).map(
      (j) => `${j.handle} ${j.state}`,
    );
    expect(handles.sort()).toEqual([
      ...Array(3).fill('@slack-iam delivered'),
      ...Array(3).fill('@webhook-x delivered'),
    ]);
  });
});
