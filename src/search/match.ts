// The in-memory back end: a compiled predicate over one log event (pipelines, live tail, monitors).
// It must agree with sql.ts on every event and query (test/search-agreement.test.ts).
import type { Json, LogEvent } from '../domain/log-event.ts';
import type { Field, Query, Value } from './ast.ts';
import {
  asciiLower,
  cidrSpec,
  fulltextValues,
  globRegex,
  hasPhrase,
  inCidr,
  leafCompare,
  leafEquals,
  leafInRange,
  nodesAt,
  wordPatternSource,
  wordPrefix,
  words,
  wordsMatch,
} from './values.ts';

/** A predicate over a log event. */
export type Matcher = (e: LogEvent) => boolean;

// Several terms of one query (and several queries: pipeline filters, tails, monitors) read the words of the
// same message; they are computed once per message text (pipelines may change the message in between).
const messageWords = new WeakMap<LogEvent, { text: string; words: string[] }>();

function wordsOfMessage(e: LogEvent): string[] {
  const cached = messageWords.get(e);
  if (cached && cached.text === e.message) return cached.words;
  const w = words(e.message);
  messageWords.set(e, { text: e.message, words: w });
  return w;
}

/** Compiles a query into a predicate. */
export function compileMatcher(q: Query): Matcher {
  switch (q.kind) {
    case 'all':
      return () => true;
    case 'none':
      return () => false;
    case 'and': {
      const cs = q.children.map(compileMatcher);
      return (e) => cs.every((c) => c(e));
    }
    case 'or': {
      const cs = q.children.map(compileMatcher);
      return (e) => cs.some((c) => c(e));
    }
    case 'not': {
      const c = compileMatcher(q.child);
      return (e) => !c(e);
    }
    case 'exists':
      return existsMatcher(q.field);
    case 'cidr': {
      const spec = cidrSpec(q.blocks);
      return fieldMatcher(q.field, (v) => inCidr(spec, v));
    }
    case 'term':
      return termMatcher(q.field, q.value);
  }
}

function existsMatcher(field: Field): Matcher {
  switch (field.kind) {
    case 'message':
    case 'fulltext':
      return () => true;
    case 'attr':
      return (e) => nodesAt(e.attributes, field.path, () => true);
    case 'reserved':
      return (e) => e[field.name] !== null && e[field.name] !== undefined;
    case 'tag': {
      const prefix = field.key === null ? '' : `${field.key}:`;
      return (e) => e.tags.some((t) => t.startsWith(prefix));
    }
  }
}

/** A predicate over the leaf values of a field (attribute leaves, or the reserved value). */
function fieldMatcher(field: Field, test: (leaf: Json) => boolean): Matcher {
  if (field.kind === 'attr') return (e) => nodesAt(e.attributes, field.path, test);
  if (field.kind === 'reserved') return (e) => test(e[field.name]);
  return () => false;
}

function termMatcher(field: Field, value: Value): Matcher {
  switch (field.kind) {
    case 'message':
    case 'fulltext':
      return textMatcher(field.kind === 'fulltext', value);
    case 'attr':
      return fieldMatcher(field, leafTest(value));
    case 'reserved': {
      if (field.name === 'status' || field.name === 'trace_id') return fieldMatcher(field, leafTest(value));
      // service, source and host ignore ASCII case
      const folded = foldValue(value);
      if (folded.kind === 'exact') {
        const want = folded.text;
        // ASCII folding keeps the length: most values are told apart without folding them.
        return (e) => {
          const v = e[field.name];
          return typeof v === 'string' && v.length === want.length && asciiLower(v) === want;
        };
      }
      const test = leafTest(folded);
      return (e) => {
        const v = e[field.name];
        return typeof v === 'string' && test(asciiLower(v));
      };
    }
    case 'tag': {
      const prefix = field.key === null ? '' : `${field.key}:`;
      if (value.kind === 'exact') {
        const tag = prefix + value.text;
        return (e) => e.tags.includes(tag);
      }
      if (value.kind === 'pattern') {
        const re = globRegex(prefix ? [prefix, ...value.parts] : value.parts);
        return (e) => e.tags.some((t) => re.test(t));
      }
      return () => false;
    }
  }
}

function foldValue(v: Value): Value {
  if (v.kind === 'exact') return { kind: 'exact', text: asciiLower(v.text) };
  if (v.kind === 'pattern')
    return { kind: 'pattern', parts: v.parts.map((p) => (typeof p === 'string' ? asciiLower(p) : p)) };
  return v;
}

/** The test of one leaf value against a term value. */
function leafTest(value: Value): (leaf: Json) => boolean {
  switch (value.kind) {
    case 'exact':
      return (leaf) => leafEquals(leaf, value.text);
    case 'pattern': {
      const re = globRegex(value.parts);
      return (leaf) => typeof leaf === 'string' && re.test(leaf);
    }
    case 'compare':
      return (leaf) => leafCompare(leaf, value.op, value.bound);
    case 'range':
      return (leaf) => leafInRange(leaf, value.low, value.high, value.lowInclusive, value.highInclusive);
  }
}

/** Free text (message) or full text (message and every value). */
function textMatcher(full: boolean, value: Value): Matcher {
  let test: (w: string[], raw: string) => boolean;
  if (value.kind === 'exact') {
    const needle = words(value.text);
    test = (w) => hasPhrase(w, needle);
  } else if (value.kind === 'pattern') {
    const prefix = wordPrefix(value.parts);
    if (prefix !== undefined) test = (w) => w.some((x) => x.startsWith(prefix));
    else {
      const source = wordPatternSource(value.parts);
      test = (_w, raw) => wordsMatch(source, raw);
    }
  } else return () => false;
  if (!full) return (e) => test(wordsOfMessage(e), e.message);
  return (e) => {
    if (test(wordsOfMessage(e), e.message)) return true;
    for (const raw of fulltextValues(e)) if (test(words(raw), raw)) return true;
    return false;
  };
}
