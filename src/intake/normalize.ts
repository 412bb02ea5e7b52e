// Intake preprocessing (datadog-compat.md §1.7): one received item + request defaults → a LogEvent.
// Pure: the clock and policy are passed in; nothing here does I/O.
import { parseDate } from '../domain/dates.ts';
import type { Json, LogEvent, Status } from '../domain/log-event.ts';
import { statusFromValue } from '../domain/status.ts';
import { elsDedupKey, elsMessage, isElsEvent } from '../okta/els.ts';
import {
  LIMITS,
  limitAttributes,
  limitTags,
  parseTags,
  safeStringify,
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
function getPath(attrs: Record<string, Json>, path: string): Json | undefined {
  if (path in attrs) return attrs[path];
  let cur: Json | undefined = attrs;
  for (const part of path.split('.')) {
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

/** Turns one received item into a LogEvent, or undefined when policy drops it. */
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

  let attrs: Record<string, Json> = {};
  for (const [k, v] of Object.entries(item)) if (!INTAKE_KEYS.has(k)) attrs[k] = v;

  let raw: string | null = null;
  let message = '';
  const embedded = embeddedObject(item.message);
  if (embedded) {
    // Keys of the embedded event win over other top-level extras; the intake keys (ddsource, ddtags,
    // hostname, service) are read from the top level first below, so they win over the embedded ones.
    raw = typeof item.message === 'string' ? item.message : safeStringify(item.message);
    attrs = { ...attrs, ...embedded };
    for (const k of MESSAGE_ATTRS) {
      const m = attrs[k];
      if (typeof m === 'string') {
        message = m;
        if (k === 'message') delete attrs.message;
        break;
      }
    }
  } else if (item.message !== undefined && item.message !== null) {
    message = typeof item.message === 'string' ? item.message : safeStringify(item.message);
  }

  const source = asString(item.ddsource) ?? asString(attrs.ddsource) ?? asString(defaults.ddsource) ?? null;
  const host =
    asString(item.hostname) ??
    asString(attrs.host) ??
    asString(attrs.hostname) ??
    asString(getPath(attrs, 'syslog.hostname')) ??
    asString(defaults.host) ??
    null;
  const service =
    asString(item.service) ??
    asString(attrs.service) ??
    asString(getPath(attrs, 'syslog.appname')) ??
    asString(defaults.service) ??
    null;

  let status: Status | undefined;
  for (const k of [...STATUS_ATTRS, 'syslog.severity']) {
    status = statusFromValue(getPath(attrs, k));
    if (status) break;
  }

  let timestamp: number | undefined;
  for (const k of [...DATE_ATTRS, 'syslog.timestamp']) {
    timestamp = parseDate(getPath(attrs, k), ctx.now);
    if (timestamp !== undefined) break;
  }
  const flags: Record<string, Json> = {};
  if (timestamp !== undefined && (timestamp < ctx.now - PAST_MS || timestamp > ctx.now + FUTURE_MS)) {
    notes.outOfWindow = timestamp < ctx.now ? 'past' : 'future';
    if (ctx.outOfWindow === 'drop') {
      notes.dropped = true;
      return { notes };
    }
    flags.out_of_window = notes.outOfWindow;
    flags.original_date = new Date(timestamp).toISOString();
    timestamp = ctx.now;
  }

  const trace_id =
    asString(getPath(attrs, 'dd.trace_id')) ?? asString(getPath(attrs, 'contextMap.dd.trace_id')) ?? null;
  const tags = limitTags([...parseTags(defaults.ddtags), ...parseTags(item.ddtags)], notes.trimmed);

  const els = isElsEvent(attrs);
  if (els && message === '') message = elsMessage(attrs);
  const dedup_key = els ? elsDedupKey(attrs) : null;

  const limited = limitAttributes(attrs, notes.trimmed);
  const t = notes.trimmed;
  if (t.attributes + t.keys + t.depth > 0) {
    flags.trimmed = { attributes: t.attributes, keys: t.keys, depth: t.depth };
    raw ??= truncateUtf8(safeStringify(item), LIMITS.maxLogBytes);
  }
  if (t.tags > 0) flags.trimmed_tags = t.tags;

  if (ctx.checkSize) {
    const size = Buffer.byteLength(message) + Buffer.byteLength(JSON.stringify(limited));
    if (size > LIMITS.maxLogBytes) {
      message = truncateUtf8(message, Math.max(0, LIMITS.maxLogBytes - (size - Buffer.byteLength(message))));
      notes.truncated = true;
      flags.truncated = true;
      if (raw !== null) raw = truncateUtf8(raw, LIMITS.maxLogBytes);
    }
  }
  if (Object.keys(flags).length > 0) limited._flowwatch = flags;

  return {
    event: {
      timestamp: timestamp ?? ctx.now,
      received_at: ctx.now,
      status: status ?? 'info',
      service,
      source,
      host,
      message,
      tags,
      trace_id,
      attributes: limited,
      raw,
      dedup_key,
    },
    notes,
  };
}
