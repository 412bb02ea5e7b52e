// The PagerDuty channel against a local fake of the Events API v2 that checks §7.3: trigger on Alert, Warn
// and No Data with a dedup_key stable for the cycle, resolve on recovery, severity, 202/400/429/5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, pagerDutyProblems, startPagerDutyFake } from '../../../test/helpers/chat-fakes.ts';
import { AT, sampleEvent } from '../../../test/helpers/notify.ts';
import type { Delivery } from '../channel.ts';
import { emptyNotificationsConfig, type NotificationsConfig } from '../config.ts';
import { buildPagerDutyEvent, createPagerDutyChannel, enqueueUrl, pagerDutySeverity } from './pagerduty.ts';

const KEY = 'R0UT1NGKEY0123456789abcdef012345';
let fake: Fake;
let config: NotificationsConfig;
beforeAll(async () => {
  fake = await startPagerDutyFake();
  config = emptyNotificationsConfig();
  config.pagerduty.url = fake.url;
  config.pagerduty.services.set('okta', { name: 'okta', routingKey: KEY });
});
afterAll(() => fake.close());

const delivery = (handle: string, over: Record<string, unknown> = {}): Delivery => ({
  handle,
  event: sampleEvent(over),
  idempotencyKey: `42:@${handle}`,
  signal: new AbortController().signal,
});

describe('PagerDuty events', () => {
  it('triggers on an alert with the documented fields (§7.3)', () => {
    const e = buildPagerDutyEvent(sampleEvent(), KEY) as any;
    expect(pagerDutyProblems(e)).toEqual([]);
    expect(e).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      client: 'Flowwatch',
      client_url: 'https://flowwatch.example.com/monitors/7',
      links: [
        { href: 'https://flowwatch.example.com/monitors/7', text: 'Monitor' },
        { href: 'https://flowwatch.example.com/logs?query=service%3Aokta', text: 'Related logs' },
      ],
    });
    expect(e.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    expect(e.payload).toMatchObject({
      summary: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      source: 'acme.workflows.okta.com',
      severity: 'error',
      timestamp: new Date(AT).toISOString(),
      component: 'okta',
      group: '@flow_name:Sync Users',
      class: 'log alert',
    });
    expect(e.payload.custom_details).toMatchObject({
      monitor_id: 7,
      value: 3,
      threshold: '> 0',
      group: { '@flow_name': 'Sync Users' },
      log_link: 'https://flowwatch.example.com/logs?query=service%3Aokta',
      priority: 'P2',
    });
    expect(e.payload.custom_details.message).toContain('Sync Users failed');
  });

  it('resolves on recovery with the dedup_key of the trigger; a new episode gets a new key', () => {
    const trigger = buildPagerDutyEvent(sampleEvent(), KEY) as any;
    const renotify = buildPagerDutyEvent(sampleEvent({ transition: 'Re-Triggered' }), KEY) as any;
    const warn = buildPagerDutyEvent(sampleEvent({ to: 'Warn', transition: 'Warn' }), KEY) as any;
    const resolve = buildPagerDutyEvent(
      { ...sampleEvent({ to: 'OK', from: 'Alert', transition: 'Recovered' }), id: 43, at: AT + 60_000 },
      KEY,
    ) as any;
    expect(resolve).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: trigger.dedup_key });
    expect(pagerDutyProblems(resolve)).toEqual([]);
    expect(renotify.dedup_key).toBe(trigger.dedup_key);
    expect(warn).toMatchObject({ event_action: 'trigger', dedup_key: trigger.dedup_key });
    const next = buildPagerDutyEvent(sampleEvent({ first_triggered_at: AT + 600_000 }), KEY) as any;
    expect(next.dedup_key).not.toBe(trigger.dedup_key);
  });

  it('severity from state and priority; summary ≤ 1024; base URL or full URL', () => {
    expect(pagerDutySeverity('Alert', 1)).toBe('critical');
    expect(pagerDutySeverity('Alert', 2)).toBe('error');
    expect(pagerDutySeverity('Alert', null)).toBe('error');
    expect(pagerDutySeverity('Alert', 5)).toBe('warning');
    expect(pagerDutySeverity('No Data', 3)).toBe('error');
    expect(pagerDutySeverity('No Data', 1)).toBe('error');
    expect(pagerDutySeverity('Warn', 1)).toBe('warning');
    expect(pagerDutySeverity('Warn', 4)).toBe('info');
    const long = buildPagerDutyEvent(sampleEvent({ title: 't'.repeat(3000) }), KEY) as any;
    expect(long.payload.summary.length).toBe(1024);
    expect(enqueueUrl('https://events.eu.pagerduty.com')).toBe('https://events.eu.pagerduty.com/v2/enqueue');
    expect(enqueueUrl('https://events.pagerduty.com/v2/enqueue')).toBe(
      'https://events.pagerduty.com/v2/enqueue',
    );
  });
});

describe('PagerDuty channel', () => {
  const channel = () => createPagerDutyChannel({ config: () => config });

  it('POSTs to /v2/enqueue; 202 is delivered', async () => {
    expect(await channel().send(delivery('pagerduty-okta'))).toEqual({ ok: true, status: 202 });
    const got = fake.received.at(-1)!;
    expect(got.path).toBe('/v2/enqueue');
    expect(got.body).toMatchObject({ routing_key: KEY, event_action: 'trigger' });
    expect(fake.rejected).toEqual([]);
  });

  it('400 is not retried, 429 and 5xx are; unknown service is unknown_handle; no key in details', async () => {
    expect(await channel().send(delivery('pagerduty-hr'))).toMatchObject({
      ok: false,
      retryable: false,
      reason: 'unknown_handle',
    });
    fake.failNext.push(400);
    const bad = await channel().send(delivery('pagerduty-okta'));
    expect(bad).toMatchObject({ ok: false, retryable: false, reason: 'http_4xx', status: 400 });
    expect(JSON.stringify(bad)).not.toContain(KEY);
    fake.failNext.push(429);
    expect(await channel().send(delivery('pagerduty-okta'))).toMatchObject({
      retryable: true,
      reason: 'rate_limited',
    });
    fake.failNext.push(503);
    expect(await channel().send(delivery('pagerduty-okta'))).toMatchObject({
      retryable: true,
      reason: 'http_5xx',
    });
  });
});
