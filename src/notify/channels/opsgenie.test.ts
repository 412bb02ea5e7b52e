// The Opsgenie channel against a local fake of the Alert API that checks §7.5: create with GenieKey auth,
// message ≤ 130, alias stable for one monitor-group cycle, priority from the monitor, close by alias on
// recovery; 202 delivered, 429 with Retry-After, 5xx retried, 4xx not; the key never in a result or a log.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, opsgenieProblems, startOpsgenieFake } from '../../../test/helpers/chat-fakes.ts';
import { AT, sampleEvent } from '../../../test/helpers/notify.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { Delivery } from '../channel.ts';
import {
  emptyNotificationsConfig,
  loadNotificationsConfig,
  type NotificationsConfig,
  OPSGENIE_URLS,
} from '../config.ts';
import { Notifier } from '../notifier.ts';
import { buildOpsgenieRequest, createOpsgenieChannel, opsgeniePriority } from './opsgenie.ts';
import { buildPagerDutyEvent } from './pagerduty.ts';

const KEY = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
let fake: Fake;
let config: NotificationsConfig;
beforeAll(async () => {
  fake = await startOpsgenieFake(KEY);
  config = emptyNotificationsConfig();
  config.opsgenie.set('okta', { name: 'okta', apiKey: KEY, region: 'custom', url: fake.url });
});
afterAll(() => fake.close());

const delivery = (handle: string, over: Record<string, unknown> = {}): Delivery => ({
  handle,
  event: sampleEvent(over),
  idempotencyKey: `42:@${handle}`,
  signal: new AbortController().signal,
});
const create = { path: '/v2/alerts', headers: { authorization: `GenieKey ${KEY}` } };

describe('Opsgenie requests', () => {
  it('an alert creates with the documented fields (§7.5)', () => {
    const r = buildOpsgenieRequest(sampleEvent()) as any;
    expect(r.path).toBe('/v2/alerts');
    expect(opsgenieProblems(r.body, create, KEY)).toEqual([]);
    expect(r.body).toMatchObject({
      message: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      source: 'Flowwatch',
      priority: 'P2',
      entity: '@flow_name:Sync Users',
      tags: ['team:iam', 'env:production', 'flow_name:Sync Users'],
    });
    expect(r.body.alias).toMatch(/^[0-9a-f]{32}$/);
    expect(r.body.details).toMatchObject({
      monitor_id: '7',
      monitor: 'Okta flow failures',
      state: 'Alert',
      value: '3',
      threshold: '> 0',
      group: '@flow_name:Sync Users',
      monitor_link: 'https://flowwatch.example.com/monitors/7',
      log_link: 'https://flowwatch.example.com/logs?query=service%3Aokta',
    });
    expect(r.body.description).toContain('Sync Users failed: "Workday" said');
    expect(r.body.description).toContain('Sample log: Flow failed: Sync Users');
    expect(r.body.description).toContain('Monitor: https://flowwatch.example.com/monitors/7');
  });

  it('the alias is the cycle key (PagerDuty dedup_key): renotify and warn keep it, recovery closes it', () => {
    const first = buildOpsgenieRequest(sampleEvent()).body.alias as string;
    expect(first).toBe(buildPagerDutyEvent(sampleEvent(), 'k').dedup_key);
    expect(buildOpsgenieRequest(sampleEvent({ transition: 'Re-Triggered' })).body.alias).toBe(first);
    expect(buildOpsgenieRequest(sampleEvent({ to: 'Warn', transition: 'Warn' })).body.alias).toBe(first);
    const close = buildOpsgenieRequest({
      ...sampleEvent({ to: 'OK', from: 'Alert', transition: 'Recovered' }),
      id: 43,
      at: AT + 60_000,
    });
    expect(close).toEqual({
      path: `/v2/alerts/${first}/close?identifierType=alias`,
      body: {
        source: 'Flowwatch',
        user: 'Flowwatch',
        note: 'Recovered: [P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      },
    });
    expect(opsgenieProblems(close.body, { ...create, path: close.path }, KEY)).toEqual([]);
    const next = buildOpsgenieRequest(sampleEvent({ first_triggered_at: AT + 600_000 })).body.alias;
    expect(next).not.toBe(first);
  });

  it('keeps to the limits: message 130, description 15000, 20 tags of ≤ 50, details ≤ 8000; P3 by default', () => {
    const r = buildOpsgenieRequest(
      sampleEvent({
        title: 't'.repeat(500),
        message: 'm'.repeat(40_000),
        monitor: {
          id: 7,
          name: 'n',
          priority: null,
          tags: Array.from({ length: 30 }, (_, i) => `tag${i}:${'v'.repeat(80)}`),
          query: `logs("${'q'.repeat(5000)}").index("*").rollup("count").last("5m") > 0`,
        },
      }),
    ).body as any;
    expect(r.message.length).toBe(130);
    expect(r.description.length).toBe(15_000);
    expect(r.tags.length).toBe(20);
    expect(r.priority).toBe('P3');
    expect(opsgenieProblems(r, create, KEY)).toEqual([]);
    expect(opsgeniePriority(1)).toBe('P1');
    expect(opsgeniePriority(5)).toBe('P5');
    expect(opsgeniePriority(9)).toBe('P3');
    // The fake's check is real: a wrong key, an empty message, a bad priority are refused.
    expect(
      opsgenieProblems({ message: '', priority: 'P9' }, { path: '/v2/alerts', headers: {} }, KEY),
    ).toEqual([
      'Authorization: GenieKey <key> is required',
      'message is required and can not be empty',
      'priority must be P1..P5',
    ]);
  });
});

describe('Opsgenie configuration', () => {
  const load = (yaml: string, env: Record<string, string> = {}) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fw-og-')), 'flowwatch.yaml');
    writeFileSync(file, `notifications:\n  opsgenie:\n    services:\n${yaml}`);
    try {
      return loadNotificationsConfig(file, env).opsgenie;
    } catch (err) {
      return (err as Error).message.replace(/^.*flowwatch\.yaml/, '');
    }
  };

  it(`api_key from \${env:…}, region us (default), eu or custom with custom_url`, () => {
    const got = load(
      [
        `      okta:\n        api_key: \${env:OG_KEY}`,
        `      iam:\n        api_key: \${env:OG_KEY}\n        region: eu`,
        '      lab:\n        api_key: k1\n        region: custom\n        custom_url: http://127.0.0.1:9/og',
        '',
      ].join('\n'),
      { OG_KEY: KEY },
    );
    expect(got).toEqual(
      new Map([
        ['okta', { name: 'okta', apiKey: KEY, region: 'us', url: OPSGENIE_URLS.us }],
        ['iam', { name: 'iam', apiKey: KEY, region: 'eu', url: 'https://api.eu.opsgenie.com' }],
        ['lab', { name: 'lab', apiKey: 'k1', region: 'custom', url: 'http://127.0.0.1:9/og' }],
      ]),
    );
  });

  it('errors carry file:line and never the key', () => {
    expect(load('      okta:\n        api_key: "sec ret"\n')).toBe(
      ':5:18: notifications.opsgenie.services.okta.api_key: an API key holds printable characters without spaces',
    );
    expect(load('      okta:\n        api_key: k\n        region: custom\n')).toMatch(
      /^:5:9: notifications\.opsgenie\.services\.okta\.custom_url: custom_url is required with region: custom/,
    );
    expect(load('      okta:\n        api_key: k\n        region: mars\n')).toMatch(/^:6:17: .*region/);
    expect(load('      okta:\n        apikey: secretvalue\n')).toBe(
      ':5:9: notifications.opsgenie.services.okta.api_key: an API key (api_key) is required',
    );
    expect(load('      okta:\n        api_key: k\n        apikey: secretvalue\n')).toMatch(
      /^:6:17: .*Unrecognized key.*apikey/,
    );
    expect(load(`      okta:\n        api_key: \${env:MISSING}\n`)).toMatch(/MISSING is not set/);
  });
});

describe('Opsgenie channel', () => {
  const channel = () => createOpsgenieChannel({ config: () => config });

  it('creates with Authorization: GenieKey, then closes by alias; 202 is delivered', async () => {
    const before = fake.received.length;
    expect(await channel().send(delivery('opsgenie-OKTA'))).toEqual({ ok: true, status: 202 });
    expect(
      await channel().send({
        ...delivery('opsgenie-okta', { to: 'OK', transition: 'Recovered' }),
        event: { ...sampleEvent({ to: 'OK', transition: 'Recovered' }), id: 43 },
      }),
    ).toEqual({ ok: true, status: 202 });
    expect(fake.rejected).toEqual([]);
    const [created, closed] = fake.received.slice(before);
    expect(created!.path).toBe('/v2/alerts');
    expect(created!.headers.authorization).toBe(`GenieKey ${KEY}`);
    expect(closed!.path).toBe(`/v2/alerts/${created!.body.alias}/close?identifierType=alias`);
  });

  it('429 honours Retry-After, 5xx is retried, 4xx and unknown services are not; no key in results', async () => {
    const results = [];
    fake.failNext.push({ status: 429, headers: { 'retry-after': '30' } });
    const limited = await channel().send(delivery('opsgenie-okta'));
    expect(limited).toMatchObject({
      ok: false,
      retryable: true,
      reason: 'rate_limited',
      retryAfterMs: 30_000,
    });
    for (const status of [500, 503]) {
      fake.failNext.push(status);
      const r = await channel().send(delivery('opsgenie-okta'));
      expect(r).toMatchObject({ ok: false, retryable: true, reason: 'http_5xx', status });
      results.push(r);
    }
    // A wrong key: the fake answers 401 as Opsgenie does; not retried.
    const wrong = emptyNotificationsConfig();
    wrong.opsgenie.set('okta', { name: 'okta', apiKey: 'wrong-key-123', region: 'custom', url: fake.url });
    const denied = await createOpsgenieChannel({ config: () => wrong }).send(delivery('opsgenie-okta'));
    expect(denied).toMatchObject({ ok: false, retryable: false, reason: 'http_4xx', status: 401 });
    fake.failNext.push(422);
    const invalid = await channel().send(delivery('opsgenie-okta'));
    expect(invalid).toMatchObject({ ok: false, retryable: false, reason: 'http_4xx', status: 422 });
    const unknown = await channel().send(delivery('opsgenie-hr'));
    expect(unknown).toMatchObject({ ok: false, retryable: false, reason: 'unknown_handle' });
    results.push(limited, denied, invalid, unknown);
    expect(JSON.stringify(results)).not.toMatch(/0f1e2d3c|wrong-key/);
    expect(!invalid.ok && invalid.detail).toBe(
      `Opsgenie service "okta" (POST ${fake.url}/v2/alerts) answered 422`,
    );
  });
});

describe('Opsgenie through the outbox', () => {
  it('a failing delivery is retried and then delivered; nothing logged or recorded holds the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-og-outbox-'));
    const store = new SqliteStore({ dataDir: dir });
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(s) });
    const n = new Notifier({
      store: store.notifications,
      logger,
      retry: { baseMs: 10, maxMs: 20 },
      deadLetterAfterMs: 60_000,
      channelConfig: () => config,
    });
    try {
      const e = sampleEvent({ handles: ['@opsgenie-okta'] });
      const before = fake.received.length;
      fake.failNext.push(500, { status: 429, headers: { 'retry-after': '0' } });
      await store.saveMonitorProgress([], [{ monitor_id: 7, group_key: e.group_key, at: AT, body: e.body }]);
      n.start();
      await fake.waitFor(before + 1);
      const [job] = await store.notifications.listJobs({ limit: 1 });
      for (let i = 0; i < 100 && (await store.notifications.getJob(job!.id))?.state !== 'delivered'; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await store.notifications.getJob(job!.id)).toMatchObject({
        channel: 'opsgenie',
        state: 'delivered',
        attempts: 3,
      });
      expect(lines.some((l) => l.includes('will retry'))).toBe(true);
      expect(lines.join('')).not.toContain(KEY);
      expect(JSON.stringify(await store.notifications.listJobs({ limit: 10 }))).not.toContain(KEY);
    } finally {
      await n.stop(0);
      await store.close();
    }
  });
});
