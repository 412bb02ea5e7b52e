// Downtimes (Datadog's /api/v2/downtime, spec §6): what they are, when they are active, which monitor groups
// they cover, and the muting rule. Pure: the clock is passed in.
//
// - Scope: a query in the log search language over the group's values (downtime-scope.ts): `env:prod`,
//   `@flow_name:"Sync Users"`, `env:(prod OR staging)`, `-env:dev`, `*` behave as in search; with notify_by a
//   term holds when one sub-group of the notification group carries it. A scope naming a key the monitor does
//   not group by does not match (an ungrouped monitor is covered only by `*` or by a purely negative scope).
//   Datadog's scope restrictions (no top-level OR, two nesting levels) are not enforced: Flowwatch accepts
//   more, never less.
// - Monitors: `{monitor_id}` or `{monitor_tags}` (the monitor has all of them; `["*"]` = every monitor).
// - Schedule: one-time `[start, end)` (end null = until canceled) or recurring (rrule.ts): active during any
//   occurrence `[start, start + duration)` in the schedule's time zone.
// - Muting (isMuted): during an active downtime covering a monitor group, its transitions still happen and are
//   recorded, with `muted: true` (no notification). Exception, as Datadog's: the first recovery of an episode
//   that triggered before the downtime started is notified, unless a covering downtime sets
//   `mute_first_recovery_notification` (additive across overlapping downtimes).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseQuery } from '../search/parse.ts';
import { type ScopeTarget, scopeCanMatch, scopeMatches } from './downtime-scope.ts';
import {
  checkTimeZone,
  formatWall,
  nextOccurrence,
  parseRecurrenceDuration,
  parseRRule,
  parseWall,
  RRuleError,
  wallAt,
} from './rrule.ts';

export type DowntimeEndState = 'alert' | 'warn' | 'no data';
export type DowntimeEndType = 'expired' | 'canceled';

export type DowntimeSchedule =
  | { kind: 'one_time'; start: number; end: number | null }
  | {
      kind: 'recurring';
      timezone: string;
      /** start: wall clock in the time zone, `2026-03-01T02:00:00` */
      recurrences: { rrule: string; start: string; duration: string }[];
    };

/** A downtime as stored. */
export interface Downtime {
  id: string;
  scope: string;
  monitor_identifier: { monitor_id: number } | { monitor_tags: string[] };
  schedule: DowntimeSchedule;
  message: string | null;
  display_timezone: string;
  mute_first_recovery_notification: boolean;
  notify_end_states: DowntimeEndState[];
  notify_end_types: DowntimeEndType[];
  created_at: number;
  modified_at: number;
  canceled_at: number | null;
  /** the end of the last active window whose end was handled (end-of-downtime events) */
  ended_through: number | null;
  /**
   * The notices to the handles of `message` already recorded (downtime-notice.ts): `scheduled`, and the start
   * of the last window whose start was noticed. Absent on downtimes made before Flowwatch sent notices.
   */
  notified?: { scheduled: boolean; started: number | null };
}

export type DowntimeStatus = 'scheduled' | 'active' | 'ended' | 'canceled';

/** A request the API refuses; `problems` are worded for the `errors` array. */
export class DowntimeValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const endStates = z.array(z.enum(['alert', 'warn', 'no data']));
const endTypes = z.array(z.enum(['expired', 'canceled']));
const recurrence = z.object({
  rrule: z.string().min(1).max(1000),
  duration: z.string(),
  start: z.string().nullable().optional(),
});
const schedule = z.union([
  z.object({ recurrences: z.array(recurrence).min(1).max(20), timezone: z.string().nullable().optional() }),
  z.object({ start: z.string().nullable().optional(), end: z.string().nullable().optional() }).strict(),
]);
const identifier = z.union([
  z.object({ monitor_id: z.number().int().positive() }).strict(),
  z.object({ monitor_tags: z.array(z.string().min(1).max(256)).min(1).max(32) }).strict(),
]);
const attributes = z.object({
  scope: z.string().min(1).max(3000),
  monitor_identifier: identifier,
  schedule: schedule.nullable().optional(),
  message: z.string().max(10_000).nullable().optional(),
  display_timezone: z.string().nullable().optional(),
  mute_first_recovery_notification: z.boolean().nullable().optional(),
  notify_end_states: endStates.nullable().optional(),
  notify_end_types: endTypes.nullable().optional(),
});

const problem = (path: string, why: string) => `${path}: ${why}`;

/** Parses an ISO-8601 date-time (any offset) to epoch ms. */
function instant(path: string, s: string): number {
  const t = /^\d{4}-\d\d-\d\dT/.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(t))
    throw new DowntimeValidationError([
      problem(path, `"${s}" is not an ISO-8601 date-time like 2026-03-01T02:00:00Z`),
    ]);
  return t;
}

function parseSchedule(
  raw: z.infer<typeof schedule> | null | undefined,
  now: number,
  previous?: DowntimeSchedule,
) {
  if (!raw) return { kind: 'one_time', start: now, end: null } satisfies DowntimeSchedule;
  if ('recurrences' in raw) {
    const tz = raw.timezone ?? 'UTC';
    try {
      checkTimeZone(tz);
    } catch (err) {
      throw new DowntimeValidationError([problem('schedule.timezone', (err as Error).message)]);
    }
    const problems: string[] = [];
    const recurrences = raw.recurrences.map((r, i) => {
      try {
        parseRRule(r.rrule);
        parseRecurrenceDuration(r.duration);
        const start = r.start ? formatWall(parseWall(r.start)) : formatWall({ ...wallAt(now, tz), s: 0 });
        return { rrule: r.rrule, duration: r.duration, start };
      } catch (err) {
        if (!(err instanceof RRuleError)) throw err;
        problems.push(problem(`schedule.recurrences[${i}]`, err.message));
        return { rrule: r.rrule, duration: r.duration, start: '' };
      }
    });
    if (problems.length) throw new DowntimeValidationError(problems);
    return { kind: 'recurring', timezone: tz, recurrences } satisfies DowntimeSchedule;
  }
  // A one-time update may give start or end alone; the other is kept.
  const prev = previous?.kind === 'one_time' ? previous : undefined;
  const start =
    raw.start === undefined
      ? (prev?.start ?? now)
      : raw.start === null
        ? now
        : instant('schedule.start', raw.start);
  const end =
    raw.end === undefined ? (prev?.end ?? null) : raw.end === null ? null : instant('schedule.end', raw.end);
  if (end !== null && end <= start)
    throw new DowntimeValidationError([problem('schedule.end', 'the end must be after the start')]);
  return { kind: 'one_time', start, end } satisfies DowntimeSchedule;
}

function checkScope(scope: string): void {
  try {
    parseQuery(scope);
  } catch (err) {
    throw new DowntimeValidationError([problem('scope', (err as Error).message)]);
  }
}

function zodProblems(err: z.ZodError): DowntimeValidationError {
  return new DowntimeValidationError(
    err.issues.map((i) => problem(i.path.join('.') || 'attributes', i.message)),
  );
}

/** A new downtime from the `attributes` of a create request. */
export function parseDowntimeCreate(body: unknown, now: number): Downtime {
  const r = attributes.safeParse(body);
  if (!r.success) throw zodProblems(r.error);
  const a = r.data;
  checkScope(a.scope);
  const tz = a.display_timezone ?? 'UTC';
  try {
    checkTimeZone(tz);
  } catch (err) {
    throw new DowntimeValidationError([problem('display_timezone', (err as Error).message)]);
  }
  return {
    id: randomUUID(),
    scope: a.scope,
    monitor_identifier: a.monitor_identifier,
    schedule: parseSchedule(a.schedule, now),
    message: a.message ?? null,
    display_timezone: tz,
    mute_first_recovery_notification: a.mute_first_recovery_notification ?? false,
    notify_end_states: a.notify_end_states ?? ['alert', 'no data', 'warn'],
    notify_end_types: a.notify_end_types ?? ['expired'],
    created_at: now,
    modified_at: now,
    canceled_at: null,
    ended_through: null,
    notified: { scheduled: false, started: null },
  };
}

/** A downtime changed by the `attributes` of an update request (only the attributes given change). */
export function parseDowntimeUpdate(current: Downtime, body: unknown, now: number): Downtime {
  const r = attributes.partial().safeParse(body ?? {});
  if (!r.success) throw zodProblems(r.error);
  const a = r.data;
  if (a.scope !== undefined) checkScope(a.scope);
  if (a.display_timezone) {
    try {
      checkTimeZone(a.display_timezone);
    } catch (err) {
      throw new DowntimeValidationError([problem('display_timezone', (err as Error).message)]);
    }
  }
  const next: Downtime = {
    ...current,
    scope: a.scope ?? current.scope,
    monitor_identifier: a.monitor_identifier ?? current.monitor_identifier,
    schedule: a.schedule === undefined ? current.schedule : parseSchedule(a.schedule, now, current.schedule),
    message: a.message === undefined ? current.message : a.message,
    display_timezone: a.display_timezone ?? current.display_timezone,
    mute_first_recovery_notification:
      a.mute_first_recovery_notification ?? current.mute_first_recovery_notification,
    notify_end_states: a.notify_end_states ?? current.notify_end_states,
    notify_end_types: a.notify_end_types ?? current.notify_end_types,
    modified_at: now,
  };
  // A changed schedule starts afresh: windows that ended before now are not "ended" by this change.
  if (a.schedule !== undefined) next.ended_through = now;
  return next;
}

// ---- schedule ---------------------------------------------------------------------------------------------

/**
 * The first active window of a schedule whose end is after `after` (the window holding `after` when there is
 * one); null when the schedule has no window left. Open-ended one-time downtimes end at +Infinity.
 */
export function nextWindow(s: DowntimeSchedule, after: number): { start: number; end: number } | null {
  if (s.kind === 'one_time') {
    const end = s.end ?? Number.POSITIVE_INFINITY;
    return end > after ? { start: s.start, end } : null;
  }
  let best: { start: number; end: number } | null = null;
  for (const r of s.recurrences) {
    const w = nextOccurrence(
      parseRRule(r.rrule),
      parseWall(r.start),
      s.timezone,
      parseRecurrenceDuration(r.duration),
      after,
    );
    if (w && (!best || w.start < best.start)) best = w;
  }
  return best;
}

/** The window active at `at`, if any. */
export function activeWindow(d: Downtime, at: number): { start: number; end: number } | null {
  if (d.canceled_at !== null && d.canceled_at <= at) return null;
  const w = nextWindow(d.schedule, at);
  return w && w.start <= at ? w : null;
}

/** Datadog keeps a canceled downtime "for approximately two days before being permanently removed". */
export const CANCELED_KEPT_MS = 2 * 86_400_000;

/** Whether the API no longer shows a downtime at `at` (canceled more than two days before). */
export function isRemoved(d: Downtime, at: number): boolean {
  return d.canceled_at !== null && at - d.canceled_at > CANCELED_KEPT_MS;
}

export function downtimeStatus(d: Downtime, at: number): DowntimeStatus {
  if (d.canceled_at !== null) return 'canceled';
  const w = nextWindow(d.schedule, at);
  if (!w) return 'ended';
  return w.start <= at ? 'active' : 'scheduled';
}

// ---- which groups ---------------------------------------------------------------------------------------

/** The monitor fields a downtime looks at. */
export interface MonitorRef {
  id: number;
  tags: string[];
}

export function coversMonitor(d: Downtime, m: MonitorRef): boolean {
  const id = d.monitor_identifier;
  if ('monitor_id' in id) return id.monitor_id === m.id;
  if (id.monitor_tags.includes('*')) return true;
  const tags = new Set(m.tags.map((t) => t.toLowerCase()));
  return id.monitor_tags.every((t) => tags.has(t.toLowerCase()));
}

/** What muting decided for one transition. */
export interface Muting {
  muted: boolean;
  /** the covering downtime (the first one, by id order of the list), null when none covers the group */
  downtime_id: string | null;
}

/**
 * Whether a transition of a monitor group at `at` is muted by the downtimes. `transition` (name and the
 * episode's first triggered time) decides the first-recovery exception; without it, any covered transition
 * is muted.
 */
export function isMuted(
  downtimes: readonly Downtime[],
  monitor: MonitorRef,
  group: ScopeTarget,
  at: number,
  transition?: { name: string; firstTriggeredAt: number | null },
): Muting {
  const covering: { d: Downtime; start: number }[] = [];
  for (const d of downtimes) {
    if (!coversMonitor(d, monitor) || !scopeMatches(d.scope, group)) continue;
    const w = activeWindow(d, at);
    if (w) covering.push({ d, start: w.start });
  }
  if (covering.length === 0) return { muted: false, downtime_id: null };
  const first = covering[0]!.d.id;
  if (
    transition?.name === 'Recovered' &&
    transition.firstTriggeredAt !== null &&
    covering.every((c) => transition.firstTriggeredAt! < c.start && !c.d.mute_first_recovery_notification)
  )
    return { muted: false, downtime_id: first };
  return { muted: true, downtime_id: first };
}

/** One entry of a monitor's `matching_downtimes` (Datadog's `MatchingDowntime`, times in POSIX seconds). */
export interface MatchingDowntime {
  /** int64 as the v1 shape requires: the first 52 bits of the v2 id (`legacyDowntimeId`) */
  id: number;
  /** the v2 id of /api/v2/downtime */
  downtime_id: string;
  start: number;
  /** null: until canceled */
  end: number | null;
  scope: string[];
  status: 'active' | 'scheduled';
  monitor_id: number | null;
}

/**
 * The int64 id the v1 shapes need for a v2 downtime (a UUID): its first 13 hex digits, a stable safe
 * integer. Not a UUID: a hash of the id, equally stable.
 */
export function legacyDowntimeId(id: string): number {
  const hex = id.replace(/-/g, '');
  if (/^[0-9a-f]{13}/i.test(hex)) return Number.parseInt(hex.slice(0, 13), 16);
  let h = 0;
  for (const ch of id) h = (h * 31 + (ch.codePointAt(0) as number)) % 2 ** 52;
  return h;
}

/** A downtime that matches a monitor, with its current (active) or next window, in epoch ms. */
export interface DowntimeMatch {
  downtime: Downtime;
  start: number;
  /** +Infinity: until canceled */
  end: number;
  active: boolean;
}

/**
 * The downtimes that match a monitor grouped by `groupBy` (its `.by()` facets): active and scheduled (not
 * ended, not canceled) ones whose `monitor_identifier` covers it and whose scope can cover one of its groups,
 * existing or to come (scopeCanMatch: `env:staging` never covers a monitor that is not grouped by `env`),
 * active first, then by start.
 */
export function downtimeMatches(
  list: readonly Downtime[],
  m: MonitorRef,
  groupBy: readonly string[],
  now: number,
): DowntimeMatch[] {
  const out: DowntimeMatch[] = [];
  for (const d of list) {
    if (d.canceled_at !== null || !coversMonitor(d, m) || !scopeCanMatch(d.scope, groupBy)) continue;
    const w = nextWindow(d.schedule, now);
    if (w) out.push({ downtime: d, start: w.start, end: w.end, active: w.start <= now });
  }
  return out.sort((a, b) => Number(b.active) - Number(a.active) || a.start - b.start);
}

/** A monitor's `matching_downtimes` (v1 `MatchingDowntime`): downtimeMatches, times in POSIX seconds. */
export function matchingDowntimes(
  list: readonly Downtime[],
  m: MonitorRef,
  groupBy: readonly string[],
  now: number,
): MatchingDowntime[] {
  return downtimeMatches(list, m, groupBy, now).map(({ downtime: d, start, end, active }) => {
    const id = d.monitor_identifier;
    return {
      id: legacyDowntimeId(d.id),
      downtime_id: d.id,
      start: Math.floor(start / 1000),
      end: Number.isFinite(end) ? Math.floor(end / 1000) : null,
      scope: [d.scope],
      status: active ? 'active' : 'scheduled',
      monitor_id: 'monitor_id' in id ? id.monitor_id : null,
    };
  });
}
