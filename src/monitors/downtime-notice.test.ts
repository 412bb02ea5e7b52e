import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChannelRegistry } from '../notify/channel.ts';
import { planJobs } from '../notify/outbox.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Downtime } from './downtime.ts';
import { downtimeNotice } from './downtime-notice.ts';
import { DowntimeService } from './downtime-service.ts';

const AT = Date.parse('2026-11-27T10:00:00Z');
const MIN = 60_000;
const BASE = 'https://flowwatch.example.com';

const downtime = (over: Partial<Downtime> = {}): Downtime => ({
  id: 'dt-1',
  scope: 'env:staging',
  monitor_identifier: { monitor_id: 7 },
  schedule: { kind: 'one_time', start: AT + 10 * MIN, end: AT + 70 * MIN },
  message: 'Workday upgrade, ask #iam. @webhook-ops @slack-iam',
  display_timezone: 'Europe/Paris',
  mute_first_recovery_notification: false,
  notify_end_states: ['alert'],
  notify_end_types: ['expired'],
  created_at: AT,
  modified_at: AT,
  canceled_at: null,
  ended_through: null,
  notified: { scheduled: false, started: null },
  ...over,
});

describe('downtimeNotice', () => {
  const window = { start: AT + 10 * MIN, end: AT + 70 * MIN };
  const monitors = [{ id: 7, name: 'Okta flow failures' }];

  it('titles the notice with what happened, the scope and the monitors, and addresses the handles', () => {
    const e = downtimeNotice('started', downtime(), { at: window.start, window, monitors, baseUrl: BASE });
    expect(e).toMatchObject({
      monitor_id: 0,
      group_key: 'downtime:dt-1',
      at: window.start,
      body: {
        transition: 'Downtime started',
        cause: 'downtime',
        downtime_notice: 'started',
        notify: true,
        title: 'Downtime started: env:staging on Okta flow failures',
        handles: ['@webhook-ops', '@slack-iam'],
        scope: 'env:staging',
        monitor: { id: 7, name: 'Okta flow failures' },
        monitor_link: `${BASE}/monitors/downtimes?id=dt-1`,
        downtime: { id: 'dt-1', start: '2026-11-27T10:10:00.000Z', end: '2026-11-27T11:10:00.000Z' },
      },
    });
    const message = e?.body.message as string;
    expect(message.startsWith('Workday upgrade, ask #iam. @webhook-ops @slack-iam')).toBe(true);
    // Times in the display time zone.
    expect(message).toContain('until 2026-11-27 12:10:00+01:00');
    expect(message).toContain('**Scope:** `env:staging`');
    expect(message).toContain('from 2026-11-27 11:10:00+01:00 to 2026-11-27 12:10:00+01:00');
  });

  it('names monitors by tags or all of them, and says when a scheduled downtime starts', () => {
    const tagged = downtime({ monitor_identifier: { monitor_tags: ['team:iam', 'env:prod'] } });
    const e = downtimeNotice('scheduled', tagged, { at: AT, window, monitors, baseUrl: BASE });
    expect(e?.body.title).toBe('Downtime scheduled: env:staging on monitors tagged team:iam, env:prod');
    expect(e?.body.message).toContain('It will start at 2026-11-27 11:10:00+01:00.');
    expect(e?.body.monitor).toMatchObject({ id: 0, tags: ['team:iam', 'env:prod'] });
    const all = downtime({ scope: '*', monitor_identifier: { monitor_tags: ['*'] } });
    expect(downtimeNotice('canceled', all, { at: AT, window, monitors, baseUrl: BASE })?.body.title).toBe(
      'Downtime canceled: * on all monitors',
    );
  });

  it('is null when the message names no handle', () => {
    for (const message of [null, 'maintenance, no one to tell', 'mail ops@example.com'])
      expect(
        downtimeNotice('expired', downtime({ message }), { at: AT, window, monitors, baseUrl: BASE }),
      ).toBe(null);
  });
});

describe('planJobs of a notice', () => {
  it('addresses the handles of the message only: no rule recipients, no PagerDuty or Opsgenie, no bundling', () => {
    const message = '@webhook-ops @slack-iam @pagerduty-okta @opsgenie-iam @ops@example.com';
    const window = { start: AT, end: AT + MIN };
    const e = downtimeNotice('started', downtime({ message }), {
      at: AT,
      window,
      monitors: [],
      baseUrl: BASE,
    });
    const send = async () => ({ ok: true as const, status: 200 });
    const registry = new ChannelRegistry();
    for (const name of ['webhook', 'slack', 'pagerduty', 'opsgenie', 'email'])
      registry.add({ name, bundles: true, send });
    const jobs = planJobs({ ...e!, id: 1, delivered_at: null }, () => ['@webhook-from-a-rule'], registry, {
      windows: () => 60_000,
      ctx: { openBundle: () => undefined },
      now: AT,
    });
    expect(jobs).toEqual([
      { handle: '@webhook-ops', channel: 'webhook' },
      { handle: '@slack-iam', channel: 'slack' },
      { handle: '@ops@example.com', channel: 'email' },
    ]);
  });
});

describe('DowntimeService notices', () => {
  it('records scheduled, started, expired and canceled notices once each, across a restart', async () => {
    const store = new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-dtnotice-')) });
    let now = AT;
    let woken = 0;
    const service = async () => {
      const s = new DowntimeService({
        store,
        tickMs: 0,
        now: () => now,
        baseUrl: () => BASE,
        onNotices: () => woken++,
      });
      await s.start();
      return s;
    };
    const notices = async () =>
      (await store.listMonitorEvents({ limit: 100 }))
        .reverse()
        .map((e) => `${e.group_key} ${e.body.downtime_notice} ${e.at - AT}`);
    try {
      const s = await service();
      await s.create(downtime());
      await s.create(downtime({ id: 'dt-2', schedule: { kind: 'one_time', start: AT, end: null } }));
      await s.create(downtime({ id: 'dt-quiet', message: 'nobody to tell' }));
      await s.create(downtime({ id: 'dt-old', notified: undefined }));
      await s.tick();
      await s.tick();
      expect(await notices()).toEqual(['downtime:dt-1 scheduled 0', 'downtime:dt-2 started 0']);
      expect(woken).toBe(2);

      now = AT + 10 * MIN;
      await s.tick();
      now += 1000;
      await s.tick();
      // A restart: the marks are in the database, nothing is recorded again.
      const again = await service();
      await again.tick();
      expect(await notices()).toEqual([
        'downtime:dt-1 scheduled 0',
        'downtime:dt-2 started 0',
        'downtime:dt-1 started 600000',
      ]);

      // An API change made from an old read keeps the marks.
      const stale = again.get('dt-1') as Downtime;
      await again.update({
        ...stale,
        notified: { scheduled: false, started: null },
        message: `${stale.message}!`,
      });
      await again.tick();
      now = AT + 70 * MIN;
      await again.tick();
      await again.cancel('dt-2');
      await again.cancel('dt-2');
      await again.cancel('dt-1'); // ended: nothing to cancel
      await (await service()).tick();
      expect((await notices()).slice(3)).toEqual([
        'downtime:dt-1 expired 4200000',
        'downtime:dt-2 canceled 4200000',
      ]);
    } finally {
      await store.close();
    }
  });
});
