// Recurrence rules of recurring downtimes (RFC 5545 RRULE, the subset Datadog's downtime API takes: no DTSTART,
// DTEND or DURATION inside the rule; the start and duration come with the recurrence). Hand-written rather than
// the `rrule` package: Flowwatch needs occurrences in an IANA time zone (wall-clock start, DST-aware), which
// that package leaves to the caller, and only a few dozen lines of expansion.
//
// Supported: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY, INTERVAL, COUNT, UNTIL (YYYYMMDD, YYYYMMDDTHHMMSS in the time
// zone, or ...Z in UTC), BYDAY (MO..SU; with an ordinal such as 1MO or -1FR for MONTHLY, and for YEARLY with
// BYMONTH, where the ordinal counts within the month), BYMONTHDAY (negative counts from the month's end),
// BYMONTH, BYSETPOS (MONTHLY and YEARLY), WKST. Rejected with a message: other FREQs, BYHOUR/BYMINUTE/
// BYSECOND/BYWEEKNO/BYYEARDAY, DTSTART/DTEND/DURATION. Occurrences start at the wall-clock time of the
// recurrence's start in its time zone (a time skipped by a DST change moves forward by the gap); only the
// instances matching the rule count (as the rrule and dateutil libraries do: the start itself is not an
// occurrence unless it matches).

/** A wall-clock date and time, in some time zone. */
export interface Wall {
  y: number;
  mo: number; // 1..12
  d: number;
  h: number;
  mi: number;
  s: number;
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
const FREQS = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const;

export interface RRule {
  freq: (typeof FREQS)[number];
  interval: number;
  count: number | null;
  /** UNTIL: a UTC instant, or a wall-clock time to resolve in the recurrence's time zone */
  until: { utc: number } | { wall: Wall } | null;
  /** weekday 0 = Monday; nth 0 = every such weekday of the period */
  byDay: { weekday: number; nth: number }[];
  byMonthDay: number[];
  byMonth: number[];
  bySetPos: number[];
  /** week start, 0 = Monday */
  wkst: number;
}

export class RRuleError extends Error {}

const intList = (part: string, v: string, min: number, max: number, zero = false) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!/^[+-]?\d+$/.test(x) || Math.abs(n) < min || Math.abs(n) > max || (!zero && n === 0))
      throw new RRuleError(`${part}: "${x}" is not a valid value`);
    return n;
  });

/** Parses an RRULE (`FREQ=WEEKLY;BYDAY=MO,TU`, optionally prefixed `RRULE:`). */
export function parseRRule(src: string): RRule {
  const text = src.trim().replace(/^RRULE:/i, '');
  if (!text) throw new RRuleError('the rule is empty: expected FREQ=DAILY, WEEKLY, MONTHLY or YEARLY');
  const r: RRule = {
    freq: 'DAILY',
    interval: 1,
    count: null,
    until: null,
    byDay: [],
    byMonthDay: [],
    byMonth: [],
    bySetPos: [],
    wkst: 0,
  };
  let freq: string | undefined;
  const seen = new Set<string>();
  for (const item of text.split(';')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw new RRuleError(`"${item}" is not NAME=VALUE`);
    const name = item.slice(0, eq).toUpperCase();
    const v = item.slice(eq + 1).toUpperCase();
    if (seen.has(name)) throw new RRuleError(`${name} is given twice`);
    seen.add(name);
    switch (name) {
      case 'FREQ':
        freq = v;
        break;
      case 'INTERVAL':
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000)
          throw new RRuleError(`INTERVAL must be an integer from 1 to 1000, got "${v}"`);
        r.interval = Number(v);
        break;
      case 'COUNT':
        if (!/^\d+$/.test(v) || Number(v) < 1)
          throw new RRuleError(`COUNT must be a positive integer, got "${v}"`);
        r.count = Number(v);
        break;
      case 'UNTIL': {
        const m = /^(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)(Z)?)?$/.exec(v);
        if (!m) throw new RRuleError(`UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSS[Z], got "${v}"`);
        const wall = {
          y: Number(m[1]),
          mo: Number(m[2]),
          d: Number(m[3]),
          h: Number(m[4] ?? 23),
          mi: Number(m[5] ?? 59),
          s: Number(m[6] ?? 59),
        };
        r.until = m[7] ? { utc: Date.UTC(wall.y, wall.mo - 1, wall.d, wall.h, wall.mi, wall.s) } : { wall };
        break;
      }
      case 'BYDAY':
        r.byDay = v.split(',').map((x) => {
          const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(x);
          const nth = m?.[1] ? Number(m[1]) : 0;
          if (!m || Math.abs(nth) > 53 || (m[1] && nth === 0))
            throw new RRuleError(
              `BYDAY: "${x}" is not a weekday (MO..SU, optionally with an ordinal like 1MO or -1FR)`,
            );
          return { weekday: WEEKDAYS.indexOf(m[2] as (typeof WEEKDAYS)[number]), nth };
        });
        break;
      case 'BYMONTHDAY':
        r.byMonthDay = intList(name, v, 1, 31);
        break;
      case 'BYMONTH':
        r.byMonth = intList(name, v, 1, 12).map((n) => {
          if (n < 0) throw new RRuleError(`BYMONTH: "${n}" is not a month (1 to 12)`);
          return n;
        });
        break;
      case 'BYSETPOS':
        r.bySetPos = intList(name, v, 1, 366);
        break;
      case 'WKST': {
        const i = WEEKDAYS.indexOf(v as (typeof WEEKDAYS)[number]);
        if (i < 0) throw new RRuleError(`WKST must be a weekday (MO..SU), got "${v}"`);
        r.wkst = i;
        break;
      }
      case 'DTSTART':
      case 'DTEND':
      case 'DURATION':
        throw new RRuleError(
          `${name} is not allowed in the rule: give the recurrence's start and duration instead`,
        );
      default:
        throw new RRuleError(
          `${name} is not supported (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST are)`,
        );
    }
  }
  if (!freq) throw new RRuleError('FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)');
  if (!(FREQS as readonly string[]).includes(freq))
    throw new RRuleError(`FREQ=${freq} is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY`);
  r.freq = freq as RRule['freq'];
  if (r.count !== null && r.until !== null) throw new RRuleError('COUNT and UNTIL cannot both be given');
  if (r.bySetPos.length > 0 && r.freq !== 'MONTHLY' && r.freq !== 'YEARLY')
    throw new RRuleError('BYSETPOS is supported with FREQ=MONTHLY or YEARLY');
  if (r.byDay.some((b) => b.nth !== 0) && r.freq !== 'MONTHLY' && !(r.freq === 'YEARLY' && r.byMonth.length))
    throw new RRuleError('BYDAY with an ordinal (like 1MO) needs FREQ=MONTHLY, or FREQ=YEARLY with BYMONTH');
  if (r.freq === 'YEARLY' && r.byDay.length > 0 && r.byMonth.length === 0)
    throw new RRuleError('BYDAY with FREQ=YEARLY needs BYMONTH');
  return r;
}

// ---- time zones -----------------------------------------------------------------------------------------

const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when it is not an IANA time zone. */
export function checkTimeZone(tz: string): void {
  try {
    format(tz);
  } catch {
    throw new RangeError(`"${tz}" is not a time zone (use an IANA name like UTC or Europe/Paris)`);
  }
}

/** The wall clock in `tz` at an instant. */
export function wallAt(ms: number, tz: string): Wall {
  const p: Record<string, number> = {};
  for (const x of format(tz).formatToParts(new Date(ms)))
    if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

const wallMs = (w: Wall) => Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);

/** The instant of a wall-clock time in `tz` (a time in a DST gap moves forward by the gap). */
export function zonedToUtc(w: Wall, tz: string): number {
  const local = wallMs(w);
  const offsetAt = (t: number) => wallMs(wallAt(t, tz)) - Math.floor(t / 1000) * 1000;
  const o1 = offsetAt(local);
  let t = local - o1;
  const o2 = offsetAt(t);
  if (o2 !== o1) t = local - o2;
  return t;
}

// ---- expansion ------------------------------------------------------------------------------------------

const DAY = 86_400_000;
const dayNumber = (y: number, mo: number, d: number) => Math.floor(Date.UTC(y, mo - 1, d) / DAY);
/** 0 = Monday (1970-01-01, day 0, was a Thursday) */
const weekdayOf = (day: number) => (((day + 3) % 7) + 7) % 7;
const daysInMonth = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();
function fromDay(day: number): { y: number; mo: number; d: number } {
  const dt = new Date(day * DAY);
  return { y: dt.getUTCFullYear(), mo: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

/** The days of one month matching BYMONTHDAY/BYDAY (or the start's day of month), ascending. */
function monthDays(r: RRule, y: number, mo: number, startDom: number): number[] {
  const n = daysInMonth(y, mo);
  const first = dayNumber(y, mo, 1);
  const all = Array.from({ length: n }, (_, i) => first + i);
  let days: number[];
  if (r.byMonthDay.length === 0 && r.byDay.length === 0) {
    days = startDom <= n ? [first + startDom - 1] : [];
  } else {
    days = all;
    if (r.byMonthDay.length > 0) {
      const wanted = new Set(r.byMonthDay.map((x) => (x > 0 ? x : n + x + 1)));
      days = days.filter((d) => wanted.has(d - first + 1));
    }
    if (r.byDay.length > 0) {
      const ok = new Set<number>();
      for (const b of r.byDay) {
        const same = all.filter((d) => weekdayOf(d) === b.weekday);
        if (b.nth === 0) for (const d of same) ok.add(d);
        else {
          const d = b.nth > 0 ? same[b.nth - 1] : same[same.length + b.nth];
          if (d !== undefined) ok.add(d);
        }
      }
      days = days.filter((d) => ok.has(d));
    }
  }
  return days;
}

function setPos(r: RRule, days: number[]): number[] {
  if (r.bySetPos.length === 0) return days;
  const out = new Set<number>();
  for (const p of r.bySetPos) {
    const d = p > 0 ? days[p - 1] : days[days.length + p];
    if (d !== undefined) out.add(d);
  }
  return [...out].sort((a, b) => a - b);
}

/** The candidate days of period `k` (the k-th day, week, month or year from the start), ascending. */
function periodDays(r: RRule, start: Wall, k: number): number[] {
  const startDay = dayNumber(start.y, start.mo, start.d);
  const inMonths = (d: number) => r.byMonth.length === 0 || r.byMonth.includes(fromDay(d).mo);
  switch (r.freq) {
    case 'DAILY': {
      const d = startDay + k * r.interval;
      const dom = fromDay(d);
      if (!inMonths(d)) return [];
      if (r.byMonthDay.length) {
        const n = daysInMonth(dom.y, dom.mo);
        if (!r.byMonthDay.some((x) => (x > 0 ? x : n + x + 1) === dom.d)) return [];
      }
      if (r.byDay.length && !r.byDay.some((b) => b.weekday === weekdayOf(d))) return [];
      return [d];
    }
    case 'WEEKLY': {
      const weekStart = startDay - ((weekdayOf(startDay) - r.wkst + 7) % 7) + k * r.interval * 7;
      const wanted = r.byDay.length ? r.byDay.map((b) => b.weekday) : [weekdayOf(startDay)];
      const days: number[] = [];
      for (let i = 0; i < 7; i++) {
        const d = weekStart + i;
        if (wanted.includes(weekdayOf(d)) && inMonths(d)) days.push(d);
      }
      return days;
    }
    case 'MONTHLY': {
      const m0 = start.y * 12 + (start.mo - 1) + k * r.interval;
      const y = Math.floor(m0 / 12);
      const mo = (m0 % 12) + 1;
      if (r.byMonth.length && !r.byMonth.includes(mo)) return [];
      return setPos(r, monthDays(r, y, mo, start.d));
    }
    case 'YEARLY': {
      const y = start.y + k * r.interval;
      const months = r.byMonth.length ? [...r.byMonth].sort((a, b) => a - b) : [start.mo];
      return setPos(
        r,
        months.flatMap((mo) => monthDays(r, y, mo, start.d)),
      );
    }
  }
}

/** A period index from which to start looking for occurrences ending after `after` (no COUNT: skipping is safe). */
function firstPeriod(r: RRule, start: Wall, after: number, durationMs: number): number {
  if (r.count !== null) return 0;
  const from = fromDay(Math.floor((after - durationMs) / DAY) - 2);
  const startDay = dayNumber(start.y, start.mo, start.d);
  let k: number;
  switch (r.freq) {
    case 'DAILY':
      k = Math.floor((dayNumber(from.y, from.mo, from.d) - startDay) / r.interval);
      break;
    case 'WEEKLY':
      k = Math.floor((dayNumber(from.y, from.mo, from.d) - startDay) / (7 * r.interval)) - 1;
      break;
    case 'MONTHLY':
      k = Math.floor((from.y * 12 + from.mo - (start.y * 12 + start.mo)) / r.interval) - 1;
      break;
    case 'YEARLY':
      k = Math.floor((from.y - start.y) / r.interval) - 1;
      break;
  }
  return Math.max(0, k);
}

/** Periods looked at before giving up on a rule that matches nothing more (e.g. BYMONTHDAY=30;BYMONTH=2). */
const MAX_EMPTY_PERIODS = 5000;

/**
 * The occurrence starts (epoch ms, ascending) of a rule from a wall-clock start in `tz`, beginning at period
 * `fromPeriod` (0 = the start's own period).
 */
export function* occurrences(r: RRule, start: Wall, tz: string, fromPeriod = 0): Generator<number> {
  const startMs = zonedToUtc(start, tz);
  const until =
    r.until === null
      ? Number.POSITIVE_INFINITY
      : 'utc' in r.until
        ? r.until.utc
        : zonedToUtc(r.until.wall, tz);
  let count = 0;
  let empty = 0;
  for (let k = fromPeriod; ; k++) {
    const days = periodDays(r, start, k);
    if (days.length === 0 && ++empty > MAX_EMPTY_PERIODS) return;
    for (const day of days) {
      const { y, mo, d } = fromDay(day);
      const t = zonedToUtc({ y, mo, d, h: start.h, mi: start.mi, s: start.s }, tz);
      if (t < startMs) continue;
      if (t > until) return;
      empty = 0;
      yield t;
      if (r.count !== null && ++count >= r.count) return;
    }
  }
}

/** The first occurrence window `[start, end)` of a recurrence whose end is after `after`; null when none is left. */
export function nextOccurrence(
  r: RRule,
  start: Wall,
  tz: string,
  durationMs: number,
  after: number,
): { start: number; end: number } | null {
  for (const t of occurrences(r, start, tz, firstPeriod(r, start, after, durationMs))) {
    if (t + durationMs > after) return { start: t, end: t + durationMs };
  }
  return null;
}

/** A recurrence duration: an integer and m, h, d or w (`90m`, `1h`, `2d`, `1w`). */
export function parseRecurrenceDuration(s: string): number {
  const m = /^(\d+)([mhdw])$/.exec(s);
  const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY }[m[2] as 'm'] : 0;
  if (!(ms > 0))
    throw new RRuleError(`duration "${s}" must be an integer and m, h, d or w, like "1h" or "2d"`);
  return ms;
}

/** `2026-03-01T02:00` or `2026-03-01T02:00:00` (no offset: a wall-clock time in the downtime's time zone). */
export function parseWall(s: string): Wall {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(s);
  const w = m
    ? {
        y: Number(m[1]),
        mo: Number(m[2]),
        d: Number(m[3]),
        h: Number(m[4]),
        mi: Number(m[5]),
        s: Number(m[6] ?? 0),
      }
    : undefined;
  if (
    !w ||
    w.mo < 1 ||
    w.mo > 12 ||
    w.d < 1 ||
    w.d > daysInMonth(w.y, w.mo) ||
    w.h > 23 ||
    w.mi > 59 ||
    w.s > 59
  )
    throw new RRuleError(`start "${s}" must be a date and time without offset, like 2026-03-01T02:00`);
  return w;
}

/** `2026-03-01T02:00:00` */
export function formatWall(w: Wall): string {
  const p = (n: number, l = 2) => String(n).padStart(l, '0');
  return `${p(w.y, 4)}-${p(w.mo)}-${p(w.d)}T${p(w.h)}:${p(w.mi)}:${p(w.s)}`;
}
