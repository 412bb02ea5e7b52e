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

/** Reads a dot path inside attributes (a literal dotted key wins over nesting). */
export function getAttribute(attrs: Record<string, Json>, path: string): Json | undefined {
  if (Object.hasOwn(attrs, path)) return attrs[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  // try every split point: "a.b.c" → a → "b.c", then "a.b" → "c"
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (!Object.hasOwn(attrs, head)) continue;
    const child = attrs[head];
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const v = getAttribute(child, path.slice(i + 1));
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
  let node = attrs;
  let start = 0;
  for (let dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', start)) {
    const k = path.slice(start, dot);
    start = dot + 1;
    const next = node[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next) || !Object.hasOwn(node, k)) {
      const fresh: Record<string, Json> = {};
      setOwn(node, k, fresh);
      node = fresh;
    } else node = next;
  }
  setOwn(node, start === 0 ? path : path.slice(start), value);
}

/** Removes the value at a dot path (and objects left empty on the way). True when something went. */
export function deleteAttribute(attrs: Record<string, Json>, path: string): boolean {
  if (Object.hasOwn(attrs, path)) {
    delete attrs[path];
    return true;
  }
  const dot = path.indexOf('.');
  if (dot < 0) return false;
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    const child = Object.hasOwn(attrs, head) ? attrs[head] : undefined;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      if (deleteAttribute(child, path.slice(i + 1))) {
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
