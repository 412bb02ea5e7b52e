// Closing open incidents without a recovery: which triggers are still open (a table of cases, pure), that
// the close resolves the trigger's dedup_key / alias, that it survives a restart between saving the close
// event and delivering it (real SQLite file, PagerDuty fake), and that a downtime's window start calls the
// hook once per window (and again after a restart).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, pagerDutyProblems, startPagerDutyFake } from '../../test/helpers/chat-fakes.ts';
import { AT, sampleEvent } from '../../test/helpers/notify.ts';
import { type Downtime, parseDowntimeCreate } from '../monitors/downtime.ts';
import { DowntimeService } from '../monitors/downtime-service.ts';
import type { DueJob, NotificationJob } from '../store/notifications.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { buildOpsgenieRequest } from './channels/opsgenie.ts';
import { buildPagerDutyEvent } from './channels/pagerduty.ts';
import { closeEvents, IncidentCloser } from './close-incidents.ts';
import { emptyNotificationsConfig } from './config.ts';
import { Notifier } from './notifier.ts';

const KEY = 'R0UT1NGKEY0123456789abcdef012345';

function last(
  handle: string,
  over: Record<string, unknown> = {},
  id = 42,
  group = '@flow_name:Sync Users',
): DueJob {
  const e = sampleEvent(over);
  return {
    job: { id, handle, event_id: id } as NotificationJob,
    event: { ...e, id, group_key: group, body: { ...e.body, group: { '@flow_name': group.split(':')[1] } } },
  };
}

describe('closeEvents', () => {
  const close = (jobs: DueJob[], keep?: (g: Record<string, string>) => boolean) =>
    closeEvents(jobs, { cause: 'monitor_deleted', at: AT + 60_000, keep });

  it.each([
    ['a trigger delivered last', [last('@pagerduty-okta')], [['@pagerduty-okta']]],
    [
      'a warn or no data is open too',
      [last('@pagerduty-okta', { to: 'Warn' }), last('@opsgenie-x', { to: 'No Data' }, 43)],
      [['@pagerduty-okta'], ['@opsgenie-x']],
    ],
    [
      'a recovery delivered last: nothing open',
      [last('@pagerduty-okta', { to: 'OK', transition: 'Recovered' })],
      [],
    ],
    [
      'an earlier close event is a recovery',
      [last('@pagerduty-okta', { to: 'OK', transition: 'Resolved', close_incidents: true })],
      [],
    ],
    [
      'two recipients of one trigger: one close event',
      [last('@pagerduty-okta'), last('@opsgenie-okta')],
      [['@pagerduty-okta', '@opsgenie-okta']],
    ],
    ['no event body state: skipped', [last('@pagerduty-okta', { to: undefined })], []],
  ])('%s', (_, jobs, handles) => {
    expect(close(jobs as DueJob[]).map((e) => e.body.handles)).toEqual(handles);
  });

  it('keeps only the groups `keep` accepts, one event per group', () => {
    const jobs = [
      last('@pagerduty-okta', {}, 42, '@flow_name:A'),
      last('@pagerduty-okta', {}, 43, '@flow_name:B'),
    ];
    expect(close(jobs).map((e) => e.group_key)).toEqual(['@flow_name:A', '@flow_name:B']);
    expect(close(jobs, (g) => g['@flow_name'] === 'B').map((e) => e.group_key)).toEqual(['@flow_name:B']);
  });

  it('a downtime start closes the groups its scope covers, notify_by sub-groups included', async () => {
    // notify_by ["@flow_name"]: flow A has a staging sub-group, flow B does not; the downtime is env:staging
    const jobs = [
      last('@pagerduty-okta', {}, 42, '@flow_name:A'),
      last('@pagerduty-okta', {}, 43, '@flow_name:B'),
    ];
    const saved: string[] = [];
    const closer = new IncidentCloser({
      store: {
        listMonitors: async () => [{ id: 7, tags: [] }],
        notifications: { lastJobs: async () => jobs },
        saveMonitorProgress: async (_: unknown, events: { group_key: string }[]) => {
          saved.push(...events.map((e) => e.group_key));
          return [];
        },
      } as any,
      outbox: { dispatched: async () => {}, wake: () => {} },
    });
    const staging = parseDowntimeCreate({ scope: 'env:staging', monitor_identifier: { monitor_id: 7 } }, AT);
    const members: Record<string, Record<string, string>[]> = {
      '@flow_name:A': [
        { '@flow_name': 'A', env: 'prod' },
        { '@flow_name': 'A', env: 'staging' },
      ],
      '@flow_name:B': [{ '@flow_name': 'B', env: 'prod' }],
    };
    // without the evaluator's view, the trigger's group values only: env:staging covers neither
    expect(await closer.muted(staging, AT)).toBe(0);
    expect(await closer.muted(staging, AT, (id, key) => (id === 7 ? members[key] : undefined))).toBe(1);
    expect(saved).toEqual(['@flow_name:A']);
  });

  it('the close event resolves the trigger’s dedup_key and closes its Opsgenie alias', () => {
    const trigger = sampleEvent({ first_triggered_at: AT - 3_600_000 });
    const [c] = closeEvents([{ job: { handle: '@pagerduty-okta' } as NotificationJob, event: trigger }], {
      cause: 'monitor_muted',
      at: AT,
      downtimeId: 'dt-1',
    });
    const event = { ...c!, id: 99, delivered_at: null };
    const pdTrigger = buildPagerDutyEvent(trigger, KEY);
    const resolve = buildPagerDutyEvent(event, KEY);
    expect(resolve).toEqual({ routing_key: KEY, event_action: 'resolve', dedup_key: pdTrigger.dedup_key });
    expect(buildOpsgenieRequest(event).path).toBe(
      `/v2/alerts/${buildOpsgenieRequest(trigger).body.alias}/close?identifierType=alias`,
    );
    expect(event.body).toMatchObject({
      transition: 'Resolved',
      from: 'Alert',
      to: 'OK',
      cause: 'monitor_muted',
      downtime_id: 'dt-1',
      notify: true,
      close_incidents: true,
      closes_event_id: 42,
      title: '[P2] [Resolved on {@flow_name:Sync Users}] Okta flow failures',
      message: 'Resolved by Flowwatch: a downtime mutes this group.',
    });
  });
});

describe('IncidentCloser through the outbox', () => {
  let pd: Fake;
  beforeAll(async () => {
    pd = await startPagerDutyFake();
  });
  afterAll(() => pd.close());

  it('a restart between saving the close event and sending it still resolves, once; a second close finds nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-close-'));
    const config = emptyNotificationsConfig();
    config.pagerduty.url = pd.url;
    config.pagerduty.services.set('okta', { name: 'okta', routingKey: KEY });
    const notifier = (store: SqliteStore) =>
      new Notifier({
        store: store.notifications,
        retry: { baseMs: 10, maxMs: 20 },
        deadLetterAfterMs: 60_000,
        channelConfig: () => config,
      });
    let store = new SqliteStore({ dataDir: dir });
    let n = notifier(store);
    const e = sampleEvent({ handles: ['@pagerduty-okta', '@slack-nowhere'] });
    await store.saveMonitorProgress([], [{ monitor_id: 7, group_key: e.group_key, at: AT, body: e.body }]);
    n.start();
    await pd.waitFor(1);
    await n.stop(0);
    // A process that dies right after saving: its outbox never wakes.
    const dying = new IncidentCloser({
      store,
      outbox: { dispatched: () => n.dispatched(), wake: () => undefined },
    });
    expect(await dying.close(7, 'monitor_deleted')).toBe(1);
    await store.close();

    store = new SqliteStore({ dataDir: dir });
    n = notifier(store);
    n.start();
    try {
      await pd.waitFor(2);
      expect(pd.received[1]!.body).toEqual({
        routing_key: KEY,
        event_action: 'resolve',
        dedup_key: pd.received[0]!.body.dedup_key,
      });
      expect(pagerDutyProblems(pd.received[1]!.body)).toEqual([]);
      // Only the PagerDuty recipient got a close job (not the Slack handle of the message).
      for (let i = 0; i < 200 && (await store.notifications.countJobs()).pending > 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      const jobs = await store.notifications.listJobs({ limit: 10 });
      expect(jobs.map((j) => `${j.handle}:${j.state}`).sort()).toEqual([
        '@pagerduty-okta:delivered',
        '@pagerduty-okta:delivered',
        '@slack-nowhere:dead',
      ]);
      const closer = new IncidentCloser({ store, outbox: n });
      expect(await closer.close(7, 'monitor_deleted')).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(pd.received.length).toBe(2);
    } finally {
      await n.stop(0);
      await store.close();
    }
  });
});

describe('DowntimeService: window starts', () => {
  const HOUR = 3_600_000;
  const downtime = (start: number, over: Partial<Downtime> = {}): Downtime => ({
    id: 'dt-1',
    scope: '*',
    monitor_identifier: { monitor_id: 7 },
    schedule: { kind: 'one_time', start, end: start + HOUR },
    message: null,
    display_timezone: 'UTC',
    mute_first_recovery_notification: false,
    notify_end_states: [],
    notify_end_types: [],
    created_at: AT,
    modified_at: AT,
    canceled_at: null,
    ended_through: null,
    ...over,
  });

  it('calls onWindowStart once when a window begins, again after a restart, never when canceled', async () => {
    const store = new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-dtstart-')) });
    let now = AT;
    const started: string[] = [];
    const service = async () => {
      const s = new DowntimeService({ store, tickMs: 0, now: () => now });
      await s.start();
      s.onWindowStart(async (d, at) => {
        started.push(`${d.id}@${at - AT}`);
      });
      return s;
    };
    try {
      const s = await service();
      await s.create(downtime(AT + 10 * 60_000));
      await s.create(downtime(AT, { id: 'dt-canceled', canceled_at: AT }));
      await s.tick();
      expect(started).toEqual([]);
      now = AT + 10 * 60_000;
      await s.tick();
      now += 1000;
      await s.tick();
      expect(started).toEqual(['dt-1@600000']);
      const again = await service();
      await again.tick();
      expect(started).toEqual(['dt-1@600000', 'dt-1@601000']);
      now = AT + 2 * HOUR;
      await again.tick();
      expect(started.length).toBe(2);
    } finally {
      await store.close();
    }
  });
});
