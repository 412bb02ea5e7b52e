// Bundling and the dead-letter fallback through a running server: the configuration file turns bundling on
// for every recipient (notifications.bundle_config) and names a fallback recipient (dead_letter.notify);
// twelve Okta flows fail within the window → Slack gets the first alert at once and one summary naming the
// other eleven; a webhook answering 400 goes to dead letter → the fallback Slack channel is told what failed
// and why, and /metrics and the notifications API show the failure.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.ts';
import { type Running, startServer } from '../src/main.ts';
import { loadNotificationsConfig } from '../src/notify/config.ts';
import { type Fake, startSlackFake } from './helpers/chat-fakes.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { type Receiver, startReceiver } from './helpers/receiver.ts';
import { API_KEY, APP_KEY, appHeaders, tempDir } from './helpers/server.ts';

const WINDOW_S = 3;
let srv: Running;
let alerts: Fake;
let ops: Fake;
let broken: Receiver;
const env: Record<string, string> = { FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY };

beforeAll(async () => {
  alerts = await startSlackFake();
  ops = await startSlackFake();
  broken = await startReceiver();
  broken.otherwise = { status: 400, body: 'invalid payload' };
  const dir = tempDir();
  const configFile = path.join(dir, 'flowwatch.yaml');
  writeFileSync(
    configFile,
    [
      'settings:',
      '  notify_retry_base_ms: 10',
      'notifications:',
      '  bundle_config:',
      `    duration: ${WINDOW_S}`,
      '  dead_letter:',
      '    notify: [slack-ops]',
      '  slack:',
      '    channels:',
      '      okta-alerts: ${env:SLACK_ALERTS_URL}',
      '      ops: ${env:SLACK_OPS_URL}',
      '',
    ].join('\n'),
  );
  env.SLACK_ALERTS_URL = `${alerts.url}/services/T1/B1/alerts`;
  env.SLACK_OPS_URL = `${ops.url}/services/T1/B2/ops`;
  const settings = loadSettings({ configFile, flags: { data_dir: dir, port: 0 }, env: {} });
  srv = await startServer(settings, { env, logger: pino({ level: 'silent' }), configFile });
});
afterAll(async () => {
  await srv?.close();
  await alerts?.close();
  await ops?.close();
  await broken?.close();
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`${srv.url}${p}`, {
    method,
    headers: appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

async function flowFail(flow: string) {
  const run = `${flow}-${Date.now()}-${Math.random()}`;
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body: oktaBody(elsEvent('flow_fail', { flow_name: flow, execution_id: run, idempotency_key: run })),
  });
  expect(res.status).toBe(202);
}

const monitor = (name: string, search: string, message: string) =>
  call('POST', '/api/v1/monitor', {
    name,
    type: 'log alert',
    query: `logs("${search}").index("*").rollup("count").by("@flow_name").last("5m") > 0`,
    message,
    options: { thresholds: { critical: 0 }, new_group_delay: 0 },
  });

describe('bundling and the dead-letter fallback, end to end', () => {
  it('12 flows failing within the window: the first at once, then one summary naming the other 11', async () => {
    const m = await monitor(
      'Okta flow failures',
      'service:okta source:okta-workflows-els status:error @flow_name:Bundle*',
      '{{#is_alert}}{{@flow_name.name}} failed @slack-okta-alerts{{/is_alert}}',
    );
    expect(m.status).toBe(200);
    const flows = Array.from({ length: 12 }, (_, i) => `Bundle ${String(i + 1).padStart(2, '0')}`);
    const started = Date.now();
    for (const f of flows) await flowFail(f);

    await alerts.waitFor(1);
    const first = alerts.received[0]!.body;
    expect(Date.now() - started).toBeLessThan(WINDOW_S * 1000); // not held
    const firstFlow = /\{@flow_name:(Bundle \d\d)\}/.exec(first.text)?.[1];
    expect(flows).toContain(firstFlow);

    await alerts.waitFor(2, 15_000);
    const summary = alerts.received[1]!.body;
    expect(alerts.rejected).toEqual([]);
    expect(summary.text).toMatch(/^\[Bundled\] 11 more flows failing \(Okta flow failures\): /);
    expect(summary.blocks[0].text.text).toBe('🔴 11 more flows failing');
    const listed = JSON.stringify(summary.blocks);
    for (const f of flows.filter((x) => x !== firstFlow))
      expect(listed).toContain(`/monitors/${m.json.id}|Okta flow failures on @flow_name:${f}>`);
    expect(listed).not.toContain(`@flow_name:${firstFlow}>`);
    await new Promise((r) => setTimeout(r, 500));
    expect(alerts.received).toHaveLength(2);

    const jobs = await call('GET', '/api/flowwatch/v1/notifications?limit=100');
    const mine = jobs.json.data.filter((j: any) => j.handle === '@slack-okta-alerts');
    expect(mine.filter((j: any) => j.kind === 'summary')).toHaveLength(1);
    expect(mine.filter((j: any) => j.bundle_id !== null)).toHaveLength(11);
    expect(mine.every((j: any) => j.state === 'delivered')).toBe(true);
  });

  it('a webhook in dead letter: the fallback recipient is told what and why; /metrics and the API show it', async () => {
    const w = await call('POST', '/api/v1/integration/webhooks/configuration/webhooks', {
      name: 'broken',
      url: `${broken.url}/hook`,
    });
    expect(w.status).toBe(201);
    const m = await monitor(
      'Broken receiver',
      'service:okta source:okta-workflows-els status:error @flow_name:Dead*',
      '{{#is_alert}}{{@flow_name.name}} failed @webhook-broken{{/is_alert}}',
    );
    expect(m.status).toBe(200);
    await flowFail('Dead Letter Flow');
    await ops.waitFor(1);
    const notice = ops.received[0]!.body;
    expect(ops.rejected).toEqual([]);
    expect(notice.text).toBe(
      '[Flowwatch] Notification to @webhook-broken failed: [Triggered on {@flow_name:Dead Letter Flow}] Broken receiver',
    );
    const said = JSON.stringify(notice.blocks);
    expect(said).toContain('http_4xx: webhook \\"broken\\" (POST ');
    expect(said).toContain('/hook) answered 400');
    expect(broken.requests).toHaveLength(1); // no retry on a 400

    const dead = await call('GET', '/api/flowwatch/v1/notifications?state=dead');
    const job = dead.json.data.find((j: any) => j.handle === '@webhook-broken');
    expect(job).toMatchObject({
      kind: 'alert',
      last_status: 400,
      last_reason: 'http_4xx',
      monitor_id: m.json.id,
    });
    expect(dead.json.counts.dead).toBeGreaterThanOrEqual(1);
    const fallback = (await call('GET', '/api/flowwatch/v1/notifications?state=delivered')).json.data.find(
      (j: any) => j.kind === 'fallback',
    );
    expect(fallback).toMatchObject({ handle: '@slack-ops', detail: { job_id: job.id, reason: 'http_4xx' } });

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/flowwatch_notify_dead_letters_total\{channel="webhook",reason="http_4xx"\} 1/);
    expect(metrics).toMatch(/flowwatch_notify_deliveries_total\{channel="webhook",outcome="dead"\} 1/);
    expect(metrics).toMatch(/flowwatch_notify_dead_letter_fallbacks_total\{channel="slack"\} 1/);
    expect(metrics).toMatch(/flowwatch_notify_bundled_total\{channel="slack"\} 11/);
    expect(metrics).toMatch(/flowwatch_notify_jobs\{state="dead"\} 1/);
  });

  it('reads bundle_config and dead_letter from the configuration file, with file:line errors', () => {
    const dir = tempDir();
    const file = path.join(dir, 'f.yaml');
    writeFileSync(
      file,
      'notifications:\n  bundle_config:\n    duration: 300\n  dead_letter:\n    notify: ["@slack-ops"]\n',
    );
    expect(loadNotificationsConfig(file, {})).toMatchObject({
      bundle_ms: 300_000,
      dead_letter_notify: ['@slack-ops'],
    });
    writeFileSync(file, 'notifications:\n  bundle_config:\n    duration: 1.5\n');
    expect(() => loadNotificationsConfig(file, {})).toThrow(
      /f\.yaml:3:15: notifications\.bundle_config\.duration: duration is whole seconds/,
    );
    writeFileSync(file, 'notifications:\n  dead_letter:\n    notfy: [x]\n');
    expect(() => loadNotificationsConfig(file, {})).toThrow(
      /f\.yaml:3:\d+: notifications\.dead_letter: Unrecognized key: "notfy"/,
    );
    expect(loadNotificationsConfig(undefined, {}).bundle_ms).toBeUndefined(); // off unless configured
  });
});
