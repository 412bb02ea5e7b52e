// The scope language of notification rules (docs/notifications.md, "Notification rules"): a boolean query over
// `key:value` tags, as Datadog documents it for `filter.scope` and condition scopes. Not the log search
// language: there is no free text, no attribute lookup, no range; keyless tags, partial wildcards (`web-*`)
// and `?` are rejected, `key:*` means "the key is present".
//
//   scope  := or
//   or     := and ("OR" and)*
//   and    := unary (["AND"] unary)*          (juxtaposition is AND)
//   unary  := ("NOT" | "-") unary | "(" or ")" | term
//   term   := key ":" (value | "(" value ("OR" value)* ")")
//   value  := bare word | "quoted \"text\"" | "*"
//
// Keywords are upper case, as in Datadog's search syntax. Keys and values compare ignoring case (Datadog
// lower-cases tags).

/** A parsed scope. */
export type Scope =
  | { kind: 'and'; children: Scope[] }
  | { kind: 'or'; children: Scope[] }
  | { kind: 'not'; child: Scope }
  /** `key:value`, or `key:*` (value null) */
  | { kind: 'tag'; key: string; value: string | null };

/** A scope that does not parse; `column` is 1-based. */
export class ScopeSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly column: number,
  ) {
    super(`${reason} at column ${column}`);
  }
}

export const MAX_SCOPE_LENGTH = 3000;
const MAX_DEPTH = 32;
/** Characters that end a bare word. */
const STOP = new Set([' ', '\t', '\n', '\r', '(', ')', '"']);

/** Parses a scope; throws ScopeSyntaxError. */
export function parseScope(src: string): Scope {
  if (src.length > MAX_SCOPE_LENGTH)
    throw new ScopeSyntaxError(
      `the scope is longer than ${MAX_SCOPE_LENGTH} characters`,
      MAX_SCOPE_LENGTH + 1,
    );
  return new Parser(src).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly src: string) {}

  parse(): Scope {
    this.space();
    if (this.atEnd()) throw new ScopeSyntaxError('the scope is empty', 1);
    const s = this.or();
    this.space();
    if (!this.atEnd()) throw this.unexpected('AND, OR or the end of the scope');
    return s;
  }

  private or(): Scope {
    const children = [this.and()];
    while (this.keyword('OR')) children.push(this.and());
    return children.length === 1 ? children[0]! : { kind: 'or', children };
  }

  private and(): Scope {
    const children = [this.unary()];
    for (;;) {
      this.space();
      if (this.atEnd() || this.src[this.pos] === ')' || this.isKeyword('OR')) break;
      this.keyword('AND');
      children.push(this.unary());
    }
    return children.length === 1 ? children[0]! : { kind: 'and', children };
  }

  private unary(): Scope {
    this.space();
    if (this.atEnd()) throw this.unexpected('a tag key:value');
    if (this.keyword('NOT')) return { kind: 'not', child: this.nested(() => this.unary()) };
    if (this.src[this.pos] === '-') {
      this.pos++;
      return { kind: 'not', child: this.nested(() => this.unary()) };
    }
    if (this.src[this.pos] === '(') {
      this.pos++;
      const inner = this.nested(() => this.or());
      this.space();
      if (this.src[this.pos] !== ')') throw this.unexpected('")"');
      this.pos++;
      return inner;
    }
    return this.term();
  }

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new ScopeSyntaxError('the scope is nested too deeply', this.pos + 1);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private term(): Scope {
    const start = this.pos;
    if (this.src[this.pos] === '"')
      throw new ScopeSyntaxError('keyless tags are not supported: write key:"value"', start + 1);
    let colon = -1;
    while (!this.atEnd() && !STOP.has(this.src[this.pos]!)) {
      if (this.src[this.pos] === ':') {
        colon = this.pos;
        break;
      }
      this.pos++;
    }
    const key = this.src.slice(start, colon < 0 ? this.pos : colon);
    if (colon < 0) {
      if (['and', 'or', 'not'].includes(key.toLowerCase()))
        throw new ScopeSyntaxError(`"${key}" is not an operator: write ${key.toUpperCase()}`, start + 1);
      throw new ScopeSyntaxError(
        `keyless tags are not supported ("${key}"): every tag needs a key, e.g. env:${key || 'prod'}`,
        start + 1,
      );
    }
    if (key === '') throw new ScopeSyntaxError('a tag key is missing before ":"', start + 1);
    this.pos = colon + 1;
    if (this.src[this.pos] === '(') {
      this.pos++;
      const values = [this.value(key)];
      for (;;) {
        this.space();
        if (this.src[this.pos] === ')') {
          this.pos++;
          break;
        }
        if (!this.keyword('OR')) throw this.unexpected(`OR or ")" in the values of "${key}"`);
        values.push(this.value(key));
      }
      const terms = values.map((value) => ({ kind: 'tag' as const, key, value }));
      return terms.length === 1 ? terms[0]! : { kind: 'or', children: terms };
    }
    return { kind: 'tag', key, value: this.value(key) };
  }

  /** A value (quoted or bare); null for a lone `*`. */
  private value(key: string): string | null {
    this.space();
    const start = this.pos;
    if (this.src[this.pos] === '"') {
      let out = '';
      this.pos++;
      for (;;) {
        if (this.atEnd()) throw new ScopeSyntaxError('unterminated quoted value', start + 1);
        const c = this.src[this.pos++]!;
        if (c === '"') break;
        if (c === '\\' && !this.atEnd()) out += this.src[this.pos++];
        else out += c;
      }
      if (out === '') throw new ScopeSyntaxError(`the value of "${key}" is empty`, start + 1);
      return out;
    }
    let out = '';
    while (!this.atEnd() && !STOP.has(this.src[this.pos]!)) {
      const c = this.src[this.pos++]!;
      if (c === '\\' && !this.atEnd()) out += this.src[this.pos++];
      else out += c;
    }
    if (out === '') throw new ScopeSyntaxError(`the value of "${key}" is missing`, start + 1);
    if (this.src.slice(start, this.pos) === '*') return null;
    if (/[*?]/.test(this.src.slice(start, this.pos).replace(/\\./g, '')))
      throw new ScopeSyntaxError(
        `wildcards are only supported alone ("${key}:*"), not in "${this.src.slice(start, this.pos)}"`,
        start + 1,
      );
    return out;
  }

  private space(): void {
    while (!this.atEnd() && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private isKeyword(k: string): boolean {
    this.space();
    if (!this.src.startsWith(k, this.pos)) return false;
    const next = this.src[this.pos + k.length];
    return next === undefined || /\s/.test(next) || next === '(';
  }

  private keyword(k: string): boolean {
    if (!this.isKeyword(k)) return false;
    this.pos += k.length;
    return true;
  }

  private unexpected(expected: string): ScopeSyntaxError {
    if (this.atEnd())
      return new ScopeSyntaxError(`unexpected end of the scope: expected ${expected}`, this.pos + 1);
    return new ScopeSyntaxError(`unexpected "${this.src[this.pos]}": expected ${expected}`, this.pos + 1);
  }
}

/** A set of tags: lower-cased key → lower-cased values; keyless tags under their own name with no value. */
export class TagSet {
  private readonly map = new Map<string, Set<string>>();
  private readonly keyless = new Set<string>();

  constructor(tags: Iterable<string> = []) {
    for (const t of tags) this.addTag(t);
  }

  /** Adds `key:value` (split at the first colon) or a keyless tag. */
  addTag(tag: string): void {
    const i = tag.indexOf(':');
    if (i <= 0) this.keyless.add(tag.toLowerCase());
    else this.add(tag.slice(0, i), tag.slice(i + 1));
  }

  add(key: string, value: string): void {
    const k = key.toLowerCase();
    let vs = this.map.get(k);
    if (!vs) {
      vs = new Set();
      this.map.set(k, vs);
    }
    vs.add(value.toLowerCase());
  }

  has(key: string, value: string | null): boolean {
    const vs = this.map.get(key.toLowerCase());
    if (!vs) return false;
    return value === null || vs.has(value.toLowerCase());
  }

  /** A whole tag as written in a tags filter: `key:value`, `key:*`, or a keyless tag. */
  hasTag(tag: string): boolean {
    const i = tag.indexOf(':');
    if (i <= 0) return this.keyless.has(tag.toLowerCase());
    const value = tag.slice(i + 1);
    return this.has(tag.slice(0, i), value === '*' ? null : value);
  }
}

/** Evaluates a scope against a tag set; `special` answers for keys that are not tags (transition_type). */
export function evalScope(
  s: Scope,
  tags: TagSet,
  special?: (key: string, value: string | null) => boolean | undefined,
): boolean {
  switch (s.kind) {
    case 'and':
      return s.children.every((c) => evalScope(c, tags, special));
    case 'or':
      return s.children.some((c) => evalScope(c, tags, special));
    case 'not':
      return !evalScope(s.child, tags, special);
    case 'tag':
      return special?.(s.key, s.value) ?? tags.has(s.key, s.value);
  }
}

/** The distinct keys a scope tests. */
export function scopeKeys(s: Scope, out = new Set<string>()): Set<string> {
  if (s.kind === 'tag') out.add(s.key.toLowerCase());
  else if (s.kind === 'not') scopeKeys(s.child, out);
  else for (const c of s.children) scopeKeys(c, out);
  return out;
}

/** True when a scope only has OR and tags (no AND, no NOT). */
export function isDisjunction(s: Scope): boolean {
  if (s.kind === 'tag') return true;
  if (s.kind === 'or') return s.children.every(isDisjunction);
  return false;
}
