// Webhooks end to end: the official client's WebhooksIntegrationApi against a running server, a monitor with
// @webhook-ops alerting on a FLOW_FAIL posted in Okta's template and the alert arriving at a local receiver,
// and the notifications API (dead letter, retry, never twice) with the metrics.
import { client, v1 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { queueKey } from '../src/store/notifications.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { type Receiver, startReceiver } from './helpers/receiver.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running & { dataDir: string };
let api: v1.WebhooksIntegrationApi;
let rx: Receiver;

beforeAll(async () => {
  rx = await startReceiver();
  srv = await startTestServer({ notify_retry_base_ms: 10, notify_retry_max_ms: 50 });
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  api = new v1.WebhooksIntegrationApi(config);
});
afterAll(async () => {
  await srv.close();
  await rx.close();
});

async function until<T>(f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

async function monitor(name: string, message: string, flow: string): Promise<number> {
  const r = await call('POST', '/api/v1/monitor', {
    name,
    type: 'log alert',
    query: `logs("service:okta status:error @flow_name:\\"${flow}\\"").index("*").rollup("count").by("@flow_name").last("5m") > 0`,
    message,
    priority: 2,
    options: { thresholds: { critical: 0 }, new_group_delay: 0, enable_logs_sample: true },
  });
  expect(r.status).toBe(200);
  return r.json.id;
}

async function flowFail(flow: string): Promise<void> {
  const run = `wh-${flow}-${Date.now()}`;
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run, flow_name: flow })),
  });
  expect(res.status).toBe(202);
}

describe('webhooks integration API (official client)', () => {
  it('creates, gets, updates and deletes webhooks as Datadog does', async () => {
    const created = await api.createWebhooksIntegration({
      body: { name: 'audit', url: 'https://bot:s3cret@hooks.example.com/in', encodeAs: 'form' },
    });
    expect(created).toMatchObject({
      name: 'audit',
      url: 'https://bot:********@hooks.example.com/in',
      encodeAs: 'form',
    });
    expect(created.payload ?? null).toBeNull();
    const got = await api.getWebhooksIntegration({ webhookName: 'audit' });
    expect(got.url).toBe('https://bot:********@hooks.example.com/in');
    // sending the masked URL back keeps the stored credentials
    const updated = await api.updateWebhooksIntegration({
      webhookName: 'audit',
      body: { url: got.url, payload: '{"t": "$EVENT_TITLE"}', customHeaders: '{"X-Team": "iam"}' },
    });
    expect(updated).toMatchObject({ payload: '{"t": "$EVENT_TITLE"}', customHeaders: '{"X-Team": "iam"}' });
    const renamed = await api.updateWebhooksIntegration({ webhookName: 'audit', body: { name: 'audit2' } });
    expect(renamed.name).toBe('audit2');
    const raw = await call('GET', '/api/v1/integration/webhooks/configuration/webhooks/audit2');
    expect(raw.json).toEqual({
      name: 'audit2',
      url: 'https://bot:********@hooks.example.com/in',
      payload: '{"t": "$EVENT_TITLE"}',
      custom_headers: '{"X-Team": "iam"}',
      encode_as: 'form',
    });
    await api.deleteWebhooksIntegration({ webhookName: 'audit2' });
    const gone = await api.getWebhooksIntegration({ webhookName: 'audit2' }).catch((e: unknown) => e);
    expect((gone as client.ApiException<unknown>).code).toBe(404);
  });

  it('rejects duplicates, bad URLs, payloads that are not JSON and bad headers', async () => {
    await api.createWebhooksIntegration({ body: { name: 'dup', url: 'https://example.com/a' } });
    const dup = await api
      .createWebhooksIntegration({ body: { name: 'DUP', url: 'https://example.com/b' } })
      .catch((e: unknown) => e);
    expect((dup as client.ApiException<{ errors: string[] }>).code).toBe(400);
    expect((dup as client.ApiException<{ errors: string[] }>).body.errors[0]).toMatch(/already exists/);
    const bad = await call('POST', '/api/v1/integration/webhooks/configuration/webhooks', {
      name: 'bad name',
      url: 'ftp://x',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([
      expect.stringMatching(/^The value provided for parameter 'name' is invalid/),
      expect.stringMatching(
        /^The value provided for parameter 'url' is invalid: must be an http or https URL/,
      ),
    ]);
    const payload = await call('POST', '/api/v1/integration/webhooks/configuration/webhooks', {
      name: 'p',
      url: 'https://example.com',
      payload: '{"a": $EVENT_MSG',
      custom_headers: 'nope',
    });
    expect(payload.status).toBe(400);
    expect(payload.json.errors).toEqual([
      expect.stringMatching(/^Invalid webhook: payload must be JSON/),
      expect.stringMatching(/^Invalid webhook: custom_headers must be a JSON object/),
    ]);
  });
});

describe('webhook notifications end to end', () => {
  it('a FLOW_FAIL raises the monitor and its @webhook-ops receives the alert', async () => {
    await api.createWebhooksIntegration({
      body: {
        name: 'ops',
        url: `${rx.url}/alerts`,
        payload: JSON.stringify({
          title: '$EVENT_TITLE',
          transition: '$ALERT_TRANSITION',
          text: '$TEXT_ONLY_MSG',
          monitor: '$ALERT_ID',
          priority: '$ALERT_PRIORITY',
          scope: '$ALERT_SCOPE',
          samples: '$LOGS_SAMPLE',
        }),
        customHeaders: JSON.stringify({ 'X-Flowwatch-Test': 'yes' }),
      },
    });
    const id = await monitor(
      'Okta flow failures',
      '{{#is_alert}}{{@flow_name.name}} failed: "{{log.attributes.error.message}}"\nsee runbook @webhook-ops{{/is_alert}}',
      'Sync Users',
    );
    await flowFail('Sync Users');
    const [req] = await rx.waitFor(1);
    expect(req!.url).toBe('/alerts');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-flowwatch-test']).toBe('yes');
    expect(req!.headers['idempotency-key']).toMatch(/^\d+:@webhook-ops$/);
    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      transition: 'Triggered',
      monitor: String(id),
      priority: 'P2',
      scope: '@flow_name:Sync Users',
    });
    expect(body.text).toContain(
      'Sync Users failed: "Workday: 503 Service Unavailable"\nsee runbook @webhook-ops',
    );
    expect(JSON.parse(body.samples)[0].attributes.service).toBe('okta');
    const list = await call('GET', '/api/flowwatch/v1/notifications?state=delivered');
    expect(list.json.data[0]).toMatchObject({
      handle: '@webhook-ops',
      channel: 'webhook',
      state: 'delivered',
      attempts: 1,
    });
  });

  it('a notification rule on the monitor tags routes an alert without handles to its webhook', async () => {
    const routed = await startReceiver();
    try {
      await api.createWebhooksIntegration({ body: { name: 'routed', url: `${routed.url}/r` } });
      const rule = await call('POST', '/api/v2/monitor/notification_rule', {
        data: {
          type: 'monitor-notification-rule',
          attributes: {
            name: 'IAM routing',
            filter: { tags: ['team:routing'] },
            recipients: ['webhook-routed'],
          },
        },
      });
      expect(rule.status).toBe(200);
      const r = await call('POST', '/api/v1/monitor', {
        name: 'Routed failures',
        type: 'log alert',
        query:
          'logs("service:okta status:error @flow_name:\\"Routed Flow\\"").index("*").rollup("count").by("@flow_name").last("5m") > 0',
        message: 'Routed Flow failed (no handle here)',
        tags: ['team:routing'],
        options: { thresholds: { critical: 0 }, new_group_delay: 0, enable_logs_sample: true },
      });
      expect(r.status).toBe(200);
      await flowFail('Routed Flow');
      const [req] = await routed.waitFor(1);
      expect(JSON.parse(req!.body).title).toBe('[Triggered on {@flow_name:Routed Flow}] Routed failures');
    } finally {
      await routed.close();
    }
  });

  it('dead letters are listed, retried through the API, and never sent twice', async () => {
    const flaky = await startReceiver();
    flaky.otherwise = { status: 400, body: 'bad' };
    try {
      await api.createWebhooksIntegration({ body: { name: 'flaky', url: `${flaky.url}/in` } });
      await monitor('Payroll failures', 'Payroll failed @webhook-flaky @webhook-missing', 'Payroll Export');
      await flowFail('Payroll Export');
      const dead = await until(async () => {
        const r = await call('GET', '/api/flowwatch/v1/notifications?state=dead');
        const jobs = r.json.data as any[];
        return jobs.length >= 2 ? jobs : undefined;
      });
      const byHandle = Object.fromEntries(dead.map((j) => [j.handle, j]));
      expect(byHandle['@webhook-flaky']).toMatchObject({
        last_status: 400,
        last_reason: 'http_4xx',
        attempts: 1,
      });
      expect(byHandle['@webhook-missing']).toMatchObject({ last_reason: 'unknown_handle' });
      expect(byHandle['@webhook-missing'].last_error).toMatch(/no webhook named "missing"/);
      flaky.otherwise = { status: 200 };
      const jobId = byHandle['@webhook-flaky'].id;
      const retried = await call('POST', `/api/flowwatch/v1/notifications/${jobId}/retry`, {});
      expect(retried.status).toBe(200);
      expect(retried.json.data).toMatchObject({ id: jobId, state: 'pending', attempts: 0 });
      await until(async () => {
        const r = await call('GET', '/api/flowwatch/v1/notifications?state=delivered');
        return (r.json.data as any[]).some((j) => j.id === jobId) ? true : undefined;
      });
      expect(flaky.requests.map((r) => r.status)).toEqual([400, 200]);
      const again = await call('POST', `/api/flowwatch/v1/notifications/${jobId}/retry`, {});
      expect(again.status).toBe(409);
      expect((await call('POST', '/api/flowwatch/v1/notifications/999999/retry', {})).status).toBe(404);
      expect((await call('GET', '/api/flowwatch/v1/notifications?state=lost')).status).toBe(400);
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      expect(metrics).toMatch(
        /flowwatch_notify_deliveries_total\{channel="webhook",outcome="delivered"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /flowwatch_notify_dead_letters_total\{channel="webhook",reason="unknown_handle"\} 1/,
      );
    } finally {
      await flaky.close();
    }
  });

  it('a retry that would deliver an out-of-date state is refused unless forced; a held alert names its summary', async () => {
    // Jobs made directly in the database, already dispatched and not pending, so neither the dispatcher nor
    // the worker touches them before the retries: a dead trigger, then the group's recovery delivered.
    const db = (srv.store as unknown as { db: import('better-sqlite3').Database }).db;
    const now = Date.now();
    const event = (state: string) =>
      Number(
        db
          .prepare(
            'INSERT INTO monitor_events (monitor_id, group_key, at, body, delivered_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(990, 'flow:x', now, JSON.stringify({ state }), now).lastInsertRowid,
      );
    const job = (eventId: number, state: string, bundleId: number | null = null) =>
      Number(
        db
          .prepare(
            `INSERT INTO notification_jobs (idem_key, event_id, monitor_id, group_key, handle, channel, state,
               attempts, created_at, next_attempt_at, deadline_at, updated_at, queue_key, kind, bundle_id)
             VALUES (?, ?, 990, 'flow:x', '@webhook-stale', 'webhook', ?, 1, ?, ?, ?, ?, ?, 'alert', ?)`,
          )
          .run(
            `${eventId}:@webhook-stale`,
            eventId,
            state,
            now,
            now + 3_600_000,
            now + 3_600_000,
            now,
            queueKey({ handle: '@webhook-stale', monitor_id: 990, group_key: 'flow:x' }),
            bundleId,
          ).lastInsertRowid,
      );
    const trigger = job(event('Alert'), 'dead');
    const recovery = job(event('OK'), 'delivered');

    const refused = await call('POST', `/api/flowwatch/v1/notifications/${trigger}/retry`, {});
    expect(refused.status).toBe(409);
    expect(refused.json.errors[0]).toBe(
      `Notification ${trigger} is out of date: @webhook-stale got a later state of the same group in notification ${recovery}, and sending ${trigger} now could re-open what that one resolved; add force=true to send it anyway`,
    );
    expect((await call('GET', `/api/flowwatch/v1/notifications?monitor_id=990`)).json.data[1]).toMatchObject({
      id: trigger,
      state: 'dead',
    });
    const bad = await call('POST', `/api/flowwatch/v1/notifications/${trigger}/retry?force=yes`, {});
    expect(bad.status).toBe(400);
    const forced = await call('POST', `/api/flowwatch/v1/notifications/${trigger}/retry?force=true`, {});
    expect(forced.status).toBe(200);
    expect(forced.json.data).toMatchObject({ id: trigger, state: 'pending', attempts: 0 });

    const held = job(event('Alert'), 'dead', recovery);
    const heldRetry = await call('POST', `/api/flowwatch/v1/notifications/${held}/retry`, {});
    expect(heldRetry.status).toBe(409);
    expect(heldRetry.json.errors[0]).toBe(
      `Notification ${held} is held in a bundle: it is sent with summary ${recovery}; retry that one`,
    );
    // Other tests count dead letters: these rows go.
    db.prepare('DELETE FROM notification_jobs WHERE monitor_id = 990').run();
    db.prepare('DELETE FROM monitor_events WHERE monitor_id = 990').run();
  });
});
