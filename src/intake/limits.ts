// Datadog's per-log limits (datadog-compat.md §1.6): pure functions that trim and report, never throw.
import type { Json } from '../domain/log-event.ts';

/** The limits intake enforces; all from Datadog's documentation. */
export const LIMITS = {
  maxPayloadBytes: 5 * 1024 * 1024,
  maxEntries: 1000,
  maxLogBytes: 1024 * 1024,
  maxTags: 100,
  maxTagLength: 256,
  maxAttributes: 256,
  maxKeyLength: 50,
  maxDepth: 10,
} as const;

/** What trimming changed, counted into metrics and flagged on the log. */
export interface TrimReport {
  tags: number;
  attributes: number;
  keys: number;
  depth: number;
}

/** Sets an own property, also for the key `__proto__` (a plain assignment would replace the prototype). */
export function setOwn(obj: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** JSON.stringify that cannot throw on pathologically deep input (V8 recurses when serialising). */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (err) {
    if (err instanceof RangeError) return '"[flowwatch: value nested too deeply to keep]"';
    throw err;
  }
}

const tagCache = new Map<string, string[]>();

/** Parses `ddtags` (comma-separated), lowercasing and sanitising as Datadog does. */
export function parseTags(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  // Senders repeat the same ddtags on every log (Okta's template does): remember a few hundred.
  const cached = tagCache.get(value);
  if (cached) return cached;
  const tags = parseTagsUncached(value);
  if (tagCache.size >= 500) tagCache.clear();
  tagCache.set(value, tags);
  return tags;
}

function parseTagsUncached(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    let tag = part
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_\-:./]/g, '_');
    while (tag.endsWith(':')) tag = tag.slice(0, -1);
    if (tag !== '') out.push(tag);
  }
  return out;
}

/** De-duplicates tags and applies the count and length limits. */
export function limitTags(tags: string[], report: TrimReport): string[] {
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.length > LIMITS.maxTagLength) {
      report.tags++;
      seen.add(t.slice(0, LIMITS.maxTagLength));
    } else seen.add(t);
  }
  const out = [...seen];
  if (out.length > LIMITS.maxTags) {
    report.tags += out.length - LIMITS.maxTags;
    return out.slice(0, LIMITS.maxTags);
  }
  return out;
}

/**
 * Trims attributes to Datadog's limits: keys cut to 50 characters, objects deeper than 10 levels kept as a
 * JSON string, at most 256 attributes (leaves) in all. The walk is bounded by the depth limit.
 */
export function limitAttributes(attrs: Record<string, Json>, report: TrimReport): Record<string, Json> {
  // Nearly every log is within limits: check without copying, and copy only the rare log that is not.
  if (withinLimits(attrs, 1, { left: LIMITS.maxAttributes })) return attrs;
  return trimAttributes(attrs, report);
}

/** The copying walk behind limitAttributes (exported so tests can check the fast path agrees with it). */
export function trimAttributes(attrs: Record<string, Json>, report: TrimReport): Record<string, Json> {
  return walkObject(attrs, 1, { left: LIMITS.maxAttributes }, report);
}

/** True when an object needs no trimming; allocates nothing and stops at the depth limit. */
function withinLimits(obj: Record<string, Json>, depth: number, budget: { left: number }): boolean {
  for (const key in obj) {
    if (key.length > LIMITS.maxKeyLength) return false;
    const v = obj[key]!;
    if (v === null || typeof v !== 'object') {
      if (--budget.left < 0) return false;
      continue;
    }
    if (depth >= LIMITS.maxDepth) return false;
    if (Array.isArray(v)) {
      if (--budget.left < 0) return false;
      for (const e of v)
        if (e !== null && typeof e === 'object' && !withinElement(e, depth + 1)) return false;
      continue;
    }
    if (!withinLimits(v, depth + 1, budget)) return false;
  }
  return true;
}

function withinElement(v: Json[] | { [key: string]: Json }, depth: number): boolean {
  if (depth >= LIMITS.maxDepth) return false;
  if (Array.isArray(v))
    return v.every((e) => e === null || typeof e !== 'object' || withinElement(e, depth + 1));
  return withinLimits(v, depth + 1, { left: Number.POSITIVE_INFINITY });
}

function walkObject(obj: Record<string, Json>, depth: number, budget: { left: number }, report: TrimReport) {
  const out: Record<string, Json> = {};
  for (const [rawKey, value] of Object.entries(obj)) {
    if (budget.left <= 0) {
      report.attributes++;
      continue;
    }
    let key = rawKey;
    if (key.length > LIMITS.maxKeyLength) {
      key = key.slice(0, LIMITS.maxKeyLength);
      report.keys++;
    }
    setOwn(out, key, walkValue(value, depth, budget, report));
  }
  return out;
}

function walkValue(value: Json, depth: number, budget: { left: number }, report: TrimReport): Json {
  if (value === null || typeof value !== 'object') {
    budget.left--;
    return value;
  }
  if (depth >= LIMITS.maxDepth) {
    report.depth++;
    budget.left--;
    return safeStringify(value);
  }
  if (Array.isArray(value)) {
    // An array counts as one attribute; its object elements are walked for depth and key limits.
    budget.left--;
    const inner = { left: Number.POSITIVE_INFINITY };
    return value.map((v) =>
      v !== null && typeof v === 'object' ? walkValue(v, depth + 1, inner, report) : v,
    );
  }
  return walkObject(value, depth + 1, budget, report);
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const buf = Buffer.from(s, 'utf8').subarray(0, Math.max(0, maxBytes));
  // Drop a trailing partial character (continuation bytes and the lead byte that started it).
  let end = buf.length;
  let i = end - 1;
  while (i >= 0 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = buf[i]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return buf.subarray(0, end).toString('utf8');
}
