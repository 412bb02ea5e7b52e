// Bundling, pure: the decision with an injected clock (first alert at once, the rest of the window held,
// recoveries never), the window of a recipient from rules and the default, the summary every channel sends
// (webhook $VARIABLES, Slack blocks) and the dead-letter notice (never a fallback of a fallback).
import { describe, expect, it } from 'vitest';
import { slackProblems, teamsProblems } from '../../test/helpers/chat-fakes.ts';
import { sampleEvent } from '../../test/helpers/notify.ts';
import type { BundlePlan, BundleWindow, NotificationJob } from '../store/notifications.ts';
import type { MonitorEventRecord } from '../store/store.ts';
import { bundlePlan, bundleWindowMs, formatWindow, summaryEvent } from './bundle.ts';
import { ChannelRegistry } from './channel.ts';
import { buildSlackPayload } from './channels/slack.ts';
import { buildTeamsPayload, TEAMS_MAX_BYTES } from './channels/teams.ts';
import { buildWebhookRequest } from './channels/webhook.ts';
import { fallbackEvent, fallbackJobs } from './dead-letter.ts';
import type { NotificationRule } from './rule-model.ts';

const T0 = Date.parse('2026-11-27T03:00:00Z');
const MIN = 60_000;

/** Plays alerts for one recipient through the decision, keeping windows as the store does. */
function play(times: number[], windowMs: number, to = 'Alert'): (BundlePlan | undefined)[] {
  const windows: BundleWindow[] = [];
  return times.map((now) => {
    const open = windows.filter((w) => w.closes_at > now).at(-1);
    const p = bundlePlan({ to, channelBundles: true, windowMs, now, open });
    if (p?.kind === 'lead') windows.push({ id: windows.length + 1, opened_at: now, closes_at: p.closes_at });
    return p;
  });
}

describe('bundlePlan', () => {
  it('sends the first alert at once and holds the next ones of the window', () => {
    const times = Array.from({ length: 12 }, (_, i) => T0 + i * 10_000); // 12 alerts in 110 s
    const plans = play(times, 5 * MIN);
    expect(plans[0]).toEqual({ kind: 'lead', closes_at: T0 + 5 * MIN });
    expect(plans.slice(1)).toEqual(Array(11).fill({ kind: 'hold', bundle_id: 1 }));
  });

  it('opens a new window once the last one closed (the close instant itself is outside)', () => {
    const plans = play([T0, T0 + MIN, T0 + 5 * MIN, T0 + 6 * MIN, T0 + 11 * MIN], 5 * MIN);
    expect(plans).toEqual([
      { kind: 'lead', closes_at: T0 + 5 * MIN },
      { kind: 'hold', bundle_id: 1 },
      { kind: 'lead', closes_at: T0 + 10 * MIN },
      { kind: 'hold', bundle_id: 2 },
      { kind: 'lead', closes_at: T0 + 16 * MIN },
    ]);
  });

  it('never bundles recoveries, channels without summaries, or with the window off', () => {
    const open = { id: 1, opened_at: T0, closes_at: T0 + MIN };
    const base = { to: 'Alert', channelBundles: true, windowMs: MIN, now: T0 + 1, open };
    expect(bundlePlan(base)).toEqual({ kind: 'hold', bundle_id: 1 });
    expect(bundlePlan({ ...base, to: 'OK' })).toBeUndefined();
    expect(bundlePlan({ ...base, channelBundles: false })).toBeUndefined();
    expect(bundlePlan({ ...base, windowMs: 0 })).toBeUndefined();
    expect(bundlePlan({ ...base, to: 'Warn' })).toEqual({ kind: 'hold', bundle_id: 1 });
    expect(bundlePlan({ ...base, to: 'No Data' })).toEqual({ kind: 'hold', bundle_id: 1 });
  });
});

describe('bundleWindowMs', () => {
  const rule = (over: Partial<NotificationRule>): NotificationRule => ({
    id: 'r',
    name: 'r',
    created_at: 1,
    modified_at: 1,
    ...over,
  });
  const body = sampleEvent().body; // monitor tags team:iam, env:production
  it('takes the longest bundle_config of the matching rules naming the recipient, else the default', () => {
    const rules = [
      rule({ filter: { tags: ['team:iam'] }, recipients: ['slack-ops'], bundle_config: { duration: 300 } }),
      rule({ filter: { tags: ['team:iam'] }, recipients: ['slack-ops'], bundle_config: { duration: 600 } }),
      rule({
        filter: { tags: ['team:other'] },
        recipients: ['slack-ops'],
        bundle_config: { duration: 9000 },
      }),
      rule({ filter: { tags: ['team:iam'] }, recipients: ['webhook-x'], bundle_config: { duration: 0 } }),
      rule({ filter: { tags: ['team:iam'] }, recipients: ['slack-dev'] }),
    ];
    expect(bundleWindowMs(body, '@slack-ops', rules, 60_000)).toBe(600_000);
    expect(bundleWindowMs(body, '@SLACK-OPS', rules, 60_000)).toBe(600_000);
    expect(bundleWindowMs(body, '@webhook-x', rules, 60_000)).toBe(0); // the rule turns it off
    expect(bundleWindowMs(body, '@slack-dev', rules, 60_000)).toBe(60_000); // no bundle_config: default
    expect(bundleWindowMs(body, '@webhook-ops', [], 0)).toBe(0); // off unless configured
  });
});

function flowAlert(i: number): MonitorEventRecord {
  const flow = `Flow ${String(i).padStart(2, '0')}`;
  const e = sampleEvent({
    group: { '@flow_name': flow },
    title: `[P2] [Triggered on {@flow_name:${flow}}] Okta flow failures`,
    log_link: `https://flowwatch.example.com/logs?query=service%3Aokta+%40flow_name%3A%22${i}%22`,
  });
  return { ...e, id: 100 + i, group_key: `@flow_name:${flow}`, at: T0 + i * 1000 };
}

const summaryJob = (over: Partial<NotificationJob> = {}): NotificationJob => ({
  id: 9,
  idempotency_key: 'bundle:1:@slack-okta',
  event_id: 101,
  monitor_id: 7,
  group_key: '@flow_name:Flow 01',
  handle: '@slack-okta',
  channel: 'slack',
  state: 'pending',
  attempts: 0,
  created_at: T0 + 1000,
  next_attempt_at: T0 + 5 * MIN,
  deadline_at: T0 + 65 * MIN,
  delivered_at: null,
  last_status: null,
  last_reason: null,
  last_error: null,
  updated_at: T0,
  kind: 'summary',
  bundle_id: null,
  detail: { bundle_id: 1, opened_at: T0, closes_at: T0 + 5 * MIN },
  ...over,
});

describe('summaryEvent', () => {
  const members = Array.from({ length: 11 }, (_, i) => flowAlert(i + 2));
  const s = summaryEvent(summaryJob(), members);

  it('names the held alerts with links, as an event every channel can render', () => {
    const b = s.body as Record<string, any>;
    expect(b.title).toBe(
      '[Bundled] 11 more flows failing (Okta flow failures): Flow 02, Flow 03, Flow 04, Flow 05, Flow 06, Flow 07, Flow 08, Flow 09, Flow 10, Flow 11, Flow 12',
    );
    expect(b.to).toBe('Alert');
    expect(b.transition).toBe('Bundled');
    expect(b.message).toContain('11 more flows failing for @slack-okta within 5m of the first alert');
    for (let i = 2; i <= 12; i++)
      expect(b.message).toContain(
        `[Okta flow failures on @flow_name:Flow ${String(i).padStart(2, '0')}](https://flowwatch.example.com/monitors/7)`,
      );
    expect(b.bundle.count).toBe(11);
    expect(s.group_key).toBe('bundle:9');
    expect(formatWindow(5400)).toBe('1h30m');
  });

  it('gives webhooks the summary in $EVENT_TITLE, $EVENT_MSG, $BUNDLE_COUNT and $BUNDLE', () => {
    const req = buildWebhookRequest(
      {
        name: 'ops',
        url: 'https://hooks.example.com/x',
        payload:
          '{"title": "$EVENT_TITLE", "body": "$EVENT_MSG", "n": $BUNDLE_COUNT, "alerts": $BUNDLE, "kind": "$ALERT_TRANSITION"}',
        custom_headers: null,
        encode_as: 'json',
        created_at: 0,
        modified_at: 0,
      },
      s,
      'bundle:1:@webhook-ops',
    );
    const p = JSON.parse(req.body);
    expect(p.title).toBe((s.body as { title: string }).title);
    expect(p.body).toContain('[Okta flow failures on @flow_name:Flow 12]');
    expect(p.n).toBe(11);
    expect(p.kind).toBe('Bundled');
    expect(p.alerts).toHaveLength(11);
    expect(p.alerts[0]).toMatchObject({
      monitor_id: 7,
      scope: '@flow_name:Flow 02',
      transition: 'Triggered',
      link: 'https://flowwatch.example.com/monitors/7',
    });
    // A single alert's payload renders the same template.
    const single = JSON.parse(
      buildWebhookRequest(
        {
          name: 'ops',
          url: 'https://hooks.example.com/x',
          payload: '{"n": $BUNDLE_COUNT, "alerts": $BUNDLE}',
          custom_headers: null,
          encode_as: 'json',
          created_at: 0,
          modified_at: 0,
        },
        flowAlert(1),
        'k',
      ).body,
    );
    expect(single).toEqual({ n: 0, alerts: [] });
  });

  it('gives Slack valid Block Kit listing every alert, even a long list', () => {
    const p = buildSlackPayload(s) as any;
    expect(slackProblems(p)).toEqual([]);
    expect(p.blocks[0].text.text).toBe('🔴 11 more flows failing');
    const text = JSON.stringify(p.blocks);
    for (let i = 2; i <= 12; i++) expect(text).toContain(`Flow ${String(i).padStart(2, '0')}`);
    expect(text).toContain(
      '<https://flowwatch.example.com/monitors/7|Okta flow failures on @flow_name:Flow 02>',
    );
    const many = summaryEvent(
      summaryJob(),
      Array.from({ length: 1000 }, (_, i) => flowAlert(i)),
    );
    const big = buildSlackPayload(many) as any;
    expect(slackProblems(big)).toEqual([]);
    expect(big.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(big.blocks)).toMatch(/…and \d+ more/);
    expect((many.body as { title: string }).title).toMatch(/ and 9\d\d more$/);
  });
});

describe('Teams summary', () => {
  it('lists every held alert with links to its monitor and logs, as a valid card', () => {
    const s = summaryEvent(summaryJob({ handle: '@teams-okta', channel: 'teams' }), [
      ...Array.from({ length: 11 }, (_, i) => flowAlert(i + 2)),
    ]);
    const p = buildTeamsPayload(s) as any;
    expect(teamsProblems(p)).toEqual([]);
    const body = p.attachments[0].content.body;
    expect(body[0].items[0].text).toBe('🔴 11 more flows failing');
    expect(body[1].text).toContain('11 more flows failing for @teams-okta within 5m of the first alert');
    const list = body[2].text as string;
    expect(list.split('\n')).toHaveLength(11);
    expect(list.split('\n')[0]).toBe(
      '- **Triggered** [Okta flow failures on @flow_name:Flow 02](https://flowwatch.example.com/monitors/7) · [logs](https://flowwatch.example.com/logs?query=service%3Aokta+%40flow_name%3A%222%22)',
    );
    expect(body[3].facts).toEqual([
      { title: 'Alerts', value: '11' },
      { title: 'Window', value: '5m' },
    ]);
    expect(p.attachments[0].content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'View monitors', url: 'https://flowwatch.example.com/monitors/7' },
    ]);
  });

  it('fits a long list under the size limit and says how many more; brackets and parentheses keep links whole', () => {
    const odd = flowAlert(3);
    (odd.body as any).group = { '@flow_name': 'Sync [EU] (prod)' };
    (odd.body as any).log_link = 'https://flowwatch.example.com/logs?query=(a OR b)';
    const many = summaryEvent(summaryJob({ handle: '@teams-okta', channel: 'teams' }), [
      odd,
      ...Array.from({ length: 1000 }, (_, i) => flowAlert(i + 10)),
    ]);
    const p = buildTeamsPayload(many) as any;
    expect(teamsProblems(p)).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
    const lines = (p.attachments[0].content.body[2].text as string).split('\n');
    expect(lines.length).toBeGreaterThan(50);
    const shown = lines.length - 1;
    expect(lines.at(-1)).toBe(`…and ${1001 - shown} more`);
    expect(lines[0]).toBe(
      '- **Triggered** [Okta flow failures on @flow_name:Sync (EU) (prod)](https://flowwatch.example.com/monitors/7) · [logs](https://flowwatch.example.com/logs?query=%28a%20OR%20b%29)',
    );
  });
});

describe('dead-letter fallback', () => {
  const registry = new ChannelRegistry().add({
    name: 'slack',
    send: async () => ({ ok: true, status: 200 }),
  });

  it('notifies the configured recipients, never the one that failed, never for a fallback', () => {
    expect(
      fallbackJobs(
        { kind: 'alert', handle: '@webhook-ops' },
        ['slack-ops', '@slack-ops', 'webhook-ops'],
        registry,
      ),
    ).toEqual([{ handle: '@slack-ops', channel: 'slack' }]);
    expect(fallbackJobs({ kind: 'summary', handle: '@slack-x' }, ['slack-ops'], registry)).toHaveLength(1);
    expect(fallbackJobs({ kind: 'fallback', handle: '@slack-x' }, ['slack-ops'], registry)).toEqual([]);
  });

  it('says what failed and why', () => {
    const e = flowAlert(3);
    const job = summaryJob({
      kind: 'fallback',
      handle: '@slack-ops',
      detail: {
        job_id: 5,
        handle: '@webhook-ops',
        channel: 'webhook',
        kind: 'alert',
        reason: 'http_4xx',
        error: 'webhook "ops" (POST https://hooks.example.com/x) answered 400',
        status: 400,
        attempts: 1,
        title: '[P2] [Triggered on {@flow_name:Flow 03}] Okta flow failures',
      },
    });
    const f = fallbackEvent(job, e).body as Record<string, any>;
    expect(f.title).toBe(
      '[Flowwatch] Notification to @webhook-ops failed: [P2] [Triggered on {@flow_name:Flow 03}] Okta flow failures',
    );
    expect(f.message).toContain('after 1 attempt.');
    expect(f.message).toContain(
      '**Why:** http_4xx: webhook "ops" (POST https://hooks.example.com/x) answered 400',
    );
    expect(f.message).toContain('POST /api/flowwatch/v1/notifications/5/retry');
    const slack = buildSlackPayload({ ...e, body: f }) as any;
    expect(slackProblems(slack)).toEqual([]);
    expect(JSON.stringify(slack)).not.toContain('no data');
  });
});
