// Intake preprocessing (datadog-compat.md §1.7): one received item + request defaults → a LogEvent.
// Pure: the clock and policy are passed in; nothing here does I/O.
import { parseDate } from '../domain/dates.ts';
import type { Json, LogEvent, Status } from '../domain/log-event.ts';
import { statusFromValue } from '../domain/status.ts';
import { elsDedupKey, isElsEvent } from '../okta/els.ts';
import {
  LIMITS,
  limitAttributes,
  limitTags,
  parseTags,
  safeStringify,
  setOwn,
  type TrimReport,
  truncateUtf8,
} from './limits.ts';

/** Defaults from the request's query parameters, applied to every log of the request. */
export interface RequestDefaults {
  ddsource?: string;
  ddtags?: string;
  service?: string;
  host?: string;
}

/** Clock and policy for preprocessing. */
export interface NormalizeContext {
  now: number;
  outOfWindow: 'keep' | 'drop';
  /** whether any single log may exceed the 1 MB limit (false when the whole body is smaller) */
  checkSize: boolean;
}

/** What happened to one item, for metrics. */
export interface NormalizeNotes {
  trimmed: TrimReport;
  truncated: boolean;
  outOfWindow?: 'past' | 'future';
  dropped: boolean;
}

/** Datadog accepts dates up to 18 h in the past and 2 h in the future. */
const PAST_MS = 18 * 3_600_000;
const FUTURE_MS = 2 * 3_600_000;

const DATE_ATTRS = [
  '@timestamp',
  'timestamp',
  '_timestamp',
  'Timestamp',
  'eventTime',
  'date',
  'published_date',
];
const STATUS_ATTRS = ['status', 'severity', 'level'];
const MESSAGE_ATTRS = ['message', 'msg', 'log'];
const INTAKE_KEYS = new Set(['ddsource', 'ddtags', 'hostname', 'service', 'message']);

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Reads a dotted path, either nested (`{dd:{trace_id}}`) or flattened (`{"dd.trace_id"}`). */
const SPLIT = new Map<string, string[]>();

function getPath(attrs: Record<string, Json>, path: string): Json | undefined {
  if (path in attrs) return attrs[path];
  let parts = SPLIT.get(path);
  if (!parts) {
    parts = path.split('.');
    if (parts.length === 1) return undefined;
    SPLIT.set(path, parts);
  }
  let cur: Json | undefined = attrs;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, Json>)[part];
  }
  return cur;
}

/** Decodes an ELS-style `message`: a JSON object, or a string holding one. */
function embeddedObject(message: unknown): Record<string, Json> | undefined {
  if (message !== null && typeof message === 'object' && !Array.isArray(message))
    return message as Record<string, Json>;
  if (typeof message !== 'string') return undefined;
  const t = message.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits an item into attributes and message, merging an embedded (ELS) JSON event. */
function unpack(item: Record<string, Json>): {
  attrs: Record<string, Json>;
  message: string;
  raw: string | null;
} {
  const attrs: Record<string, Json> = {};
  for (const [k, v] of Object.entries(item)) if (!INTAKE_KEYS.has(k)) setOwn(attrs, k, v);
  const embedded = embeddedObject(item.message);
  if (!embedded) {
    const m = item.message;
    return {
      attrs,
      message: m === undefined || m === null ? '' : typeof m === 'string' ? m : safeStringify(m),
      raw: null,
    };
  }
  // Keys of the embedded event win over other top-level extras; the intake keys (ddsource, ddtags,
  // hostname, service) are read from the top level first (officialFields), so they win over embedded ones.
  // Every key of the event lands in the attributes, so the event stays whole there; the text as received is
  // kept as well only when the merge overwrote a top-level key (limits add it too, in normalize).
  let conflict = false;
  let merged = embedded;
  for (const _k in attrs) {
    // Only when there are top-level extras: copy, and note whether the event overwrites one of them.
    conflict = Object.keys(embedded).some((k) => Object.hasOwn(attrs, k));
    merged = { ...attrs, ...embedded };
    break;
  }
  const raw = !conflict
    ? null
    : typeof item.message === 'string'
      ? item.message
      : safeStringify(item.message);
  for (const k of MESSAGE_ATTRS) {
    const m = merged[k];
    if (typeof m !== 'string') continue;
    if (k === 'message') delete merged.message;
    return { attrs: merged, message: m, raw };
  }
  return { attrs: merged, message: '', raw };
}

function firstOf<T>(
  attrs: Record<string, Json>,
  paths: string[],
  read: (v: Json | undefined) => T | undefined,
): T | undefined {
  for (const p of paths) {
    const v = read(getPath(attrs, p));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Datadog's preprocessing of the reserved fields (docs/intake.md has the table). */
function officialFields(item: Record<string, Json>, attrs: Record<string, Json>, d: RequestDefaults) {
  return {
    source: asString(item.ddsource) ?? asString(attrs.ddsource) ?? asString(d.ddsource) ?? null,
    host:
      asString(item.hostname) ??
      firstOf(attrs, ['host', 'hostname', 'syslog.hostname'], asString) ??
      asString(d.host) ??
      null,
    service:
      asString(item.service) ??
      firstOf(attrs, ['service', 'syslog.appname'], asString) ??
      asString(d.service) ??
      null,
    status: firstOf(attrs, [...STATUS_ATTRS, 'syslog.severity'], statusFromValue) ?? ('info' as Status),
    trace_id: firstOf(attrs, ['dd.trace_id', 'contextMap.dd.trace_id'], asString) ?? null,
  };
}

/** The official date, applying the out-of-window policy; undefined when the log is to be dropped. */
function officialDate(
  attrs: Record<string, Json>,
  ctx: NormalizeContext,
  flags: Record<string, Json>,
  notes: NormalizeNotes,
) {
  const t = firstOf(attrs, [...DATE_ATTRS, 'syslog.timestamp'], (v) => parseDate(v, ctx.now));
  if (t === undefined) return ctx.now;
  if (t >= ctx.now - PAST_MS && t <= ctx.now + FUTURE_MS) return t;
  notes.outOfWindow = t < ctx.now ? 'past' : 'future';
  if (ctx.outOfWindow === 'drop') {
    notes.dropped = true;
    return undefined;
  }
  flags.out_of_window = notes.outOfWindow;
  flags.original_date = new Date(t).toISOString();
  return ctx.now;
}

/**
 * Applies the acceptance window to a date set after normalisation (a pipeline's date remapper), with the
 * same policy: in the window → kept; outside → dated at receipt and flagged, or dropped with `drop`.
 * Returns the direction when the date was outside, and whether the log must be dropped.
 */
export function rewindow(
  event: LogEvent,
  ctx: NormalizeContext,
): { outOfWindow?: 'past' | 'future'; drop: boolean } {
  const t = event.timestamp;
  if (t >= ctx.now - PAST_MS && t <= ctx.now + FUTURE_MS) return { drop: false };
  const outOfWindow = t < ctx.now ? 'past' : 'future';
  if (ctx.outOfWindow === 'drop') return { outOfWindow, drop: true };
  const fw = event.attributes._flowwatch;
  const flags: Record<string, Json> = fw !== null && typeof fw === 'object' && !Array.isArray(fw) ? fw : {};
  flags.out_of_window = outOfWindow;
  flags.original_date = new Date(t).toISOString();
  event.attributes._flowwatch = flags;
  event.timestamp = ctx.now;
  return { outOfWindow, drop: false };
}

/** Truncates the message of a log over 1 MB (UTF-8 safe) and flags it. */
function enforceSize(
  message: string,
  attrs: Record<string, Json>,
  flags: Record<string, Json>,
  notes: NormalizeNotes,
): string {
  const msgBytes = Buffer.byteLength(message);
  const size = msgBytes + Buffer.byteLength(JSON.stringify(attrs));
  if (size <= LIMITS.maxLogBytes) return message;
  notes.truncated = true;
  flags.truncated = true;
  const attrBytes = size - msgBytes;
  if (attrBytes <= LIMITS.maxLogBytes) return truncateUtf8(message, LIMITS.maxLogBytes - attrBytes);
  // The attributes alone are over the limit: long string values are cut too (to 1 KB each).
  shortenStrings(attrs, 1);
  const left = LIMITS.maxLogBytes - Buffer.byteLength(JSON.stringify(attrs));
  return truncateUtf8(message, Math.max(0, left));
}

/** Cuts every string attribute longer than 1 KB (in place; the walk stops at the depth limit). */
function shortenStrings(obj: Record<string, Json> | Json[], depth: number): void {
  if (depth > LIMITS.maxDepth) return;
  const entries: [string | number, Json][] = Array.isArray(obj)
    ? obj.map((v, i) => [i, v])
    : Object.entries(obj);
  for (const [k, v] of entries) {
    if (typeof v === 'string' && v.length > 1024) {
      const cut = truncateUtf8(v, 1024);
      if (Array.isArray(obj)) obj[k as number] = cut;
      else setOwn(obj, k as string, cut);
    } else if (v !== null && typeof v === 'object') shortenStrings(v, depth + 1);
  }
}

/** Turns one received item into a LogEvent, or no event when policy drops it. */
export function normalize(
  input: unknown,
  defaults: RequestDefaults,
  ctx: NormalizeContext,
): { event?: LogEvent; notes: NormalizeNotes } {
  const notes: NormalizeNotes = {
    trimmed: { tags: 0, attributes: 0, keys: 0, depth: 0 },
    truncated: false,
    dropped: false,
  };
  const item: Record<string, Json> =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? (input as Record<string, Json>)
      : { message: typeof input === 'string' ? input : safeStringify(input) };
  const { attrs, raw: embeddedRaw, message: unpacked } = unpack(item);
  const flags: Record<string, Json> = {};
  const timestamp = officialDate(attrs, ctx, flags, notes);
  if (timestamp === undefined) return { notes };
  const official = officialFields(item, attrs, defaults);
  const tags = limitTags([...parseTags(defaults.ddtags), ...parseTags(item.ddtags)], notes.trimmed);

  const els = isElsEvent(attrs, official.source);
  // An ELS event's readable message comes from the built-in Okta pipeline (pipelines/okta-pipeline.ts).
  let message = unpacked;
  const attributes = limitAttributes(attrs, notes.trimmed);
  let raw = embeddedRaw;
  const t = notes.trimmed;
  if (t.attributes + t.keys + t.depth > 0) {
    flags.trimmed = { attributes: t.attributes, keys: t.keys, depth: t.depth };
    raw ??= safeStringify(item);
  }
  if (t.tags > 0) flags.trimmed_tags = t.tags;
  if (ctx.checkSize) message = enforceSize(message, attributes, flags, notes);
  if (raw !== null) raw = truncateUtf8(raw, LIMITS.maxLogBytes);
  if (Object.keys(flags).length > 0) attributes._flowwatch = flags;

  return {
    event: {
      timestamp,
      received_at: ctx.now,
      ...official,
      message,
      tags,
      attributes,
      raw,
      dedup_key: els ? elsDedupKey(attrs) : null,
    },
    notes,
  };
}
