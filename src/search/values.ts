// Value semantics shared by both back ends: words, patterns, leaf comparisons, CIDR and attribute paths.
// The SQL back end registers some of these as SQLite functions, so both sides run the same code.
import { BlockList, isIP } from 'node:net';
import type { Json, LogEvent } from '../domain/log-event.ts';
import type { Bound, CidrBlock, PatternPart } from './ast.ts';

const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
const WORD_CHAR = /^[\p{L}\p{N}\p{Co}]+$/u;
/** Separates values in the full-text column: a word of its own, so no phrase spans two values. */
export const VALUE_SEPARATOR = ' \uE000 ';

/** The lower-cased words of a text (FTS5 unicode61 with categories L* N* Co, diacritics kept). */
export function words(text: string): string[] {
  const out = text.match(WORD) ?? [];
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as string).toLowerCase();
  return out;
}

/** True when `needle` occurs as consecutive words in `hay`; an empty needle matches nothing. */
export function hasPhrase(hay: string[], needle: string[]): boolean {
  if (needle.length === 0) return false;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The word prefix of a pattern `abc*` (one literal of word characters then `*`), else undefined. */
export function wordPrefix(parts: PatternPart[]): string | undefined {
  if (parts.length !== 2) return undefined;
  const [lit, star] = parts;
  if (typeof lit !== 'string' || typeof star === 'string' || star?.wildcard !== '*') return undefined;
  return WORD_CHAR.test(lit) ? lit.toLowerCase() : undefined;
}

const regexCache = new Map<string, RegExp>();

/**
 * The regular expression of a free-text pattern: it matches lower-cased text where the match starts and ends
 * at word boundaries, `*` being any run of word characters and `?` one.
 */
export function wordPatternSource(parts: PatternPart[]): string {
  let src = '(?<![\\p{L}\\p{N}\\p{Co}])';
  for (const p of parts) {
    if (typeof p === 'string') src += escapeRegex(p.toLowerCase());
    else src += p.wildcard === '*' ? '[\\p{L}\\p{N}\\p{Co}]*' : '[\\p{L}\\p{N}\\p{Co}]';
  }
  return `${src}(?![\\p{L}\\p{N}\\p{Co}])`;
}

/** Tests a value against a wordPatternSource (registered in SQLite as fw_words_match). */
export function wordsMatch(source: string, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(source, 'u');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re.test(String(value).toLowerCase());
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** A whole-value pattern as a regular expression (`*` any characters, `?` one code point). */
export function globRegex(parts: PatternPart[]): RegExp {
  let src = '^';
  for (const p of parts) {
    if (typeof p === 'string') src += escapeRegex(p);
    else src += p.wildcard === '*' ? '[^]*' : '[^]';
  }
  return new RegExp(`${src}$`, 'u');
}

/** The same pattern for SQLite's GLOB (case-sensitive; `*`, `?` and `[` escaped as classes). */
export function sqlGlob(parts: PatternPart[]): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p.replace(/[*?[]/g, (c) => `[${c}]`);
    else out += p.wildcard;
  }
  return out;
}

/** ASCII-only lower case (SQLite's lower() and NOCASE without ICU). */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Whether a JSON leaf equals an exact query value (docs/search.md "Attribute values"). */
export function leafEquals(leaf: Json, text: string): boolean {
  if (typeof leaf === 'string') return leaf === text;
  if (typeof leaf === 'number') return NUMERIC.test(text) && Number(text) === leaf;
  if (typeof leaf === 'boolean') return String(leaf) === text;
  return false;
}

/** Byte-wise (UTF-8, code point) comparison, as SQLite's BINARY collation. */
export function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Whether a leaf satisfies a bound with an operator. */
export function leafCompare(leaf: Json, op: '>' | '>=' | '<' | '<=', bound: Bound): boolean {
  let c: number;
  if (bound.kind === 'number') {
    if (typeof leaf !== 'number') return false;
    c = leaf < bound.value ? -1 : leaf > bound.value ? 1 : 0;
  } else {
    if (typeof leaf !== 'string') return false;
    c = compareText(leaf, bound.value);
  }
  return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
}

/** Whether a leaf lies in a range; `[* TO *]` takes any number or string. */
export function leafInRange(
  leaf: Json,
  low: Bound | null,
  high: Bound | null,
  lowInclusive: boolean,
  highInclusive: boolean,
): boolean {
  if (!low && !high) return typeof leaf === 'number' || typeof leaf === 'string';
  if (low && !leafCompare(leaf, lowInclusive ? '>=' : '>', low)) return false;
  if (high && !leafCompare(leaf, highInclusive ? '<=' : '<', high)) return false;
  return true;
}

const blockCache = new Map<string, { ipv4: BlockList; ipv6: BlockList }>();

/** Serialises CIDR blocks for the SQL function parameter. */
export function cidrSpec(blocks: CidrBlock[]): string {
  return blocks.map((b) => `${b.family}|${b.address}|${b.prefix}`).join(',');
}

/** Whether a value is an IP address inside one of the blocks (registered in SQLite as fw_cidr). */
export function inCidr(spec: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  let lists = blockCache.get(spec);
  if (!lists) {
    lists = { ipv4: new BlockList(), ipv6: new BlockList() };
    for (const b of spec.split(',')) {
      const [family, address, prefix] = b.split('|') as ['ipv4' | 'ipv6', string, string];
      lists[family].addSubnet(address, Number(prefix), family);
    }
    if (blockCache.size > 1000) blockCache.clear();
    blockCache.set(spec, lists);
  }
  // IPv4 addresses match IPv4 blocks only, IPv6 addresses IPv6 blocks only.
  const family = isIP(value);
  if (family === 4) return lists.ipv4.check(value, 'ipv4');
  if (family === 6) return lists.ipv6.check(value, 'ipv6');
  return false;
}

/** Visits every node at an attribute path: objects are walked, arrays are transparent, dotted keys match. */
export function nodesAt(attrs: Record<string, Json>, path: string, visit: (node: Json) => boolean): boolean {
  // The empty path is the attributes themselves (the query parser never asks for it).
  if (path === '') return visit(attrs) || below(attrs, path, visit);
  return below(attrs, path, visit);
}

/**
 * Visits the nodes at `rest` below `node` (null: the node itself is at the path; '' is a key spelled with
 * nothing); true as soon as a visit returns true.
 */
function below(node: Json, rest: string | null, visit: (node: Json) => boolean): boolean {
  if (rest === null && visit(node)) return true;
  if (Array.isArray(node)) {
    // Elements sit at the array's own path (json_tree's `a[0]` normalises to `a`).
    for (const el of node) if (below(el, rest, visit)) return true;
    return false;
  }
  if (rest === null || node === null || typeof node !== 'object') return false;
  // The keys that lead to `rest`: `rest` itself (a literal dotted key) or a part of it before a dot. Only
  // those are looked up, not every key of the object.
  let only: string | undefined;
  let several = false;
  for (let dot = rest.indexOf('.'); ; dot = rest.indexOf('.', dot + 1)) {
    const key = dot < 0 ? rest : rest.slice(0, dot);
    if (Object.hasOwn(node, key)) {
      if (only === undefined) only = key;
      else several = true;
    }
    if (dot < 0) break;
  }
  if (only === undefined) return false;
  if (!several) return below(node[only] as Json, only === rest ? null : rest.slice(only.length + 1), visit);
  // Several ways down ("a.b" and a → b): in the object's key order, as a scan of its keys would go.
  for (const key of Object.keys(node)) {
    if (key !== rest && !rest.startsWith(`${key}.`)) continue;
    if (below(node[key] as Json, key === rest ? null : rest.slice(key.length + 1), visit)) return true;
  }
  return false;
}

/** The normalised path of a json_tree fullkey: `$.a."b.c"[2].d` → `a.b.c.d` (registered as fw_path). */
export function normalisePath(fullkey: string): string {
  let out = '';
  let i = 1;
  while (i < fullkey.length) {
    const c = fullkey[i];
    if (c === '[') {
      const end = fullkey.indexOf(']', i);
      i = end < 0 ? fullkey.length : end + 1;
      continue;
    }
    if (c !== '.') break;
    i++;
    let key: string;
    if (fullkey[i] === '"') {
      const end = fullkey.indexOf('"', i + 1);
      key = fullkey.slice(i + 1, end < 0 ? fullkey.length : end);
      i = end < 0 ? fullkey.length : end + 1;
    } else {
      let j = i;
      while (j < fullkey.length && fullkey[j] !== '.' && fullkey[j] !== '[') j++;
      key = fullkey.slice(i, j);
      i = j;
    }
    out = out === '' ? key : `${out}.${key}`;
  }
  return out;
}

/**
 * The values full-text search reads besides the message, in a fixed order. A value that is there already
 * is not repeated (a trace id is often also an attribute): a log matches a word in any of its values, so
 * the full-text index needs each once.
 */
export function fulltextValues(e: LogEvent): string[] {
  const out: string[] = [];
  for (const v of [e.service, e.source, e.host, e.status]) if (v) out.push(v);
  collectLeaves(e.attributes, out);
  if (e.trace_id && !out.includes(e.trace_id)) out.push(e.trace_id);
  return out;
}

function collectLeaves(node: Json, out: string[]): void {
  if (node === null) return;
  if (typeof node === 'string') out.push(node);
  else if (typeof node === 'number' || typeof node === 'boolean') out.push(String(node));
  else if (Array.isArray(node)) for (const el of node) collectLeaves(el, out);
  else for (const key of Object.keys(node)) collectLeaves(node[key] as Json, out);
}

/**
 * Attribute paths that need the general (array-aware) evaluation: paths of arrays, of anything inside an
 * array, and of keys holding a dot or a quote. Any other path is a plain JSON path.
 */
export function complexPaths(attrs: Record<string, Json>): string[] | null {
  const out: string[] = [];
  const visit = (node: Json, at: string, complex: boolean) => {
    if (node === null || typeof node !== 'object') {
      if (complex) out.push(at);
      return;
    }
    if (Array.isArray(node)) {
      out.push(at);
      for (const el of node) visit(el, at, true);
      return;
    }
    if (complex && at !== '') out.push(at);
    for (const key of Object.keys(node)) {
      const odd = key.includes('.') || key.includes('"') || key === '';
      visit(node[key] as Json, at === '' ? key : `${at}.${key}`, complex || odd);
    }
  };
  for (const key of Object.keys(attrs)) {
    const v = attrs[key] as Json;
    const odd = key.includes('.') || key.includes('"') || key === '';
    if (odd || (v !== null && typeof v === 'object')) visit(v, key, odd);
  }
  return out.length === 0 ? null : [...new Set(out)];
}
