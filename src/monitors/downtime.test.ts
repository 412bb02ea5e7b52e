import { describe, expect, it } from 'vitest';
import {
  type Downtime,
  downtimeStatus,
  isMuted,
  isRemoved,
  legacyDowntimeId,
  matchingDowntimes,
  nextWindow,
  parseDowntimeCreate,
  parseDowntimeUpdate,
} from './downtime.ts';
import { nextOccurrence, occurrences, parseRRule, parseWall, RRuleError, zonedToUtc } from './rrule.ts';

const T = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
function take(rule: string, start: string, tz: string, n: number): string[] {
  const out: string[] = [];
  for (const t of occurrences(parseRRule(rule), parseWall(start), tz)) {
    out.push(iso(t));
    if (out.length >= n) break;
  }
  return out;
}

describe('RRULE occurrences', () => {
  it.each([
    [
      'FREQ=DAILY;INTERVAL=2',
      '2026-01-30T22:00',
      'UTC',
      ['2026-01-30T22:00:00.000Z', '2026-02-01T22:00:00.000Z', '2026-02-03T22:00:00.000Z'],
    ],
    [
      'FREQ=WEEKLY;BYDAY=MO,WE',
      '2026-03-04T09:30', // a Wednesday
      'UTC',
      ['2026-03-04T09:30:00.000Z', '2026-03-09T09:30:00.000Z', '2026-03-11T09:30:00.000Z'],
    ],
    [
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=SA',
      '2026-03-02T01:00',
      'UTC',
      ['2026-03-07T01:00:00.000Z', '2026-03-21T01:00:00.000Z', '2026-04-04T01:00:00.000Z'],
    ],
    // Datadog's documented example: the third Wednesday of every month
    [
      'FREQ=MONTHLY;BYSETPOS=3;BYDAY=WE;INTERVAL=1',
      '2026-01-01T00:00',
      'UTC',
      ['2026-01-21T00:00:00.000Z', '2026-02-18T00:00:00.000Z', '2026-03-18T00:00:00.000Z'],
    ],
    [
      'FREQ=MONTHLY;BYDAY=-1FR',
      '2026-01-01T18:00',
      'UTC',
      ['2026-01-30T18:00:00.000Z', '2026-02-27T18:00:00.000Z', '2026-03-27T18:00:00.000Z'],
    ],
    [
      'FREQ=MONTHLY;BYMONTHDAY=-1',
      '2026-01-15T12:00',
      'UTC',
      ['2026-01-31T12:00:00.000Z', '2026-02-28T12:00:00.000Z', '2026-03-31T12:00:00.000Z'],
    ],
    // a day missing from a month is skipped, not moved
    [
      'FREQ=MONTHLY',
      '2026-01-31T00:00',
      'UTC',
      ['2026-01-31T00:00:00.000Z', '2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z'],
    ],
    [
      'FREQ=YEARLY;BYMONTH=11;BYDAY=4TH',
      '2026-01-01T06:00',
      'UTC',
      ['2026-11-26T06:00:00.000Z', '2027-11-25T06:00:00.000Z'],
    ],
    [
      'FREQ=DAILY;COUNT=2',
      '2026-06-01T00:00',
      'UTC',
      ['2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z'],
    ],
    [
      'FREQ=DAILY;UNTIL=20260603T000000Z',
      '2026-06-01T00:00',
      'UTC',
      ['2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z', '2026-06-03T00:00:00.000Z'],
    ],
  ])('%s from %s (%s)', (rule, start, tz, want) => {
    // rules with COUNT or UNTIL end: asking for one more gives no more
    const n = /COUNT|UNTIL/.test(rule) ? want.length + 1 : want.length;
    expect(take(rule, start, tz, n)).toEqual(want);
  });

  it('keeps the wall-clock time across DST changes in the time zone', () => {
    // Paris: UTC+1 in winter, UTC+2 from 2026-03-29
    expect(take('FREQ=DAILY', '2026-03-28T02:30', 'Europe/Paris', 3)).toEqual([
      '2026-03-28T01:30:00.000Z',
      // 02:30 does not exist on the 29th: it moves forward by the gap (03:30 CEST)
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(take('FREQ=WEEKLY;BYDAY=SU', '2026-10-18T22:00', 'America/New_York', 3)).toEqual([
      '2026-10-19T02:00:00.000Z',
      '2026-10-26T02:00:00.000Z',
      '2026-11-02T03:00:00.000Z', // EST from 2026-11-01
    ]);
    expect(zonedToUtc(parseWall('2026-07-01T12:00'), 'Asia/Tokyo')).toBe(T('2026-07-01T03:00:00Z'));
  });

  it('finds the occurrence holding a time, or the next one, years after the start', () => {
    const rule = parseRRule('FREQ=WEEKLY;BYDAY=SA');
    const start = parseWall('2020-01-04T22:00');
    const dur = 4 * 3_600_000;
    // Saturday 2026-03-07 22:00 to Sunday 02:00, UTC
    expect(nextOccurrence(rule, start, 'UTC', dur, T('2026-03-08T01:00:00Z'))).toEqual({
      start: T('2026-03-07T22:00:00Z'),
      end: T('2026-03-08T02:00:00Z'),
    });
    expect(nextOccurrence(rule, start, 'UTC', dur, T('2026-03-08T02:00:00Z'))?.start).toBe(
      T('2026-03-14T22:00:00Z'),
    );
    expect(
      nextOccurrence(parseRRule('FREQ=DAILY;COUNT=3'), start, 'UTC', dur, T('2021-01-01T00:00:00Z')),
    ).toBe(null);
  });

  it.each([
    ['', /empty/],
    ['INTERVAL=2', /FREQ is required/],
    ['FREQ=HOURLY', /FREQ=HOURLY is not supported/],
    ['FREQ=DAILY;BYHOUR=3', /BYHOUR is not supported/],
    ['FREQ=DAILY;DTSTART=20260101T000000Z', /DTSTART is not allowed/],
    ['FREQ=DAILY;COUNT=2;UNTIL=20260101', /COUNT and UNTIL/],
    ['FREQ=WEEKLY;BYDAY=XX', /BYDAY: "XX"/],
    ['FREQ=WEEKLY;BYDAY=1MO', /ordinal/],
    ['FREQ=DAILY;BYSETPOS=1', /BYSETPOS/],
  ])('refuses %j', (rule, msg) => {
    expect(() => parseRRule(rule)).toThrow(RRuleError);
    expect(() => parseRRule(rule)).toThrow(msg);
  });
});

const NOW = T('2026-03-01T12:00:00Z');
function downtime(attrs: Record<string, unknown>, now = NOW): Downtime {
  return parseDowntimeCreate({ scope: '*', monitor_identifier: { monitor_id: 1 }, ...attrs }, now);
}
const monitor = { id: 1, tags: ['team:iam', 'env:prod'] };

describe('downtime schedule and status', () => {
  it('one-time: start defaults to now, no end is forever; status follows the clock', () => {
    const d = downtime({ schedule: { start: '2026-03-01T13:00:00+01:00', end: '2026-03-01T14:00:00Z' } });
    expect(d.schedule).toEqual({
      kind: 'one_time',
      start: T('2026-03-01T12:00:00Z'),
      end: T('2026-03-01T14:00:00Z'),
    });
    expect(downtimeStatus(d, NOW - 1)).toBe('scheduled');
    expect(downtimeStatus(d, NOW)).toBe('active');
    expect(downtimeStatus(d, T('2026-03-01T14:00:00Z'))).toBe('ended');
    const forever = downtime({});
    expect(forever.schedule).toEqual({ kind: 'one_time', start: NOW, end: null });
    expect(downtimeStatus(forever, NOW + 1e12)).toBe('active');
    expect(downtimeStatus({ ...forever, canceled_at: NOW + 5 }, NOW + 10)).toBe('canceled');
  });

  it('a canceled downtime is removed two days after its cancel, as Datadog removes it', () => {
    const d = downtime({});
    expect(isRemoved(d, NOW + 10 * 86_400_000)).toBe(false);
    const canceled = { ...d, canceled_at: NOW };
    expect(isRemoved(canceled, NOW + 2 * 86_400_000)).toBe(false);
    expect(isRemoved(canceled, NOW + 2 * 86_400_000 + 1)).toBe(true);
  });

  it('recurring: start defaults to now in the time zone; the current window is found', () => {
    const d = downtime({
      schedule: { recurrences: [{ rrule: 'FREQ=DAILY', duration: '1h' }], timezone: 'Europe/Paris' },
    });
    expect(d.schedule).toMatchObject({
      recurrences: [{ start: '2026-03-01T13:00:00' }],
      timezone: 'Europe/Paris',
    });
    expect(nextWindow(d.schedule, T('2026-03-02T12:30:00Z'))).toEqual({
      start: T('2026-03-02T12:00:00Z'),
      end: T('2026-03-02T13:00:00Z'),
    });
    expect(downtimeStatus(d, T('2026-03-02T13:00:00Z'))).toBe('scheduled');
  });

  it('refuses what Datadog refuses, naming the attribute', () => {
    const bad = (attrs: Record<string, unknown>) => () => downtime(attrs);
    expect(bad({ scope: 'env:(prod' })).toThrow(/^scope: /);
    expect(bad({ monitor_identifier: {} })).toThrow(/monitor_identifier/);
    expect(bad({ schedule: { start: '2026-03-01T12:00:00Z', end: '2026-03-01T11:00:00Z' } })).toThrow(
      /schedule.end: the end must be after the start/,
    );
    expect(bad({ schedule: { start: 'tomorrow' } })).toThrow(/schedule.start: "tomorrow"/);
    expect(bad({ schedule: { recurrences: [{ rrule: 'FREQ=DAILY', duration: '1y' }] } })).toThrow(
      /schedule.recurrences\[0\]: duration "1y"/,
    );
    expect(
      bad({ schedule: { recurrences: [{ rrule: 'FREQ=DAILY', duration: '1h' }], timezone: 'Mars/Base' } }),
    ).toThrow(/schedule.timezone: "Mars\/Base" is not a time zone/);
    expect(bad({ notify_end_types: ['later'] })).toThrow(/notify_end_types/);
  });

  it('an update changes only what it gives; a one-time end alone keeps the start', () => {
    const d = downtime({ schedule: { start: '2026-03-01T12:00:00Z', end: '2026-03-01T13:00:00Z' } });
    const u = parseDowntimeUpdate(
      d,
      { schedule: { end: '2026-03-01T15:00:00Z' }, message: 'longer' },
      NOW + 1,
    );
    expect(u.schedule).toEqual({ kind: 'one_time', start: NOW, end: T('2026-03-01T15:00:00Z') });
    expect(u).toMatchObject({ message: 'longer', scope: '*', created_at: NOW, modified_at: NOW + 1 });
  });
});

describe('isMuted', () => {
  const active = downtime({ scope: 'env:prod', monitor_identifier: { monitor_tags: ['team:iam'] } });
  const group = { env: 'prod', '@flow_name': 'Sync Users' };

  it('mutes a covered group while the downtime is active, and nothing else', () => {
    expect(isMuted([active], monitor, group, NOW)).toEqual({ muted: true, downtime_id: active.id });
    expect(isMuted([active], monitor, { env: 'dev' }, NOW).muted).toBe(false);
    expect(isMuted([active], { id: 2, tags: ['team:other'] }, group, NOW).muted).toBe(false);
    expect(isMuted([active], monitor, group, NOW - 1).muted).toBe(false);
    expect(isMuted([{ ...active, canceled_at: NOW + 10 }], monitor, group, NOW + 10).muted).toBe(false);
    const byId = downtime({ monitor_identifier: { monitor_id: 1 } });
    expect(isMuted([byId], monitor, {}, NOW).muted).toBe(true);
    expect(isMuted([byId], { id: 7, tags: [] }, {}, NOW).muted).toBe(false);
    const all = downtime({ monitor_identifier: { monitor_tags: ['*'] } });
    expect(isMuted([all], { id: 7, tags: [] }, {}, NOW).muted).toBe(true);
  });

  it('lets through the first recovery of an episode that triggered before the downtime', () => {
    const recovered = (firstTriggeredAt: number) => ({ name: 'Recovered', firstTriggeredAt });
    expect(isMuted([active], monitor, group, NOW + 60_000, recovered(NOW - 60_000))).toEqual({
      muted: false,
      downtime_id: active.id,
    });
    // an episode that started during the downtime recovers muted
    expect(isMuted([active], monitor, group, NOW + 60_000, recovered(NOW + 1000)).muted).toBe(true);
    // mute_first_recovery_notification on any covering downtime mutes it (additive)
    const strict = { ...active, id: 'strict', mute_first_recovery_notification: true };
    expect(isMuted([active, strict], monitor, group, NOW + 60_000, recovered(NOW - 60_000)).muted).toBe(true);
    // other transitions are muted
    expect(
      isMuted([active], monitor, group, NOW + 1, { name: 'Triggered', firstTriggeredAt: NOW + 1 }).muted,
    ).toBe(true);
  });

  it('follows a recurring schedule with an injected clock', () => {
    const weekly = downtime({
      scope: '*',
      schedule: {
        recurrences: [{ rrule: 'FREQ=WEEKLY;BYDAY=SA', start: '2026-01-03T22:00', duration: '4h' }],
        timezone: 'UTC',
      },
    });
    expect(isMuted([weekly], monitor, {}, T('2026-03-07T21:59:59Z')).muted).toBe(false);
    expect(isMuted([weekly], monitor, {}, T('2026-03-07T22:00:00Z')).muted).toBe(true);
    expect(isMuted([weekly], monitor, {}, T('2026-03-08T01:59:59Z')).muted).toBe(true);
    expect(isMuted([weekly], monitor, {}, T('2026-03-08T02:00:00Z')).muted).toBe(false);
  });
});

describe('matching_downtimes of a monitor', () => {
  it('lists the active and scheduled downtimes covering the monitor, active first, in seconds', () => {
    const later = downtime({
      scope: 'env:prod',
      monitor_identifier: { monitor_tags: ['team:iam'] },
      schedule: { start: '2026-03-02T00:00:00Z', end: '2026-03-02T02:00:00Z' },
    });
    const now = downtime({ monitor_identifier: { monitor_id: 1 } });
    const weekly = downtime({
      monitor_identifier: { monitor_tags: ['*'] },
      schedule: { recurrences: [{ rrule: 'FREQ=DAILY', duration: '1h', start: '2026-03-01T18:00:00' }] },
    });
    const ended = downtime({ schedule: { start: '2026-02-01T00:00:00Z', end: '2026-02-02T00:00:00Z' } });
    const canceled = { ...downtime({}), canceled_at: NOW };
    const otherMonitor = downtime({ monitor_identifier: { monitor_id: 2 } });
    const otherTags = downtime({ monitor_identifier: { monitor_tags: ['team:payroll'] } });
    // scopes on keys the monitor does not group by can cover none of its groups: not listed
    const staging = downtime({ scope: 'staging_only:true', monitor_identifier: { monitor_id: 1 } });
    const stagingFlow = downtime({ scope: 'env:prod @team:x', monitor_identifier: { monitor_id: 1 } });
    const got = matchingDowntimes(
      [later, ended, staging, weekly, canceled, otherMonitor, otherTags, stagingFlow, now],
      monitor,
      ['@flow_name', 'env'],
      NOW,
    );
    const s = (iso: string) => T(iso) / 1000;
    expect(got).toEqual([
      {
        id: legacyDowntimeId(now.id),
        downtime_id: now.id,
        start: NOW / 1000,
        end: null,
        scope: ['*'],
        status: 'active',
        monitor_id: 1,
      },
      expect.objectContaining({
        downtime_id: weekly.id,
        start: s('2026-03-01T18:00:00Z'),
        end: s('2026-03-01T19:00:00Z'),
        status: 'scheduled',
        monitor_id: null,
      }),
      expect.objectContaining({
        downtime_id: later.id,
        start: s('2026-03-02T00:00:00Z'),
        end: s('2026-03-02T02:00:00Z'),
        scope: ['env:prod'],
        status: 'scheduled',
      }),
    ]);
  });

  it('a scope on a key the monitor does not group by is not listed; a negative one is', () => {
    const staging = downtime({ scope: 'env:staging' });
    const notStaging = downtime({ scope: '-env:staging' });
    const all = downtime({ scope: '*' });
    const ids = (groupBy: string[]) =>
      matchingDowntimes([staging, notStaging, all], monitor, groupBy, NOW).map((x) => x.downtime_id);
    expect(ids([])).toEqual([notStaging.id, all.id]);
    expect(ids(['@flow_name'])).toEqual([notStaging.id, all.id]);
    expect(ids(['@flow_name', 'env'])).toEqual([staging.id, notStaging.id, all.id]);
  });

  it('gives every v2 id a stable int64 id', () => {
    expect(legacyDowntimeId('a1b2c3d4-e5f6-4711-8899-aabbccddeeff')).toBe(0xa1b2c3d4e5f64);
    expect(Number.isSafeInteger(legacyDowntimeId('not-a-uuid'))).toBe(true);
    expect(legacyDowntimeId('not-a-uuid')).toBe(legacyDowntimeId('not-a-uuid'));
  });
});
