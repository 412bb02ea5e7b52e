// Datadog grok rules → JavaScript RegExps. A rule is "name pattern"; a pattern is regex text with
// %{matcher(args):extract:filter(args)} tokens, where the matcher may also name a support rule or a match rule
// defined above (expanded in place, cycles refused). Each rule compiles once to ^(?:...)$ (Datadog anchors
// rules) with one named group per extracted token; a table maps groups back to attribute paths, conversions
// and filters.
//
// Regex dialect: rules are JavaScript regexes (no flags). Common RE2/Java syntax is the same; Java-only
// constructs (possessive quantifiers, atomic groups, \A, \z, inline (?i)) are rejected as invalid at save time.
// Numbered backreferences (\1) in rules count our groups too: use named groups instead.
//
// Backtracking: `data` is lazy ([\s\S]*?) and every other matcher is a bounded character class, but a rule
// such as `%{data} %{data} %{data}` is still polynomial on long lines that do not match. The processor caps
// the parsed text (1 MB); a rule author can still write an exponential regex (e.g. (a+)+) in literal text.
import type { Json } from '../../domain/log-event.ts';
import { buildFilter, type Filter } from './filters.ts';
import { buildMatcher, type GrokArg, GrokArgError, type Matcher } from './matchers.ts';

/** A rule set that cannot be compiled; the message names the rule and the problem. */
export class GrokError extends Error {
  constructor(
    message: string,
    /** the field holding the faulty rule */
    readonly field: 'match_rules' | 'support_rules' = 'match_rules',
  ) {
    super(message);
  }
}

/** Extracted values of the rule that matched, in rule order; path "" means "merge an object at the root". */
export interface GrokMatch {
  rule: string;
  values: [path: string, value: Json][];
}

export interface GrokParser {
  /** The first rule matching the whole text, with its values; undefined when none matches. */
  parse(text: string, now: number): GrokMatch | undefined;
  readonly rules: readonly string[];
}

interface Token {
  matcher: string;
  args: GrokArg[];
  extract: string;
  filter?: { name: string; args: GrokArg[] };
}

type Segment = string | Token;

interface Capture {
  group: string;
  path: string;
  convert?: (raw: string, now: number) => Json | undefined;
  filter?: Filter;
}

interface CompiledRule {
  name: string;
  re: RegExp;
  captures: Capture[];
}

const RULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;
const MAX_SOURCE = 256 * 1024;

/** Compiles match rules (tried in order) and support rules; throws GrokError. */
export function compileGrok(matchRules: string, supportRules = ''): GrokParser {
  let support: { name: string; pattern: string }[];
  try {
    support = parseRuleLines(supportRules, 'support rule');
    for (const r of support) parsePattern(r.name, r.pattern);
  } catch (e) {
    if (e instanceof GrokError) throw new GrokError(e.message, 'support_rules');
    throw e;
  }
  const match = parseRuleLines(matchRules, 'match rule');
  if (match.length === 0) throw new GrokError('give at least one match rule');
  const seen = new Set<string>();
  for (const r of [...support, ...match]) {
    if (seen.has(r.name)) throw new GrokError(`rule name "${r.name}" is used twice`);
    seen.add(r.name);
  }
  const segments = new Map<string, Segment[]>();
  for (const r of [...support, ...match]) segments.set(r.name, parsePattern(r.name, r.pattern));
  const supportNames = new Set(support.map((r) => r.name));
  // support rules are checked on their own too, so an unused broken one is still reported
  for (const r of support) {
    try {
      compileRule(r.name, segments, supportNames);
    } catch (e) {
      if (e instanceof GrokError) throw new GrokError(e.message, 'support_rules');
      throw e;
    }
  }
  const compiled: CompiledRule[] = [];
  const visible = new Set(supportNames);
  for (const r of match) {
    compiled.push(compileRule(r.name, segments, visible));
    visible.add(r.name); // a match rule can use the match rules above it
  }
  return {
    rules: compiled.map((r) => r.name),
    parse(text, now) {
      for (const rule of compiled) {
        const values = run(rule, text, now);
        if (values) return { rule: rule.name, values };
      }
      return undefined;
    },
  };
}

function run(rule: CompiledRule, text: string, now: number): [string, Json][] | undefined {
  const m = rule.re.exec(text);
  if (!m?.groups) return m ? [] : undefined;
  const out: [string, Json][] = [];
  for (const c of rule.captures) {
    const raw = m.groups[c.group];
    if (raw === undefined) continue; // in an alternative or optional part that did not match
    let value: Json | undefined = c.convert ? c.convert(raw, now) : raw;
    if (value === undefined) return undefined; // not a valid value (a bad date, a port above 65535)
    if (c.filter) value = c.filter(raw, value);
    if (value !== undefined) out.push([c.path, value]);
  }
  return out;
}

function parseRuleLines(text: string, kind: string): { name: string; pattern: string }[] {
  const out: { name: string; pattern: string }[] = [];
  for (const line of text.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.trim() === '') continue;
    const m = /^\s*(\S+)(?:[ \t]+([\s\S]*))?$/.exec(l);
    const name = m?.[1] ?? '';
    if (!RULE_NAME.test(name))
      throw new GrokError(
        `${kind} "${name}": a rule name has letters, digits, _ and . only, and does not start with .`,
      );
    if (!m?.[2]) throw new GrokError(`${kind} "${name}" has no pattern (expected "name pattern")`);
    out.push({ name, pattern: m[2] });
  }
  return out;
}

/** Splits a pattern into regex text and %{...} tokens. */
function parsePattern(rule: string, pattern: string): Segment[] {
  return new PatternReader(rule, pattern).segments();
}

class PatternReader {
  private i = 0;

  constructor(
    private readonly rule: string,
    private readonly p: string,
  ) {}

  private fail(msg: string): never {
    throw new GrokError(`rule "${this.rule}": ${msg} at column ${this.i + 1}`);
  }

  segments(): Segment[] {
    const out: Segment[] = [];
    let text = '';
    const p = this.p;
    while (this.i < p.length) {
      if (p[this.i] === '\\' && this.i + 1 < p.length) {
        text += p.slice(this.i, this.i + 2);
        this.i += 2;
      } else if (p.startsWith('%{', this.i)) {
        if (text) out.push(text);
        text = '';
        out.push(this.token());
      } else text += p[this.i++];
    }
    if (text) out.push(text);
    return out;
  }

  private name(what: string, re: RegExp): string {
    const name = re.exec(this.p.slice(this.i))?.[0];
    if (!name) this.fail(`expected a ${what}`);
    this.i += name.length;
    return name;
  }

  private token(): Token {
    this.i += 2;
    const matcher = this.name('matcher or rule name after %{', /^[A-Za-z0-9_][A-Za-z0-9_.]*/);
    const args = this.p[this.i] === '(' ? this.args() : [];
    let extract = '';
    let filter: Token['filter'];
    if (this.p[this.i] === ':') {
      this.i++;
      extract = this.extract();
      if (this.p[this.i] === ':') {
        this.i++;
        const name = this.name('filter name', /^[A-Za-z_]\w*/);
        filter = { name, args: this.p[this.i] === '(' ? this.args() : [] };
      }
    }
    if (this.p[this.i] !== '}') this.fail('expected } to close %{');
    this.i++;
    return { matcher, args, extract, filter };
  }

  private extract(): string {
    const end = /[:}]/.exec(this.p.slice(this.i));
    if (!end) this.fail('unterminated %{');
    const extract = this.p.slice(this.i, this.i + end.index).trim();
    this.i += end.index;
    if (extract && !/^[^\s.:{}()"'][^\s:{}()"']*$/.test(extract))
      this.fail(`"${extract}" is not a valid attribute name`);
    if (extract.endsWith('.') || extract.includes('..'))
      this.fail(`"${extract}" is not a valid attribute path`);
    return extract;
  }

  private args(): GrokArg[] {
    const args: GrokArg[] = [];
    this.i++; // (
    this.spaces();
    if (this.p[this.i] === ')') {
      this.i++;
      return args;
    }
    for (;;) {
      const q = this.p[this.i];
      if (q === '"' || q === "'") args.push({ value: this.quoted(q), quoted: true });
      else args.push({ value: this.name('argument', /^[^,()"'}\s]+/), quoted: false });
      this.spaces();
      const c = this.p[this.i++];
      if (c === ')') return args;
      if (c !== ',') {
        this.i--;
        this.fail('expected , or ) in arguments');
      }
      this.spaces();
    }
  }

  private spaces(): void {
    while (this.p[this.i] === ' ') this.i++;
  }

  /** A quoted argument: \\ and \" (or \') are escapes; any other \x stays as written (regex escapes such as \d). */
  private quoted(q: string): string {
    const p = this.p;
    let v = '';
    this.i++;
    while (this.i < p.length && p[this.i] !== q) {
      if (p[this.i] === '\\' && this.i + 1 < p.length) {
        const n = p[this.i + 1] as string;
        v += n === '\\' || n === q ? n : `\\${n}`;
        this.i += 2;
      } else v += p[this.i++];
    }
    if (p[this.i] !== q) this.fail('unterminated string');
    this.i++;
    return v;
  }
}

function compileRule(name: string, segments: Map<string, Segment[]>, visible: Set<string>): CompiledRule {
  const captures: Capture[] = [];
  const source = expand(name, [], captures, segments, visible, name);
  if (source.length > MAX_SOURCE)
    throw new GrokError(`rule "${name}": expands to more than ${MAX_SOURCE} characters of regex`);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch (e) {
    throw new GrokError(`rule "${name}": invalid regular expression: ${(e as Error).message}`);
  }
  return { name, re, captures };
}

function expand(
  name: string,
  stack: string[],
  captures: Capture[],
  segments: Map<string, Segment[]>,
  visible: Set<string>,
  top: string,
): string {
  if (stack.includes(name))
    throw new GrokError(
      `rule "${top}": rules reference each other in a cycle (${[...stack, name].join(' → ')})`,
    );
  const path = [...stack, name];
  let out = '';
  for (const seg of segments.get(name) ?? []) {
    if (out.length > MAX_SOURCE)
      throw new GrokError(`rule "${top}": expands to more than ${MAX_SOURCE} characters of regex`);
    if (typeof seg === 'string') {
      out += seg;
      continue;
    }
    let inner: string;
    let convert: Capture['convert'];
    let filter: Filter | undefined;
    if (visible.has(seg.matcher) && segments.has(seg.matcher)) {
      if (seg.args.length > 0)
        throw new GrokError(`rule "${top}": rule reference %{${seg.matcher}} takes no arguments`);
      inner = expand(seg.matcher, path, captures, segments, visible, top);
    } else ({ source: inner, convert } = matcherOf(seg, segments, top));
    if (seg.filter) filter = filterOf(seg.filter, top);
    if (!seg.extract && !filter) {
      out += `(?:${inner})`;
      continue;
    }
    const group = `g${captures.length}_${seg.extract.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
    captures.push({ group, path: seg.extract, convert, filter });
    out += `(?<${group}>${inner})`;
  }
  if (out.length > MAX_SOURCE)
    throw new GrokError(`rule "${top}": expands to more than ${MAX_SOURCE} characters of regex`);
  return out;
}

function matcherOf(seg: Token, segments: Map<string, Segment[]>, top: string): Matcher {
  try {
    const m = buildMatcher(seg.matcher, seg.args);
    if (m) return m;
    const hint = segments.has(seg.matcher)
      ? ' (a match rule can only use support rules and match rules above it)'
      : '';
    throw new GrokArgError(`unknown matcher or rule "${seg.matcher}"${hint}`);
  } catch (e) {
    if (e instanceof GrokArgError) throw new GrokError(`rule "${top}": ${e.message}`);
    throw e;
  }
}

function filterOf(f: NonNullable<Token['filter']>, top: string): Filter {
  try {
    return buildFilter(f.name, f.args);
  } catch (e) {
    if (e instanceof GrokArgError) throw new GrokError(`rule "${top}": ${e.message}`);
    throw e;
  }
}
