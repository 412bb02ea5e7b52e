// The webhook payload builder: Datadog's default payload, $VARIABLES escaped inside JSON strings and typed
// outside them, form encoding, custom headers, basic auth from the URL, and save-time checks.
import { describe, expect, it } from 'vitest';
import { AT, sampleEvent } from '../../../test/helpers/notify.ts';
import type { WebhookRecord } from '../../store/notifications.ts';
import { buildWebhookRequest, checkWebhook, maskUrl, renderTemplate } from './webhook.ts';

function hook(over: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    name: 'ops',
    url: 'https://hooks.example.com/in?token=abc',
    payload: null,
    custom_headers: null,
    encode_as: 'json',
    created_at: 0,
    modified_at: 0,
    ...over,
  };
}

describe('webhook payloads', () => {
  it("sends Datadog's default payload when none is given", () => {
    const r = buildWebhookRequest(hook(), sampleEvent(), '42:@webhook-ops');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['idempotency-key']).toBe('42:@webhook-ops');
    const body = JSON.parse(r.body);
    expect(Object.keys(body)).toEqual(['body', 'last_updated', 'event_type', 'title', 'date', 'org', 'id']);
    expect(body).toMatchObject({
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      date: String(AT),
      last_updated: String(AT),
      event_type: 'log_alert_monitor',
      id: '42',
      org: { id: '0', name: 'Flowwatch' },
    });
    expect(body.body).toMatch(
      /^%%%\nSync Users failed: "Workday" said\n503 \\ Service Unavailable @webhook-ops\n/,
    );
    expect(body.body).toContain('[[Monitor Status](https://flowwatch.example.com/monitors/7)]');
    expect(body.body).toMatch(/\n%%%$/);
  });

  it('escapes quotes, backslashes and newlines inside strings, so the payload stays JSON', () => {
    const payload =
      '{"text": "$ALERT_TRANSITION: $EVENT_TITLE", "msg": "$TEXT_ONLY_MSG", "p": "$ALERT_PRIORITY"}';
    const e = sampleEvent({ title: 'He said "stop"\nnow' });
    const body = JSON.parse(buildWebhookRequest(hook({ payload }), e, 'k').body);
    expect(body.text).toBe('Triggered: He said "stop"\nnow');
    expect(body.msg).toContain('Sync Users failed: "Workday" said\n503 \\ Service Unavailable');
    expect(body.p).toBe('P2');
  });

  it('puts numbers and JSON values bare outside strings, and text quoted', () => {
    const payload =
      '{"id": $ALERT_ID, "date": $DATE_POSIX, "samples": $LOGS_SAMPLE, "scope": $ALERT_SCOPE, "env": "$TAGS[env]"}';
    const body = JSON.parse(buildWebhookRequest(hook({ payload }), sampleEvent(), 'k').body);
    expect(body.id).toBe(7);
    expect(body.date).toBe(AT / 1000);
    expect(body.samples).toEqual([
      expect.objectContaining({ attributes: expect.objectContaining({ host: 'acme.workflows.okta.com' }) }),
    ]);
    expect(body.scope).toBe('@flow_name:Sync Users');
    expect(body.env).toBe('production');
  });

  it('fills the alert variables of a log monitor', () => {
    const payload = JSON.stringify({
      status: '$ALERT_STATUS',
      query: '$ALERT_QUERY',
      metric: '$ALERT_METRIC',
      type: '$ALERT_TYPE',
      host: '$HOSTNAME',
      link: '$LINK',
      tags: '$TAGS',
      cycle: '$ALERT_CYCLE_KEY',
      unknown: '$NOT_A_VARIABLE',
    });
    const body = JSON.parse(buildWebhookRequest(hook({ payload }), sampleEvent(), 'k').body);
    expect(body).toMatchObject({
      status:
        'count of logs("service:okta status:error") over @flow_name:Sync Users was > 0 during the last 5m (value: 3)',
      query: expect.stringContaining('logs("service:okta status:error")'),
      metric: 'count',
      type: 'error',
      host: 'acme.workflows.okta.com',
      link: 'https://flowwatch.example.com/monitors/7',
      tags: 'team:iam,env:production,flow_name:Sync Users',
      unknown: '$NOT_A_VARIABLE',
    });
    const recovered = sampleEvent({ transition: 'Recovered', from: 'Alert', to: 'OK' });
    const again = JSON.parse(buildWebhookRequest(hook({ payload }), recovered, 'k').body);
    expect(again.cycle).toBe(body.cycle);
    expect(again.type).toBe('success');
  });

  it('leaves log samples out of recoveries', () => {
    const e = sampleEvent({ transition: 'Recovered', to: 'OK' });
    const body = JSON.parse(buildWebhookRequest(hook({ payload: '{"s": $LOGS_SAMPLE}' }), e, 'k').body);
    expect(body.s).toEqual([]);
  });

  it('form-encodes the rendered JSON object when encode_as is form', () => {
    const payload = '{"title": "$EVENT_TITLE", "n": $ALERT_ID, "obj": {"a": 1}}';
    const r = buildWebhookRequest(hook({ payload, encode_as: 'form' }), sampleEvent(), 'k');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(r.body);
    expect(form.get('title')).toBe('[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures');
    expect(form.get('n')).toBe('7');
    expect(form.get('obj')).toBe('{"a":1}');
  });

  it('adds custom headers (overriding ours) and basic auth from the URL', () => {
    const r = buildWebhookRequest(
      hook({
        url: 'https://bot:s%40cret@hooks.example.com/in',
        custom_headers: '{"X-Team": "iam", "Content-Type": "application/vnd.ops+json"}',
      }),
      sampleEvent(),
      'k',
    );
    expect(r.url).toBe('https://hooks.example.com/in');
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('bot:s@cret').toString('base64')}`);
    expect(r.headers['X-Team']).toBe('iam');
    expect(r.headers['Content-Type']).toBe('application/vnd.ops+json');
    expect(r.headers['content-type']).toBeUndefined();
  });

  it('masks the password of a URL', () => {
    expect(maskUrl('https://bot:secret@hooks.example.com/in?x=1')).toBe(
      'https://bot:********@hooks.example.com/in?x=1',
    );
    expect(maskUrl('https://hooks.example.com/in')).toBe('https://hooks.example.com/in');
  });

  it('checks templates and headers at save time', () => {
    expect(
      checkWebhook({ payload: '{"a": "$EVENT_MSG", "b": $ALERT_ID}', custom_headers: '{"A": "b"}' }),
    ).toEqual([]);
    expect(checkWebhook({ payload: '{"a": $EVENT_MSG', custom_headers: null })[0]).toMatch(
      /^payload must be JSON/,
    );
    expect(checkWebhook({ payload: null, custom_headers: '["x"]' })[0]).toMatch(
      /custom_headers must be a JSON object/,
    );
    expect(checkWebhook({ payload: null, custom_headers: '{"bad name": "x"}' })[0]).toMatch(
      /invalid header name/,
    );
  });

  it('substitutes the longest variable name and keeps escapes of the template', () => {
    expect(renderTemplate('"$DATE_POSIX $DATE \\"$ID\\""', { DATE: '1000', DATE_POSIX: '1', ID: '9' })).toBe(
      '"1 1000 \\"9\\""',
    );
  });
});
