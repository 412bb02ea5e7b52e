// Slack and PagerDuty end to end, the Okta setup: the configuration file names a Slack channel and a
// PagerDuty service with ${env:…} secrets; the built-in pipeline, a monitor on Okta's errors whose message
// mentions @slack-okta-alerts and @pagerduty-okta, a FLOW_FAIL posted in Okta's body template → both fakes
// get the alert (checked against §7.2/§7.3); raising the threshold re-evaluates at once → the monitor
// recovers → PagerDuty gets `resolve` with the trigger's dedup_key and Slack a green recovery.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.ts';
import { type Running, startServer } from '../src/main.ts';
import { type Fake, startPagerDutyFake, startSlackFake } from './helpers/chat-fakes.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, tempDir } from './helpers/server.ts';

const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';
let srv: Running;
let slack: Fake;
let pd: Fake;
let configFile: string;
const env: Record<string, string> = { FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY };

beforeAll(async () => {
  slack = await startSlackFake();
  pd = await startPagerDutyFake();
  const dir = tempDir();
  configFile = path.join(dir, 'flowwatch.yaml');
  writeFileSync(
    configFile,
    [
      'settings:',
      '  notify_retry_base_ms: 10',
      'notifications:',
      '  slack:',
      '    channels:',
      '      okta-alerts: ${env:SLACK_OKTA_ALERTS_URL}',
      '  pagerduty:',
      `    url: ${pd.url}`,
      '    services:',
      '      okta: ${env:PD_OKTA_ROUTING_KEY}',
      '',
    ].join('\n'),
  );
  env.SLACK_OKTA_ALERTS_URL = `${slack.url}/services/T0001/B0001/XXXXsecret`;
  env.PD_OKTA_ROUTING_KEY = ROUTING_KEY;
  const settings = loadSettings({ configFile, flags: { data_dir: dir, port: 0 }, env: {} });
  srv = await startServer(settings, { env, logger: pino({ level: 'silent' }), configFile });
});
afterAll(async () => {
  await srv?.close();
  await slack?.close();
  await pd?.close();
});

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(`${srv.url}${p}`, {
    method,
    headers: appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

const QUERY = (t: number) =>
  `logs("service:okta source:okta-workflows-els env:production status:(warning OR error)").index("*").rollup("count").by("@flow_name").last("5m") > ${t}`;

describe('Slack and PagerDuty, end to end', () => {
  it('a FLOW_FAIL alerts Slack and PagerDuty; the recovery resolves the PagerDuty incident', async () => {
    const m = await call('POST', '/api/v1/monitor', {
      name: 'Okta flow failures',
      type: 'log alert',
      query: QUERY(0),
      message:
        '{{#is_alert}}{{@flow_name.name}} failed: {{log.message}} @slack-okta-alerts @pagerduty-okta{{/is_alert}}' +
        '{{#is_recovery}}{{@flow_name.name}} recovered @slack-okta-alerts @pagerduty-okta{{/is_recovery}}',
      priority: 1,
      tags: ['team:iam'],
      options: { thresholds: { critical: 0 }, new_group_delay: 0, enable_logs_sample: true },
    });
    expect(m.status).toBe(200);
    const run = `e2e-${Date.now()}`;
    const res = await fetch(`${srv.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
      body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run })),
    });
    expect(res.status).toBe(202);

    await Promise.all([slack.waitFor(1), pd.waitFor(1)]);
    expect(slack.rejected).toEqual([]);
    expect(pd.rejected).toEqual([]);
    const s = slack.received[0]!;
    expect(s.path).toBe('/services/T0001/B0001/XXXXsecret');
    expect(s.body.text).toMatch(/^\[P1\] \[Triggered on \{@flow_name:.+\}\] Okta flow failures$/);
    expect(s.body.attachments[0].color).toBe('#D52B1E');
    expect(JSON.stringify(s.body)).toContain('Sample log');
    expect(JSON.stringify(s.body)).toContain(`/monitors/${m.json.id}|Monitor>`);
    const trigger = pd.received[0]!;
    expect(trigger.path).toBe('/v2/enqueue');
    expect(trigger.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { severity: 'critical', component: 'okta', source: 'acme.workflows.okta.com' },
    });
    expect(trigger.body.payload.custom_details).toMatchObject({
      monitor_id: m.json.id,
      value: 1,
      threshold: '> 0',
    });

    // Raise the threshold: the value (1) no longer breaches; the update re-evaluates at once.
    const up = await call('PUT', `/api/v1/monitor/${m.json.id}`, {
      query: QUERY(5),
      options: { thresholds: { critical: 5 } },
    });
    expect(up.status).toBe(200);
    await Promise.all([slack.waitFor(2), pd.waitFor(2)]);
    const resolve = pd.received[1]!;
    expect(resolve.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: trigger.body.dedup_key,
    });
    const recovered = slack.received[1]!.body;
    expect(recovered.attachments[0].color).toBe('#2EB67D');
    expect(JSON.stringify(recovered)).not.toContain('Sample log');
    expect(pd.rejected).toEqual([]);
    expect(slack.rejected).toEqual([]);

    // The jobs are delivered and their records hold no secret.
    const jobs = await call('GET', '/api/flowwatch/v1/notifications?limit=10');
    const mine = jobs.json.data.filter((j: any) => j.monitor_id === m.json.id);
    expect(mine.map((j: any) => `${j.channel}:${j.state}`).sort()).toEqual([
      'pagerduty:delivered',
      'pagerduty:delivered',
      'slack:delivered',
      'slack:delivered',
    ]);
    expect(JSON.stringify(jobs.json)).not.toMatch(/XXXXsecret|e93facc0/);
  });

  it('reloadConfig (what SIGHUP calls): a valid file is taken; an invalid one is refused with file:line', async () => {
    writeFileSync(
      configFile,
      `notifications:\n  slack:\n    channels:\n      iam: \${env:SLACK_OKTA_ALERTS_URL}\n`,
    );
    expect(srv.reloadConfig()).toEqual({ ok: true });
    writeFileSync(configFile, 'notifications:\n  slack:\n    channels:\n      iam: ${env:NOPE}\n');
    const r = srv.reloadConfig();
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.error).toBe(
      `${configFile}:4:12: notifications.slack.channels.iam: environment variable NOPE is not set`,
    );
  });
});
