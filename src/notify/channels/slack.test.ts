// The Slack channel against a local fake of an incoming webhook that checks §7.2: Block Kit with a text
// fallback, colour by state, escaped mrkdwn, links, the sample on alerts only; unknown channels and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, slackProblems, startSlackFake } from '../../../test/helpers/chat-fakes.ts';
import { sampleEvent } from '../../../test/helpers/notify.ts';
import type { Delivery } from '../channel.ts';
import { emptyNotificationsConfig, type NotificationsConfig } from '../config.ts';
import { buildSlackPayload, createSlackChannel, SLACK_COLORS, slackEscape, toMrkdwn } from './slack.ts';

let fake: Fake;
let config: NotificationsConfig;
beforeAll(async () => {
  fake = await startSlackFake();
  config = emptyNotificationsConfig();
  config.slack.set('okta-alerts', { name: 'okta-alerts', url: `${fake.url}/services/T1/B2/sEcReT` });
});
afterAll(() => fake.close());

const delivery = (handle: string, over: Record<string, unknown> = {}): Delivery => ({
  handle,
  event: sampleEvent(over),
  idempotencyKey: `42:@${handle}`,
  signal: new AbortController().signal,
});

describe('Slack payload', () => {
  it('display options of the Slack integration API: message: false and tags: false leave them out', () => {
    const e = sampleEvent({ message: 'Sync Users failed badly' });
    const full = JSON.stringify(buildSlackPayload(e));
    expect(full).toContain('Sync Users failed badly');
    expect(full).toContain('team:iam');
    const bare = buildSlackPayload(e, { message: false, tags: false }) as any;
    expect(slackProblems(bare)).toEqual([]);
    expect(JSON.stringify(bare)).not.toContain('Sync Users failed badly');
    expect(JSON.stringify(bare)).not.toContain('team:iam');
    expect(bare.text).toBe(JSON.parse(full).text);
  });

  it('follows §7.2: text fallback, header, escaped message, fields, colour, links, sample', () => {
    const p = buildSlackPayload(
      sampleEvent({
        message: 'Sync <Users> & **Workday** see [runbook](https://wiki.example.com/a?b=1&c=2)',
      }),
    ) as any;
    expect(slackProblems(p)).toEqual([]);
    expect(p.text).toBe('[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures');
    expect(p.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 Triggered: Okta flow failures', emoji: true },
    });
    expect(p.blocks[1].text).toEqual({
      type: 'mrkdwn',
      text: 'Sync &lt;Users&gt; &amp; *Workday* see <https://wiki.example.com/a?b=1&amp;c=2|runbook>',
    });
    const att = p.attachments[0];
    expect(att.color).toBe(SLACK_COLORS.Alert);
    const fields = att.blocks[0].fields.map((f: any) => f.text);
    expect(fields).toEqual([
      '*Value*\n3',
      '*Threshold*\n&gt; 0',
      '*Group*\n@flow_name:Sync Users',
      '*Priority*\nP2',
    ]);
    const json = JSON.stringify(att.blocks);
    expect(json).toContain('*Sample log*');
    expect(json).toContain('Flow failed: Sync Users');
    expect(json).toContain('<https://flowwatch.example.com/monitors/7|Monitor>');
    expect(json).toContain('<https://flowwatch.example.com/logs?query=service%3Aokta|Related logs>');
    const actions = att.blocks.find((b: any) => b.type === 'actions');
    expect(actions.elements.map((e: any) => e.url)).toEqual([
      'https://flowwatch.example.com/monitors/7',
      'https://flowwatch.example.com/logs?query=service%3Aokta',
    ]);
  });

  it('colours by state and leaves the sample out of recoveries', () => {
    const color = (to: string) => (buildSlackPayload(sampleEvent({ to })) as any).attachments[0].color;
    expect([color('Alert'), color('Warn'), color('No Data'), color('OK')]).toEqual([
      '#D52B1E',
      '#F28C28',
      '#9E9E9E',
      '#2EB67D',
    ]);
    const rec = buildSlackPayload(
      sampleEvent({ to: 'OK', from: 'Alert', transition: 'Recovered', title: '[Recovered] x' }),
    ) as any;
    expect(slackProblems(rec)).toEqual([]);
    expect(rec.blocks[0].text.text).toBe('🟢 Recovered: Okta flow failures');
    expect(JSON.stringify(rec)).not.toContain('Sample log');
  });

  it('escapes only & < > and keeps long text within Block Kit limits', () => {
    expect(slackEscape('a & b < c > d "e"')).toBe('a &amp; b &lt; c &gt; d "e"');
    expect(toMrkdwn('**x** [l](http://h/p)')).toBe('*x* <http://h/p|l>');
    const p = buildSlackPayload(
      sampleEvent({ message: 'x'.repeat(5000), monitor: { id: 7, name: 'n'.repeat(400) } }),
    );
    expect(slackProblems(p)).toEqual([]);
  });
});

describe('Slack channel', () => {
  const channel = () => createSlackChannel({ config: () => config });

  it('posts to the channel’s incoming webhook; the fake accepts it (200 ok)', async () => {
    const r = await channel().send(delivery('slack-OKTA-alerts'));
    expect(r).toEqual({ ok: true, status: 200 });
    const got = fake.received.at(-1)!;
    expect(got.path).toBe('/services/T1/B2/sEcReT');
    expect(got.body.text).toContain('Okta flow failures');
    expect(fake.rejected).toEqual([]);
  });

  it('an unknown channel is unknown_handle; errors never show the URL path (the secret)', async () => {
    const unknown = await channel().send(delivery('slack-nope'));
    expect(unknown).toMatchObject({ ok: false, retryable: false, reason: 'unknown_handle' });
    fake.failNext.push(500);
    const r = await channel().send(delivery('slack-okta-alerts'));
    expect(r).toMatchObject({ ok: false, retryable: true, reason: 'http_5xx' });
    expect(JSON.stringify(r)).not.toContain('sEcReT');
    fake.failNext.push(429);
    expect(await channel().send(delivery('slack-okta-alerts'))).toMatchObject({
      retryable: true,
      reason: 'rate_limited',
      retryAfterMs: 0,
    });
    fake.failNext.push(404);
    expect(await channel().send(delivery('slack-okta-alerts'))).toMatchObject({
      retryable: false,
      reason: 'http_4xx',
    });
  });
});
