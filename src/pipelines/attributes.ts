// Attribute access for processors: dot paths into a log's attributes (nested objects; a key spelled with a
// dot is found too), and the official fields where Datadog treats them as attributes.
import type { Json, LogEvent } from '../domain/log-event.ts';
import { setOwn } from '../intake/limits.ts';

/** Reads the value at a path; `message` falls back to the official message. Undefined when absent. */
export function getPath(event: LogEvent, path: string): Json | undefined {
  const v = getAttribute(event.attributes, path);
  if (v === undefined && path === 'message') return event.message;
  return v;
}

/**
 * A path's ways down, prepared once: each split at a dot as [the key before it, the rest]. Processors use the
 * same few paths for every log, so lookups neither slice strings nor look up freshly made keys.
 */
interface Splits {
  parts: string[];
  splits: [string, string][];
}

const SPLITS = new Map<string, Splits>();

function splitsOf(path: string): Splits {
  let s = SPLITS.get(path);
  if (s) return s;
  s = { parts: path.split('.'), splits: [] };
  for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1))
    s.splits.push([path.slice(0, i), path.slice(i + 1)]);
  // The paths come from pipeline definitions; a bound keeps edits over months from growing it forever.
  if (SPLITS.size >= 10_000) SPLITS.clear();
  SPLITS.set(path, s);
  return s;
}

/** Reads a dot path inside attributes (a literal dotted key wins over nesting). */
export function getAttribute(attrs: Record<string, Json>, path: string): Json | undefined {
  if (Object.hasOwn(attrs, path)) return attrs[path];
  if (!path.includes('.')) return undefined;
  // try every split point: "a.b.c" → a → "b.c", then "a.b" → "c"
  for (const [head, rest] of splitsOf(path).splits) {
    if (!Object.hasOwn(attrs, head)) continue;
    const child = attrs[head];
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const v = getAttribute(child, rest);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** True when the path holds a value (null included). */
export function hasPath(event: LogEvent, path: string): boolean {
  return getPath(event, path) !== undefined;
}

/** Writes a value at a dot path, creating objects on the way (a non-object in the way is replaced). */
export function setAttribute(attrs: Record<string, Json>, path: string, value: Json): void {
  if (!path.includes('.')) {
    setOwn(attrs, path, value);
    return;
  }
  const parts = splitsOf(path).parts;
  let node = attrs;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] as string;
    const next = node[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next) || !Object.hasOwn(node, k)) {
      const fresh: Record<string, Json> = {};
      setOwn(node, k, fresh);
      node = fresh;
    } else node = next;
  }
  setOwn(node, parts[parts.length - 1] as string, value);
}

/** Removes the value at a dot path (and objects left empty on the way). True when something went. */
export function deleteAttribute(attrs: Record<string, Json>, path: string): boolean {
  if (Object.hasOwn(attrs, path)) {
    delete attrs[path];
    return true;
  }
  if (!path.includes('.')) return false;
  for (const [head, rest] of splitsOf(path).splits) {
    const child = Object.hasOwn(attrs, head) ? attrs[head] : undefined;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      if (deleteAttribute(child, rest)) {
        if (Object.keys(child).length === 0) delete attrs[head];
        return true;
      }
    }
  }
  return false;
}

/** A value as text for lookups and templates: strings as they are, numbers and booleans printed. */
export function asText(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
