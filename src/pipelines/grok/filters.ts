// The grok filters (third part of %{matcher:extract:filter}): post-processing of a matched value. Each gets the
// matched text and the matcher's value (a number for %{integer}, etc.); undefined means "no value" and the
// attribute is not written. Not supported (schema error): useragent, xml, rubyhash, array with a sub-rule.
import type { Json } from '../../domain/log-event.ts';
import { setOwn } from '../../intake/limits.ts';
import { type GrokArg, GrokArgError } from './matchers.ts';

/** A compiled filter. */
export type Filter = (text: string, value: Json) => Json | undefined;

type FilterFactory = (args: GrokArg[]) => Filter;

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
/** Numbers cast by keyvalue and csv: no leading zeros (ids such as 0042 stay text). */
const CASTABLE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

function arity(name: string, args: GrokArg[], min: number, max: number): void {
  if (args.length < min || args.length > max)
    throw new GrokArgError(
      min === max
        ? `filter ${name} takes ${min === 0 ? 'no arguments' : `${min} argument(s)`}`
        : `filter ${name} takes ${min} to ${max} arguments`,
    );
}

function simple(name: string, f: Filter): FilterFactory {
  return (args) => {
    arity(name, args, 0, 0);
    return f;
  };
}

function cast(v: string): Json {
  if (CASTABLE.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n) || (!Number.isInteger(n) && Number.isFinite(n))) return n;
  }
  return v;
}

function escapeClass(s: string): string {
  return s.replace(/[\\\]^-]/g, '\\$&');
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** keyvalue([separator[, characterWhiteList[, quotingStr[, delimiter]]]]), defaults per Datadog's docs. */
function keyvalue(args: GrokArg[]): Filter {
  arity('keyvalue', args, 0, 4);
  const separator = args[0]?.value || '=';
  const chars = `\\w.\\-@${escapeClass(args[1]?.value ?? '')}`;
  const quoting = args[2]?.value ?? '';
  const pairs: [string, string][] = [];
  if (quoting === '') pairs.push(['<', '>'], ['"', '"'], ["'", "'"]);
  else
    for (let i = 0; i < quoting.length; i += 2)
      pairs.push([quoting[i] as string, quoting[i + 1] ?? (quoting[i] as string)]);
  const quoted = pairs.map(([o, c]) => `${escapeRegex(o)}([^${escapeClass(c)}]*)${escapeRegex(c)}`);
  const nQuoted = quoted.length;
  const delimiter = args[3]?.value ? escapeRegex(args[3].value) : '[\\s,;]';
  const item = `(?:${quoted.join('|')}|([${chars}]+))`;
  const re = new RegExp(`(?<=^|${delimiter})${item}${escapeRegex(separator)}(?:${item})?`, 'g');
  return (text) => {
    const out: Record<string, Json> = {};
    for (const m of text.matchAll(re)) {
      const keyGroups = m.slice(1, nQuoted + 2);
      const valueGroups = m.slice(nQuoted + 2);
      const key = keyGroups.find((g) => g !== undefined);
      const qi = valueGroups.findIndex((g) => g !== undefined);
      if (!key || qi < 0) continue;
      const raw = valueGroups[qi] as string;
      if (raw === '' || raw === 'null') continue;
      setOwn(out, key, qi === nQuoted ? cast(raw) : raw);
    }
    return out;
  };
}

/** csv(headers[, separator[, quotingCharacter]]): one line of CSV into an object; numbers cast. */
function csv(args: GrokArg[]): Filter {
  arity('csv', args, 1, 3);
  const headers = (args[0]?.value ?? '').split(',').map((h) => h.trim());
  if (headers.some((h) => !/^[A-Za-z]\w*$/.test(h)))
    throw new GrokArgError(
      'csv headers must be names (a letter, then letters, digits or _) separated by commas',
    );
  let sep = args[1]?.value ?? ',';
  if (sep === 'tab') sep = '\t';
  const quote = args[2]?.value ?? '"';
  if (sep.length !== 1 || quote.length !== 1)
    throw new GrokArgError('csv separator and quoting character must be one character each');
  return (text) => {
    const values: string[] = [];
    let i = 0;
    while (i <= text.length && values.length < headers.length) {
      const field = readCsvField(text, i, sep, quote);
      if (!field) return undefined;
      values.push(field.value);
      i = field.end + 1;
    }
    const out: Record<string, Json> = {};
    values.forEach((v, k) => {
      if (v !== '') setOwn(out, headers[k] as string, cast(v));
    });
    return out;
  };
}

/** One CSV field starting at `i`: its value and the index of the separator (or end) after it. */
function readCsvField(
  text: string,
  i: number,
  sep: string,
  quote: string,
): { value: string; end: number } | undefined {
  if (text[i] !== quote) {
    const end = text.indexOf(sep, i);
    return end < 0 ? { value: text.slice(i), end: text.length } : { value: text.slice(i, end), end };
  }
  let v = '';
  let j = i + 1;
  for (;;) {
    if (j >= text.length) return undefined; // unterminated quote
    if (text[j] !== quote) v += text[j++];
    else if (text[j + 1] === quote) {
      v += quote;
      j += 2;
    } else break;
  }
  j++;
  if (j < text.length && text[j] !== sep) return undefined;
  return { value: v, end: j };
}

function queryObject(query: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    const prev = Object.hasOwn(out, k) ? out[k] : undefined;
    if (prev === undefined) setOwn(out, k, v);
    else setOwn(out, k, Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return out;
}

const querystring: Filter = (text) => {
  const q = text.indexOf('?');
  const hash = text.indexOf('#');
  const body = text.slice(q + 1, hash > q ? hash : undefined);
  return queryObject(body);
};

/** Datadog's url parser shape: scheme, host, port, path, queryString (relative URLs: path and query only). */
const url: Filter = (text) => {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
  let u: URL;
  try {
    u = absolute ? new URL(text) : new URL(text, 'http://relative.invalid');
  } catch {
    return undefined;
  }
  const out: Record<string, Json> = {};
  if (absolute) {
    out.scheme = u.protocol.replace(/:$/, '');
    out.host = u.hostname;
    if (u.port) out.port = Number(u.port);
  }
  out.path = u.pathname;
  const query = queryObject(u.search);
  if (Object.keys(query).length > 0) out.queryString = query;
  return out;
};

function array(args: GrokArg[]): Filter {
  if (args.length > 2) throw new GrokArgError('filter array: sub-rules and sub-filters are not supported');
  const [open, close] = args.length === 2 ? [...(args[0]?.value ?? '')] : [undefined, undefined];
  if (args.length === 2 && (args[0]?.value.length ?? 0) !== 2)
    throw new GrokArgError('filter array: the open/close argument must be two characters, such as "[]"');
  const sep = args.at(-1)?.value ?? ',';
  if (sep === '') throw new GrokArgError('filter array: the separator cannot be empty');
  return (text) => {
    let body = text.trim();
    if (open !== undefined) {
      if (!body.startsWith(open) || !body.endsWith(close as string) || body.length < 2) return undefined;
      body = body.slice(1, -1);
    }
    if (body.trim() === '') return [];
    return body.split(sep).map((x) => x.trim());
  };
}

const FILTERS: Record<string, FilterFactory> = {
  number: simple('number', (text) => (NUMERIC.test(text.trim()) ? Number(text.trim()) : undefined)),
  integer: simple('integer', (text) => {
    const t = text.trim();
    if (!INTEGER.test(t)) return undefined;
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : t;
  }),
  boolean: simple('boolean', (text) => {
    const t = text.trim().toLowerCase();
    return t === 'true' ? true : t === 'false' ? false : undefined;
  }),
  lowercase: simple('lowercase', (text) => text.toLowerCase()),
  uppercase: simple('uppercase', (text) => text.toUpperCase()),
  json: simple('json', (text) => {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return undefined;
    }
  }),
  decodeuricomponent: simple('decodeuricomponent', (text) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }),
  querystring: simple('querystring', querystring),
  url: simple('url', url),
  nullIf: (args) => {
    arity('nullIf', args, 1, 1);
    const v = args[0]?.value;
    return (text, value) => (text === v ? null : value);
  },
  scale: (args) => {
    arity('scale', args, 1, 1);
    const factor = Number(args[0]?.value);
    if (!Number.isFinite(factor)) throw new GrokArgError('filter scale takes a number');
    return (text, value) => {
      const n =
        typeof value === 'number' ? value : NUMERIC.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      return Number.isFinite(n) ? n * factor : undefined;
    };
  },
  keyvalue,
  csv,
  array,
};

const UNSUPPORTED = new Set(['useragent', 'xml', 'rubyhash']);

/** Builds a filter; throws GrokArgError for unknown or unsupported names and bad arguments. */
export function buildFilter(name: string, args: GrokArg[]): Filter {
  if (UNSUPPORTED.has(name)) throw new GrokArgError(`filter ${name} is not supported by Flowwatch`);
  const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
  if (!f) throw new GrokArgError(`unknown filter "${name}"`);
  return f(args);
}
