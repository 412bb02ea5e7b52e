// Parser of Datadog's log search syntax (docs/search.md): a hand-written recursive descent over the query
// text, producing the AST of ast.ts. Errors carry the 1-based column and what was expected.
import { isIP } from 'node:net';
import type { Bound, CidrBlock, Field, PatternPart, Query, ReservedName, Value } from './ast.ts';

/** A query that does not parse; `column` is 1-based. */
export class QuerySyntaxError extends Error {
  readonly column: number;
  constructor(reason: string, column: number, expected?: string) {
    super(`${reason} at column ${column}${expected ? `: expected ${expected}` : ''}`);
    this.column = column;
  }
}

/** The longest query accepted, in characters. */
export const MAX_QUERY_LENGTH = 8192;
const MAX_DEPTH = 64;

const RESERVED: ReadonlySet<string> = new Set(['service', 'source', 'host', 'status', 'trace_id']);
const STATUS_ALIASES: Record<string, string> = { warning: 'warn', emerg: 'emergency' };
/** Characters that end a term. */
const TERMINATORS = new Set([' ', '\t', '\n', '\r', '(', ')']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A term as read: its literal text and parts (wildcards kept apart from escaped characters). */
interface RawTerm {
  parts: PatternPart[];
  /** the text with escapes resolved and wildcards as `*`/`?` */
  text: string;
  hasWildcard: boolean;
  start: number;
}

/** Parses a query; throws QuerySyntaxError. An empty query (or `*`, `*:*`) matches everything. */
export function parseQuery(query: string): Query {
  if (query.length > MAX_QUERY_LENGTH)
    throw new QuerySyntaxError(
      `the query is longer than ${MAX_QUERY_LENGTH} characters`,
      MAX_QUERY_LENGTH + 1,
    );
  return new Parser(query).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;
  /** a bare word right after a `*:` term continues the full-text search */
  private fulltextCarry = false;

  constructor(private readonly src: string) {}

  parse(): Query {
    this.skipSpace();
    if (this.atEnd()) return { kind: 'all' };
    const q = this.parseOr(null);
    this.skipSpace();
    if (!this.atEnd()) throw this.unexpected('AND, OR or the end of the query');
    return q;
  }

  private parseOr(defaultField: Field | null): Query {
    const children = [this.parseAnd(defaultField)];
    while (this.keyword('OR')) {
      this.fulltextCarry = false;
      children.push(this.parseAnd(defaultField));
    }
    return children.length === 1 ? (children[0] as Query) : { kind: 'or', children };
  }

  private parseAnd(defaultField: Field | null): Query {
    const children = [this.parseUnary(defaultField)];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.peek() === ')' || this.isKeyword('OR')) break;
      if (this.keyword('AND')) this.fulltextCarry = false;
      children.push(this.parseUnary(defaultField));
    }
    return children.length === 1 ? (children[0] as Query) : { kind: 'and', children };
  }

  private parseUnary(defaultField: Field | null): Query {
    this.skipSpace();
    if (this.atEnd()) throw this.unexpected('a term');
    const c = this.peek();
    if (c === '-' || c === '+') {
      const next = this.src[this.pos + 1];
      if (next === undefined || (TERMINATORS.has(next) && next !== '('))
        throw new QuerySyntaxError(`"${c}" must be followed by a term`, this.pos + 2, 'a term');
      this.pos++;
      this.fulltextCarry = false;
      const child = this.parseUnary(defaultField);
      return c === '-' ? { kind: 'not', child } : child;
    }
    if (this.keyword('NOT')) {
      this.fulltextCarry = false;
      return { kind: 'not', child: this.parseUnary(defaultField) };
    }
    if (this.isKeyword('AND') || this.isKeyword('OR')) throw this.unexpected('a term');
    return this.parsePrimary(defaultField);
  }

  private parsePrimary(defaultField: Field | null): Query {
    const c = this.peek();
    if (c === '(') {
      const open = this.pos;
      this.pos++;
      this.fulltextCarry = false;
      const q = this.group(() => this.parseOr(defaultField), open);
      this.fulltextCarry = false;
      return q;
    }
    if (c === ')') throw this.unexpected('a term');
    if (this.src.startsWith('CIDR(', this.pos)) return this.parseCidr();
    if (c === '"') {
      const field = defaultField ?? (this.fulltextCarry ? FULLTEXT : MESSAGE);
      return this.termQuery(field, { kind: 'exact', text: this.readPhrase() });
    }
    if (defaultField && (c === '[' || c === '{' || c === '>' || c === '<'))
      return this.parseValue(defaultField);
    if (c === ':' || c === ']' || c === '}' || c === '[' || c === '{' || c === '>' || c === '<')
      throw this.unexpected('a term');
    const start = this.pos;
    const name = this.readTerm(true);
    if (this.peek() === ':') {
      if (name.parts.length === 0) throw this.unexpected('a field name');
      if (name.hasWildcard && name.text !== '*')
        throw new QuerySyntaxError('a field name cannot hold a wildcard', start + 1, 'a field name');
      this.pos++;
      const special = this.specialField(name.text, start);
      if (special) return special;
      const field = this.fieldOf(name.text, start);
      const q = this.parseFieldValue(field, name.text);
      this.fulltextCarry = field.kind === 'fulltext';
      return q;
    }
    const field = defaultField ?? (this.fulltextCarry ? FULLTEXT : MESSAGE);
    if (name.hasWildcard && name.text === '*') return existsOrAll(field);
    const q = this.termQuery(field, termValue(name));
    this.fulltextCarry = field.kind === 'fulltext';
    return q;
  }

  /** `_exists_:x` and `_missing_:x`. */
  private specialField(name: string, start: number): Query | undefined {
    if (name !== '_exists_' && name !== '_missing_') return undefined;
    const at = this.pos;
    const target = this.readTerm(false);
    if (target.parts.length === 0) throw this.unexpected('a field name');
    if (target.hasWildcard)
      throw new QuerySyntaxError(`${name} takes a field name, not a pattern`, at + 1, 'a field name');
    const text = target.text.startsWith('@') ? target.text : `@${target.text}`;
    const exists: Query = { kind: 'exists', field: this.fieldOf(text, start) };
    this.fulltextCarry = false;
    return name === '_exists_' ? exists : { kind: 'not', child: exists };
  }

  private parseFieldValue(field: Field, name: string): Query {
    const c = this.peek();
    if (c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ')')
      throw new QuerySyntaxError(`"${name}:" has no value`, this.pos + 1, 'a value');
    if (c === '(') {
      const open = this.pos;
      this.pos++;
      this.skipSpace();
      if (this.peek() === ')') throw this.unexpected(`a value inside "${name}:( )"`);
      return this.group(() => this.parseOr(field), open);
    }
    return this.parseValue(field);
  }

  /** A value for a known field: phrase, range, comparison, `*` or a term. */
  private parseValue(field: Field): Query {
    const c = this.peek();
    if (c === '"') return this.termQuery(field, { kind: 'exact', text: this.readPhrase() });
    if (c === '[' || c === '{') return this.termQuery(field, this.readRange());
    if (c === '>' || c === '<') {
      let op: '>' | '>=' | '<' | '<=' = c;
      this.pos++;
      if (this.peek() === '=') {
        op = c === '>' ? '>=' : '<=';
        this.pos++;
      }
      const boundAt = this.pos;
      const raw = this.peek() === '"' ? this.readPhrase() : this.readTerm(false).text;
      if (raw === '') throw new QuerySyntaxError(`"${op}" has no value`, boundAt + 1, 'a number or a term');
      return this.termQuery(field, { kind: 'compare', op, bound: boundOf(raw) });
    }
    const term = this.readTerm(false);
    if (term.text === '*' && term.hasWildcard) return existsOrAll(field);
    return this.termQuery(field, termValue(term));
  }

  private readRange(): Value {
    const open = this.src[this.pos] as '[' | '{';
    const openAt = this.pos;
    this.pos++;
    this.skipSpace();
    const low = this.readBound();
    this.skipSpace();
    if (!this.keyword('TO')) throw this.unexpected('"TO"');
    this.skipSpace();
    const high = this.readBound();
    this.skipSpace();
    const close = this.peek();
    if (close !== ']' && close !== '}') {
      if (this.atEnd())
        throw new QuerySyntaxError(
          'unterminated range',
          openAt + 1,
          '"]" or "}" before the end of the query',
        );
      throw this.unexpected('"]" or "}"');
    }
    this.pos++;
    return { kind: 'range', low, high, lowInclusive: open === '[', highInclusive: close === ']' };
  }

  private readBound(): Bound | null {
    if (this.atEnd()) throw this.unexpected('a range bound');
    if (this.peek() === '"') return { kind: 'text', value: this.readPhrase() };
    const at = this.pos;
    let text = '';
    while (!this.atEnd()) {
      const c = this.src[this.pos] as string;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ']' || c === '}' || c === ')') break;
      if (c === '\\' && this.pos + 1 < this.src.length) {
        text += this.src[this.pos + 1];
        this.pos += 2;
        continue;
      }
      text += c;
      this.pos++;
    }
    if (text === '') throw new QuerySyntaxError('missing range bound', at + 1, 'a range bound');
    if (text === '*') return null;
    return boundOf(text);
  }

  private parseCidr(): Query {
    const start = this.pos;
    this.pos += 'CIDR('.length;
    this.skipSpace();
    const fieldAt = this.pos;
    const name = this.readTerm(false, ',');
    if (name.parts.length === 0 || name.hasWildcard) {
      this.pos = fieldAt;
      throw this.unexpected('a field name in CIDR()');
    }
    const field = this.fieldOf(name.text, fieldAt);
    if (field.kind !== 'attr' && field.kind !== 'reserved')
      throw new QuerySyntaxError(
        `CIDR() takes an @attribute or host, not "${name.text}"`,
        fieldAt + 1,
        'an @attribute',
      );
    const blocks: CidrBlock[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === ')' && blocks.length > 0) break;
      if (this.peek() !== ',') {
        if (this.atEnd())
          throw new QuerySyntaxError('unterminated "CIDR("', start + 1, '")" before the end of the query');
        throw this.unexpected(blocks.length === 0 ? '"," and an IP block' : '"," or ")"');
      }
      this.pos++;
      this.skipSpace();
      const at = this.pos;
      let text = '';
      while (!this.atEnd() && !/[\s,)]/.test(this.src[this.pos] as string)) text += this.src[this.pos++];
      blocks.push(cidrBlock(text, at));
    }
    this.pos++;
    this.fulltextCarry = false;
    return { kind: 'cidr', field, blocks };
  }

  /** Runs a parenthesised parse whose "(" was consumed at `open`. */
  private group(inner: () => Query, open: number): Query {
    if (++this.depth > MAX_DEPTH)
      throw new QuerySyntaxError(`more than ${MAX_DEPTH} nested parentheses`, open + 1);
    this.skipSpace();
    if (this.peek() === ')') throw this.unexpected('a term');
    const q = inner();
    this.skipSpace();
    if (this.peek() !== ')') {
      if (this.atEnd())
        throw new QuerySyntaxError('unbalanced "("', open + 1, '")" before the end of the query');
      throw this.unexpected('")"');
    }
    this.pos++;
    this.depth--;
    return q;
  }

  private fieldOf(name: string, at: number): Field {
    if (name === '*') return FULLTEXT;
    if (name.startsWith('@')) {
      const path = name.slice(1);
      if (path === '' || path.startsWith('.') || path.endsWith('.') || path.includes('..'))
        throw new QuerySyntaxError(
          `"${name}" is not an attribute path`,
          path === '' ? at + 2 : at + 1,
          'an attribute name after "@"',
        );
      return { kind: 'attr', path };
    }
    const lower = name.toLowerCase();
    if (lower === 'message') return MESSAGE;
    if (lower === 'tags') return { kind: 'tag', key: null };
    if (RESERVED.has(lower)) return { kind: 'reserved', name: lower as ReservedName };
    return { kind: 'tag', key: lower };
  }

  private termQuery(field: Field, value: Value): Query {
    if (field.kind !== 'attr' && (value.kind === 'compare' || value.kind === 'range'))
      throw new QuerySyntaxError(
        'comparisons and ranges apply to @attributes only',
        this.pos,
        'an @attribute',
      );
    this.fulltextCarry = false;
    return { kind: 'term', field, value: normaliseValue(field, value) };
  }

  /**
   * Reads a term up to whitespace or a parenthesis. As a field candidate (`asField`) it also stops at an
   * unescaped ":"; as a value, ":" and "/" are ordinary characters.
   */
  private readTerm(asField: boolean, stopAt = ''): RawTerm {
    const start = this.pos;
    const parts: PatternPart[] = [];
    let text = '';
    let literal = '';
    let hasWildcard = false;
    const flush = () => {
      if (literal) parts.push(literal);
      literal = '';
    };
    while (!this.atEnd()) {
      const c = this.src[this.pos] as string;
      if (TERMINATORS.has(c) || (asField && c === ':') || stopAt.includes(c)) break;
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        if (next === undefined)
          throw new QuerySyntaxError('a "\\" ends the query', this.pos + 1, 'a character to escape');
        literal += next;
        text += next;
        this.pos += 2;
        continue;
      }
      if (c === '"')
        throw new QuerySyntaxError(
          'unexpected """ inside a term',
          this.pos + 1,
          'a space before the phrase, or \\"',
        );
      if (c === '*' || c === '?') {
        flush();
        parts.push({ wildcard: c });
        hasWildcard = true;
        text += c;
        this.pos++;
        continue;
      }
      literal += c;
      text += c;
      this.pos++;
    }
    flush();
    return { parts, text, hasWildcard, start };
  }

  private readPhrase(): string {
    const start = this.pos;
    this.pos++;
    let text = '';
    while (!this.atEnd()) {
      const c = this.src[this.pos] as string;
      if (c === '"') {
        this.pos++;
        return text;
      }
      if (c === '\\' && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === '\\')) {
        text += this.src[this.pos + 1];
        this.pos += 2;
        continue;
      }
      text += c;
      this.pos++;
    }
    throw new QuerySyntaxError('unterminated quoted phrase', start + 1, 'a closing """');
  }

  /** Consumes an uppercase operator word followed by a space, "(" or the end. */
  private keyword(word: string): boolean {
    this.skipSpace();
    if (!this.isKeyword(word)) return false;
    this.pos += word.length;
    return true;
  }

  private isKeyword(word: string): boolean {
    if (!this.src.startsWith(word, this.pos)) return false;
    const after = this.src[this.pos + word.length];
    return (
      after === undefined ||
      after === '(' ||
      after === ')' ||
      after === ' ' ||
      after === '\t' ||
      after === '\n' ||
      after === '\r'
    );
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos++;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private unexpected(expected: string): QuerySyntaxError {
    if (this.atEnd()) return new QuerySyntaxError('unexpected end of query', this.pos + 1, expected);
    const c = this.src[this.pos] as string;
    const word = /^[A-Z]+/.exec(this.src.slice(this.pos))?.[0];
    const shown = word && (word === 'AND' || word === 'OR' || word === 'NOT') ? word : c;
    return new QuerySyntaxError(`unexpected "${shown}"`, this.pos + 1, expected);
  }
}

const MESSAGE: Field = { kind: 'message' };
const FULLTEXT: Field = { kind: 'fulltext' };

function existsOrAll(field: Field): Query {
  return field.kind === 'message' || field.kind === 'fulltext' ? { kind: 'all' } : { kind: 'exists', field };
}

function termValue(t: RawTerm): Value {
  return t.hasWildcard ? { kind: 'pattern', parts: t.parts } : { kind: 'exact', text: t.text };
}

function boundOf(text: string): Bound {
  return NUMBER.test(text) ? { kind: 'number', value: Number(text) } : { kind: 'text', value: text };
}

/** Tags and status compare lowercase; status aliases resolve to the stored names. */
function normaliseValue(field: Field, v: Value): Value {
  const lower = field.kind === 'tag' || (field.kind === 'reserved' && field.name === 'status');
  if (!lower) return v;
  const alias = (s: string) =>
    field.kind === 'reserved' ? (STATUS_ALIASES[s.toLowerCase()] ?? s.toLowerCase()) : s.toLowerCase();
  if (v.kind === 'exact') return { kind: 'exact', text: alias(v.text) };
  if (v.kind === 'pattern')
    return { kind: 'pattern', parts: v.parts.map((p) => (typeof p === 'string' ? p.toLowerCase() : p)) };
  return v;
}

function cidrBlock(text: string, at: number): CidrBlock {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  const prefixText = slash < 0 ? String(family === 6 ? 128 : 32) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (family === 0 || !(prefix >= 0 && prefix <= (family === 6 ? 128 : 32)))
    throw new QuerySyntaxError(
      `CIDR(): "${text}" is not an IP block`,
      at + 1,
      'an IPv4 or IPv6 block like 10.0.0.0/8',
    );
  return { address, prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
}
