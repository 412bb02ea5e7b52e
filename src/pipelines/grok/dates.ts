// The grok `date("pattern"[, "timezone"[, "locale"]])` matcher: Java/Joda-style date patterns (yyyy-MM-dd
// HH:mm:ss.SSSZ, dd/MMM/yyyy:HH:mm:ss Z, EEE MMM d HH:mm:ss yyyy, hh:mm:ss a, ...) compiled to a regex
// fragment for the rule and a parser to epoch milliseconds. English month and day names only.
// A pattern without a year takes the year of the processing time; one without any date part is on 1970-01-01
// (as Datadog documents: "14:20:15" with "HH:mm:ss" is 51615000).

/** Thrown at compile time for a pattern, time zone or locale that cannot be used. */
export class DatePatternError extends Error {}

type Field = 'year' | 'month' | 'monthName' | 'day' | 'hour' | 'hour12' | 'hour24' | 'hour11' | 'minute';
type Kind = Field | 'second' | 'fraction' | 'ampm' | 'dayName' | 'zoneName' | 'offset';

interface Part {
  kind: Kind;
  count: number;
}

/** A compiled date pattern. */
export interface DateParser {
  /** regex fragment (no capturing groups) matching a date in this pattern */
  source: string;
  /** epoch ms of a matched text, undefined when it is not a valid date */
  parse(text: string, now: number): number | undefined;
}

const LETTERS: Record<string, Kind> = {
  y: 'year',
  u: 'year',
  Y: 'year',
  M: 'month',
  L: 'month',
  d: 'day',
  H: 'hour',
  k: 'hour24',
  h: 'hour12',
  K: 'hour11',
  m: 'minute',
  s: 'second',
  S: 'fraction',
  a: 'ampm',
  E: 'dayName',
  z: 'zoneName',
  Z: 'offset',
  X: 'offset',
  x: 'offset',
};

const NUMERIC = new Set<Kind>([
  'year',
  'month',
  'day',
  'hour',
  'hour24',
  'hour12',
  'hour11',
  'minute',
  'second',
  'fraction',
]);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_FULL = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** Common zone abbreviations (the `z` letter), offsets in minutes. */
const ABBREVIATIONS: Record<string, number> = {
  UTC: 0,
  GMT: 0,
  UT: 0,
  Z: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  CET: 60,
  CEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  IST: 330,
  SGT: 480,
  HKT: 480,
  JST: 540,
  KST: 540,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
  HST: -600,
  AKST: -540,
  AKDT: -480,
  PST: -480,
  PDT: -420,
  MST: -420,
  MDT: -360,
  CST: -360,
  CDT: -300,
  EST: -300,
  EDT: -240,
  AST: -240,
  ADT: -180,
  NST: -210,
  NDT: -150,
};

/** A time zone: a fixed offset in minutes, or an IANA zone. */
export type Zone = { fixed: number } | { iana: string };

/** Parses a Datadog time zone argument: UTC/GMT/UT/Z, ±h[h[[:]mm[[:]ss]]], UTC±..., GMT±..., UT±..., or a TZ name. */
export function parseZone(text: string): Zone | undefined {
  const t = text.trim();
  if (/^(?:UTC|GMT|UT|Z)$/i.test(t)) return { fixed: 0 };
  const m = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2})(?::?(\d{2}))?)?$/i.exec(t);
  if (m) {
    const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
    if (minutes > 18 * 60) return undefined;
    return { fixed: m[1] === '-' ? -minutes : minutes };
  }
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(t)) return undefined;
  try {
    return { iana: new Intl.DateTimeFormat('en-US', { timeZone: t }).resolvedOptions().timeZone };
  } catch {
    return undefined;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of an IANA zone at an instant, in minutes. */
function ianaOffset(zone: string, utc: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(utc)) if (x.type !== 'literal') p[x.type] = Number(x.value);
  const wall = Date.UTC(
    p.year ?? 1970,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return Math.round((wall - (utc - (((utc % 1000) + 1000) % 1000))) / 60_000);
}

/** Epoch ms of a wall-clock time (expressed as if UTC) in a zone. */
export function wallToUtc(wall: number, zone: Zone): number {
  if ('fixed' in zone) return wall - zone.fixed * 60_000;
  const guess = wall - ianaOffset(zone.iana, wall) * 60_000;
  return wall - ianaOffset(zone.iana, guess) * 60_000;
}

function tokenize(pattern: string): (Part | string)[] {
  const out: (Part | string)[] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] as string;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new DatePatternError(`unterminated quote in date pattern "${pattern}"`);
      out.push(end === i + 1 ? "'" : pattern.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      const kind = LETTERS[c];
      if (!kind) throw new DatePatternError(`unsupported letter "${c}" in date pattern "${pattern}"`);
      const count = j - i;
      out.push({ kind: kind === 'month' && count >= 3 ? 'monthName' : kind, count });
      i = j;
      continue;
    }
    out.push(c);
    i++;
  }
  return out;
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function partSource(p: Part, fixed: boolean): string {
  switch (p.kind) {
    case 'year':
      return p.count === 2 ? '\\d{2}' : p.count === 4 || fixed ? `\\d{${Math.max(p.count, 4)}}` : '\\d{1,4}';
    case 'fraction':
      return fixed ? `\\d{${p.count}}` : '\\d{1,9}';
    case 'monthName':
      return p.count === 3 ? '[A-Za-z]{3}' : '[A-Za-z]{3,9}';
    case 'dayName':
      return p.count <= 3 ? '[A-Za-z]{3}' : '[A-Za-z]{3,9}';
    case 'ampm':
      return '[AaPp]\\.?[Mm]\\.?';
    case 'zoneName':
      return '[A-Za-z]+(?:/[A-Za-z_]+)*(?:[+-]\\d{1,2}(?::?\\d{2})?)?';
    case 'offset':
      return 'Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2})?)?';
    default:
      return fixed ? '\\d{2}' : '\\d{1,2}';
  }
}

/** Compiles a date pattern; `timezone` applies to dates without an offset in the text. */
export function compileDate(pattern: string, timezone?: string, locale?: string): DateParser {
  if (pattern.length === 0) throw new DatePatternError('empty date pattern');
  if (locale !== undefined && !/^en(?:[-_].*)?$/i.test(locale))
    throw new DatePatternError(`locale "${locale}" is not supported (English names only)`);
  let zone: Zone = { fixed: 0 };
  if (timezone !== undefined) {
    const z = parseZone(timezone);
    if (!z) throw new DatePatternError(`unknown time zone "${timezone}"`);
    zone = z;
  }
  const tokens = tokenize(pattern);
  const parts: Part[] = [];
  let source = '';
  tokens.forEach((t, i) => {
    if (typeof t === 'string') {
      source += escapeRegex(t);
      return;
    }
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    const adjacent =
      NUMERIC.has(t.kind) &&
      ((next !== undefined && typeof next !== 'string' && NUMERIC.has(next.kind)) ||
        (prev !== undefined && typeof prev !== 'string' && NUMERIC.has(prev.kind)));
    source += `(${partSource(t, adjacent)})`;
    parts.push(t);
  });
  const whole = new RegExp(`^${source}$`);
  return {
    source: source.replace(/\((?!\?)/g, '(?:'),
    parse(text, now) {
      const m = whole.exec(text);
      if (!m) return undefined;
      return toEpoch(
        parts,
        m.slice(1).map((x) => x ?? ''),
        zone,
        now,
      );
    },
  };
}

interface Fields {
  year?: number;
  month?: number;
  day?: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  pm?: boolean;
  twelve: boolean;
  zone?: Zone;
}

/** Upper bounds of the numeric fields (hour24 and hour12 start at 1). */
const RANGES: Partial<Record<Kind, [number, number]>> = {
  hour: [0, 23],
  hour24: [1, 24],
  hour12: [1, 12],
  hour11: [0, 11],
  minute: [0, 59],
  second: [0, 59],
};

/** Applies one pattern letter's text to the fields; false when the text is not a valid value. */
function apply(f: Fields, p: Part, v: string): boolean {
  const n = Number(v);
  const range = RANGES[p.kind];
  if (range && (n < range[0] || n > range[1])) return false;
  switch (p.kind) {
    case 'year':
      f.year = p.count === 2 ? 2000 + n : n;
      return true;
    case 'month':
      f.month = n;
      return true;
    case 'monthName': {
      const idx = (v.length === 3 ? MONTHS : MONTH_FULL).indexOf(v.toLowerCase());
      f.month = idx + 1;
      return idx >= 0;
    }
    case 'day':
      f.day = n;
      return true;
    case 'hour':
    case 'hour24':
      f.hour = n % 24;
      return true;
    case 'hour12':
    case 'hour11':
      f.hour = n % 12;
      f.twelve = true;
      return true;
    case 'minute':
      f.minute = n;
      return true;
    case 'second':
      f.second = n;
      return true;
    case 'fraction':
      f.ms = Math.floor(Number(`0.${v}`) * 1000 + 1e-6);
      return true;
    case 'ampm':
      f.pm = v[0] === 'p' || v[0] === 'P';
      return true;
    case 'zoneName': {
      const abbr = ABBREVIATIONS[v.toUpperCase()];
      f.zone = abbr !== undefined ? { fixed: abbr } : parseZone(v);
      return f.zone !== undefined;
    }
    case 'offset':
      f.zone = parseZone(v);
      return f.zone !== undefined;
    default:
      return true; // day names are not checked
  }
}

function toEpoch(parts: Part[], values: string[], defaultZone: Zone, now: number): number | undefined {
  const f: Fields = { hour: 0, minute: 0, second: 0, ms: 0, twelve: false };
  for (let i = 0; i < parts.length; i++)
    if (!apply(f, parts[i] as Part, values[i] as string)) return undefined;
  const hour = f.twelve && f.pm ? f.hour + 12 : f.hour;
  const year =
    f.year ?? (f.month === undefined && f.day === undefined ? 1970 : new Date(now).getUTCFullYear());
  const month = f.month ?? 1;
  const day = f.day ?? 1;
  if (month < 1 || month > 12 || day < 1) return undefined;
  const date = new Date(Date.UTC(2000, month - 1, day, hour, f.minute, f.second, f.ms));
  date.setUTCFullYear(year, month - 1, day); // years below 100 are not 19xx
  if (date.getUTCDate() !== day) return undefined;
  return wallToUtc(date.getTime(), f.zone ?? defaultZone);
}
