// The grok matchers Datadog documents: each becomes a regex fragment (without capturing groups, so it can be
// embedded anywhere) and a conversion of the matched text. A conversion returning undefined means "not a
// valid value": the rule does not match and the next rule is tried.
import type { Json } from '../../domain/log-event.ts';
import { compileDate, DatePatternError } from './dates.ts';

/** An argument of a matcher or filter: `"quoted"` (backslash escapes applied) or a bare word/number. */
export interface GrokArg {
  value: string;
  quoted: boolean;
}

/** A compiled matcher. */
export interface Matcher {
  source: string;
  convert?: (raw: string, now: number) => Json | undefined;
}

/** A matcher or filter that cannot be built from its arguments. */
export class GrokArgError extends Error {}

type MatcherFactory = (args: GrokArg[]) => Matcher;

const IPV4 = '(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const H = '[0-9A-Fa-f]{1,4}';
const IPV6 = [
  `(?:${H}:){7}${H}`,
  `(?:${H}:){6}${IPV4}`,
  `(?:${H}:){1,4}:${IPV4}`,
  `::(?:[Ff]{4}(?::0{1,4})?:)?${IPV4}`,
  `(?:${H}:){1,6}:${H}`,
  `(?:${H}:){1,5}(?::${H}){1,2}`,
  `(?:${H}:){1,4}(?::${H}){1,3}`,
  `(?:${H}:){1,3}(?::${H}){1,4}`,
  `(?:${H}:){1,2}(?::${H}){1,5}`,
  `${H}:(?::${H}){1,6}`,
  `(?:${H}:){1,7}:`,
  `:(?::${H}){1,7}`,
  '::',
]
  .map((x) => `(?:${x})`)
  .join('|');
const LABEL = '[0-9A-Za-z][0-9A-Za-z-]{0,62}';
const HOSTNAME = `${LABEL}(?:\\.${LABEL})*\\.?`;
const INTEGER = '[+-]?\\d+';
const NUMBER = '[+-]?(?:\\d+(?:\\.\\d+)?|\\.\\d+)';
const EXPONENT = '(?:[eE][+-]?\\d+)?';

const toNumber = (raw: string): Json | undefined => {
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
};
const toInteger = (raw: string): Json | undefined => {
  const n = Number(raw);
  if (!Number.isFinite(n)) return undefined;
  const i = Math.trunc(n);
  // beyond 2^53 a JSON number loses digits: keep the text
  return Number.isSafeInteger(i) ? i : raw;
};

function noArgs(name: string, m: Matcher): MatcherFactory {
  return (args) => {
    if (args.length > 0) throw new GrokArgError(`matcher ${name} takes no arguments`);
    return m;
  };
}

/** A literal matched case-insensitively, as a regex fragment usable without the i flag. */
function caseless(text: string): string {
  return [...text]
    .map((c) => {
      const lo = c.toLowerCase();
      const up = c.toUpperCase();
      if (lo !== up && lo.length === 1 && up.length === 1) return `[${lo}${up}]`;
      return c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    })
    .join('');
}

function unquote(raw: string): string {
  return raw.slice(1, -1).replace(/\\(.)/g, '$1');
}

const MATCHERS: Record<string, MatcherFactory> = {
  word: noArgs('word', { source: '\\b\\w+\\b' }),
  notSpace: noArgs('notSpace', { source: '\\S+' }),
  space: noArgs('space', { source: '\\s*' }),
  // lazy, so the text after it decides where it ends (Datadog: "equivalent to .*", newlines included)
  data: noArgs('data', { source: '[\\s\\S]*?' }),
  integer: noArgs('integer', { source: INTEGER, convert: toInteger }),
  integerStr: noArgs('integerStr', { source: INTEGER }),
  integerExt: noArgs('integerExt', { source: INTEGER + EXPONENT, convert: toInteger }),
  integerExtStr: noArgs('integerExtStr', { source: INTEGER + EXPONENT }),
  number: noArgs('number', { source: NUMBER, convert: toNumber }),
  numberStr: noArgs('numberStr', { source: NUMBER }),
  numberExt: noArgs('numberExt', { source: NUMBER + EXPONENT, convert: toNumber }),
  numberExtStr: noArgs('numberExtStr', { source: NUMBER + EXPONENT }),
  doubleQuotedString: noArgs('doubleQuotedString', {
    source: '"(?:[^"\\\\]|\\\\[\\s\\S])*"',
    convert: unquote,
  }),
  singleQuotedString: noArgs('singleQuotedString', {
    source: "'(?:[^'\\\\]|\\\\[\\s\\S])*'",
    convert: unquote,
  }),
  quotedString: noArgs('quotedString', {
    source: `"(?:[^"\\\\]|\\\\[\\s\\S])*"|'(?:[^'\\\\]|\\\\[\\s\\S])*'`,
    convert: unquote,
  }),
  uuid: noArgs('uuid', { source: '[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}' }),
  mac: noArgs('mac', {
    source:
      '(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\\.){2}[A-Fa-f0-9]{4}',
  }),
  ipv4: noArgs('ipv4', { source: IPV4 }),
  ipv6: noArgs('ipv6', { source: IPV6 }),
  ip: noArgs('ip', { source: `${IPV6}|${IPV4}` }),
  hostname: noArgs('hostname', { source: HOSTNAME }),
  ipOrHost: noArgs('ipOrHost', { source: `${IPV6}|${IPV4}|${HOSTNAME}` }),
  port: noArgs('port', {
    source: '\\d{1,5}',
    convert: (raw) => {
      const n = Number(raw);
      return n <= 65535 ? n : undefined;
    },
  }),
  boolean: (args) => {
    if (args.length !== 0 && args.length !== 2)
      throw new GrokArgError('matcher boolean takes no arguments or two (truePattern, falsePattern)');
    const t = args[0]?.value ?? 'true';
    const f = args[1]?.value ?? 'false';
    if (t === '' || f === '') throw new GrokArgError('matcher boolean: patterns cannot be empty');
    return {
      source: `${caseless(t)}|${caseless(f)}`,
      convert: (raw) => raw.toLowerCase() === t.toLowerCase(),
    };
  },
  regex: (args) => {
    const p = args[0];
    if (args.length !== 1 || !p?.quoted) throw new GrokArgError('matcher regex takes one quoted pattern');
    try {
      new RegExp(p.value);
    } catch (e) {
      throw new GrokArgError(
        `regex("${p.value}") is not a valid regular expression: ${(e as Error).message}`,
      );
    }
    return { source: p.value };
  },
  date: (args) => {
    if (args.length < 1 || args.length > 3 || args.some((a) => !a.quoted))
      throw new GrokArgError('matcher date takes a quoted pattern, then optionally a time zone and a locale');
    try {
      const d = compileDate(args[0]?.value as string, args[1]?.value, args[2]?.value);
      return { source: d.source, convert: (raw, now) => d.parse(raw, now) };
    } catch (e) {
      if (e instanceof DatePatternError) throw new GrokArgError(`date: ${e.message}`);
      throw e;
    }
  },
};

/** Names of the built-in matchers. */
export const MATCHER_NAMES = Object.keys(MATCHERS);

/** Builds a matcher; undefined when the name is not a built-in matcher. Throws GrokArgError on bad arguments. */
export function buildMatcher(name: string, args: GrokArg[]): Matcher | undefined {
  const f = Object.hasOwn(MATCHERS, name) ? MATCHERS[name] : undefined;
  return f ? f(args) : undefined;
}
