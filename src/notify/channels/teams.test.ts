// The Teams channel against a local fake of a Workflows webhook that checks §7.4: a `message` with one
// adaptive card 1.4 (title, message, FactSet, Action.OpenUrl links, style by state), under 28 KB however long
// the message; 202 delivered, 429 with Retry-After, 5xx retried, 4xx not, no secret in any result.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, startTeamsFake, teamsProblems } from '../../../test/helpers/chat-fakes.ts';
import { sampleEvent } from '../../../test/helpers/notify.ts';
import type { Delivery } from '../channel.ts';
import { emptyNotificationsConfig, loadNotificationsConfig, type NotificationsConfig } from '../config.ts';
import { buildTeamsPayload, createTeamsChannel, TEAMS_MAX_BYTES, TEAMS_STYLES } from './teams.ts';

const SIG = 'sig=SeCrEtSiGnAtUrE0123';
let fake: Fake;
let config: NotificationsConfig;
beforeAll(async () => {
  fake = await startTeamsFake();
  config = emptyNotificationsConfig();
  config.teams.set('okta-ops', {
    name: 'okta-ops',
    url: `${fake.url}/workflows/abc/triggers/manual/paths/invoke?api-version=1&${SIG}`,
  });
});
afterAll(() => fake.close());

const delivery = (handle: string, over: Record<string, unknown> = {}): Delivery => ({
  handle,
  event: sampleEvent(over),
  idempotencyKey: `42:@${handle}`,
  signal: new AbortController().signal,
});

const card = (p: any) => p.attachments[0].content;

describe('Teams payload', () => {
  it('follows §7.4: a message with one adaptive card 1.4, title, message, facts and links', () => {
    const p = buildTeamsPayload(sampleEvent()) as any;
    expect(teamsProblems(p)).toEqual([]);
    // The fake's check is real: a MessageCard-era body or a 1.5 card with an empty TextBlock is refused.
    expect(teamsProblems({ '@type': 'MessageCard', text: 'x' })).toEqual([
      'type must be "message"',
      'one attachment expected',
    ]);
    const bad = structuredClone(p);
    bad.attachments[0].content.version = '1.5';
    bad.attachments[0].content.body.push({ type: 'TextBlock', text: '' }, { type: 'Input.Text' });
    expect(teamsProblems(bad)).toEqual([
      'content.version must be 1.0–1.4 (Teams)',
      'content.body[5]: TextBlock needs text',
      'content.body[6]: unknown element Input.Text',
    ]);
    expect(p.type).toBe('message');
    expect(p.attachments[0]).toMatchObject({
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
    });
    const c = card(p);
    expect(c).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(c.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    expect(c.body[0].items[0]).toMatchObject({
      type: 'TextBlock',
      size: 'Large',
      weight: 'Bolder',
      text: '🔴 [P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
    });
    expect(c.body[1].text).toContain('Sync Users failed: "Workday" said');
    expect(c.body[2]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Value', value: '3' },
        { title: 'Threshold', value: '> 0' },
        { title: 'Group', value: '@flow_name:Sync Users' },
        { title: 'Monitor state', value: 'Alert (Triggered)' },
        { title: 'Priority', value: 'P2' },
      ],
    });
    expect(JSON.stringify(c.body)).toContain('Flow failed: Sync Users');
    expect(c.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open monitor', url: 'https://flowwatch.example.com/monitors/7' },
      {
        type: 'Action.OpenUrl',
        title: 'View logs',
        url: 'https://flowwatch.example.com/logs?query=service%3Aokta',
      },
    ]);
  });

  it('style by state; no sample on recoveries; no data shown as such', () => {
    const style = (over: Record<string, unknown>) => card(buildTeamsPayload(sampleEvent(over))).body[0].style;
    expect(style({ to: 'Warn', transition: 'Warn', thresholds: { critical: 5, warning: 0 } })).toBe(
      'warning',
    );
    expect(style({ to: 'No Data', transition: 'No Data' })).toBe('emphasis');
    expect(style({ to: 'OK', from: 'Alert', transition: 'Recovered' })).toBe(TEAMS_STYLES.OK);
    const ok = buildTeamsPayload(sampleEvent({ to: 'OK', transition: 'Recovered', value: null })) as any;
    expect(teamsProblems(ok)).toEqual([]);
    expect(JSON.stringify(ok)).not.toContain('Sample log');
    expect(card(ok).body[0].items[0].text.startsWith('🟢')).toBe(true);
    expect(card(ok).body.find((b: any) => b.type === 'FactSet').facts[0]).toEqual({
      title: 'Value',
      value: 'no data',
    });
  });

  it('a huge message is cut so the card stays under 28 KB, with a note', () => {
    const message = `${'é long failure text with "quotes" and \\ '.repeat(3000)}END`;
    const p = buildTeamsPayload(sampleEvent({ message })) as any;
    const size = Buffer.byteLength(JSON.stringify(p));
    expect(size).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
    expect(size).toBeGreaterThan(TEAMS_MAX_BYTES - 2000);
    expect(teamsProblems(p)).toEqual([]);
    const text = card(p).body[1].text as string;
    expect(text.startsWith('é long failure text')).toBe(true);
    expect(text).not.toContain('END');
    expect(text).toContain('message cut');
    expect(card(p).body[2].type).toBe('FactSet');
  });
});

describe('Teams configuration', () => {
  it(`reads notifications.teams.webhooks with \${env:…} URLs and refuses a bad one with file:line`, () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fw-teams-')), 'flowwatch.yaml');
    writeFileSync(file, `notifications:\n  teams:\n    webhooks:\n      Okta-Ops: \${env:TEAMS_URL}\n`);
    const url = `https://prod-01.westeurope.logic.azure.com/workflows/x?${SIG}`;
    expect(loadNotificationsConfig(file, { TEAMS_URL: url }).teams.get('okta-ops')).toEqual({
      name: 'Okta-Ops',
      url,
    });
    writeFileSync(file, 'notifications:\n  teams:\n    webhooks:\n      ops: not-a-url\n');
    expect(() => loadNotificationsConfig(file, {})).toThrow(
      `${file}:4:12: notifications.teams.webhooks.ops: a Teams Workflows webhook must be an http or https URL`,
    );
  });
});

describe('Teams channel', () => {
  const channel = () => createTeamsChannel({ config: () => config });

  it('POSTs the card to the webhook URL; 202 is delivered', async () => {
    const before = fake.received.length;
    expect(await channel().send(delivery('teams-OKTA-ops'))).toEqual({ ok: true, status: 202 });
    const got = fake.received[before]!;
    expect(got.path).toContain(SIG);
    expect(got.headers['content-type']).toBe('application/json');
    expect(card(got.body).version).toBe('1.4');
    expect(fake.rejected).toEqual([]);
  });

  it('429 honours Retry-After, 5xx is retried, 4xx and unknown handles are not; no secret in results', async () => {
    const results = [];
    fake.failNext.push({ status: 429, headers: { 'retry-after': '7' } });
    const limited = await channel().send(delivery('teams-okta-ops'));
    expect(limited).toMatchObject({ ok: false, retryable: true, reason: 'rate_limited', retryAfterMs: 7000 });
    for (const status of [500, 502, 503]) {
      fake.failNext.push(status);
      const r = await channel().send(delivery('teams-okta-ops'));
      expect(r).toMatchObject({ ok: false, retryable: true, reason: 'http_5xx', status });
      results.push(r);
    }
    for (const status of [400, 401, 403, 404]) {
      fake.failNext.push(status);
      const r = await channel().send(delivery('teams-okta-ops'));
      expect(r).toMatchObject({ ok: false, retryable: false, reason: 'http_4xx', status });
      results.push(r);
    }
    const unknown = await channel().send(delivery('teams-hr'));
    expect(unknown).toMatchObject({ ok: false, retryable: false, reason: 'unknown_handle' });
    expect(!unknown.ok && unknown.detail).toContain('notifications.teams.webhooks');
    const down = createTeamsChannel({
      config: () => {
        const c = emptyNotificationsConfig();
        c.teams.set('x', { name: 'x', url: `http://127.0.0.1:1/hook?${SIG}` });
        return c;
      },
    });
    const refused = await down.send(delivery('teams-x'));
    expect(refused).toMatchObject({ ok: false, retryable: true, reason: 'network' });
    results.push(limited, unknown, refused);
    expect(JSON.stringify(results)).not.toMatch(/SeCrEt|workflows\/abc/);
    expect(
      results.every((r) => !r.ok && r.detail.startsWith(r.reason === 'unknown_handle' ? 'no' : 'Teams')),
    ).toBe(true);
  });
});
