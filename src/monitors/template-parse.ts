// Parser for monitor message templates (Datadog's Handlebars-like syntax). Linear scan, explicit block
// stack, bounded nesting; never throws. Problems are collected as messages for checkTemplate; rendering
// uses the tree anyway (unclosed blocks end at the end of the template, stray closes are ignored).
import { parseEval } from './template-eval.ts';
import { isValidTimeZone } from './template-format.ts';
import type { TagArg, TemplateNode } from './template-types.ts';

/** Deepest block nesting rendered; deeper blocks are dropped (and reported). */
export const MAX_BLOCK_DEPTH = 50;
const MAX_ERRORS = 50;

/** Conditional blocks and what they take. */
export const CONDITIONS = new Set([
  'is_alert',
  'is_warning',
  'is_recovery',
  'is_alert_recovery',
  'is_warning_recovery',
  'is_alert_to_warning',
  'is_no_data',
  'is_no_data_recovery',
  'is_unknown',
  'is_renotify',
  'is_priority',
  'is_match',
  'is_exact_match',
]);

/** Inline helpers. */
export const HELPERS = new Set(['eval', 'local_time', 'urlencode', 'override_priority']);

/** Variables `{{local_time 'x' 'tz'}}` accepts. */
export const TIME_VARIABLES = new Set([
  'first_triggered_at',
  'last_triggered_at',
  'first_triggered_at_epoch',
  'last_triggered_at_epoch',
  'log.timestamp',
]);

type Tok =
  | { t: 'text'; s: string }
  | { t: 'open'; name: string; args: TagArg[]; negated: boolean; pos: number }
  | { t: 'close'; name: string; pos: number }
  | { t: 'else'; pos: number }
  | { t: 'comment' }
  | { t: 'var'; path: string; escape: boolean }
  | { t: 'helper'; name: string; args: TagArg[]; escape: boolean; pos: number }
  | { t: 'raw'; name: string; args: TagArg[]; text: string; pos: number };

/** Result of parsing: the tree and every problem found. */
export interface ParsedTemplate {
  nodes: TemplateNode[];
  errors: string[];
}

class Errors {
  readonly list: string[] = [];
  constructor(private readonly src: string) {}
  add(pos: number, msg: string): void {
    if (this.list.length < MAX_ERRORS) this.list.push(`${msg} (line ${this.line(pos)})`);
    else if (this.list.length === MAX_ERRORS) this.list.push('too many problems; the rest are not listed');
  }
  private line(pos: number): number {
    let n = 1;
    for (let i = this.src.indexOf('\n'); i >= 0 && i < pos; i = this.src.indexOf('\n', i + 1)) n++;
    return n;
  }
}

/** Splits a tag's inside into words and quoted strings. */
export function splitArgs(s: string): { args: TagArg[]; error?: string } {
  const args: TagArg[] = [];
  let error: string | undefined;
  let k = 0;
  while (k < s.length) {
    const c = s[k]!;
    if (/\s/.test(c)) {
      k++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, k + 1);
      if (end < 0) {
        error = `unterminated string ${c}${s.slice(k + 1)}`;
        args.push({ value: s.slice(k + 1), quoted: true });
        break;
      }
      args.push({ value: s.slice(k + 1, end), quoted: true });
      k = end + 1;
      continue;
    }
    let j = k;
    while (j < s.length && !/\s/.test(s[j]!)) {
      if (s[j] === '[') {
        const close = s.indexOf(']', j + 1);
        j = close < 0 ? s.length : close + 1;
      } else j++;
    }
    args.push({ value: s.slice(k, j), quoted: false });
    k = j;
  }
  return error ? { args, error } : { args };
}

/** `{{{{name args}}}}…{{{{/name}}}}` at j; returns where scanning resumes. */
function scanRaw(src: string, j: number, toks: Tok[], errors: Errors): number {
  const end = src.indexOf('}}}}', j + 4);
  if (end < 0) {
    errors.add(j, 'unterminated {{{{');
    toks.push({ t: 'text', s: src.slice(j) });
    return src.length;
  }
  const inner = src.slice(j + 4, end).trim();
  if (inner.startsWith('/')) {
    errors.add(j, `{{{{${inner}}}}} closes no raw block`);
    return end + 4;
  }
  const { args, error } = splitArgs(inner);
  const name = args.shift()?.value ?? '';
  if (error) errors.add(j, error);
  const closeRe = new RegExp(`\\{\\{\\{\\{\\s*/\\s*${escapeRe(name)}\\s*\\}\\}\\}\\}`, 'g');
  closeRe.lastIndex = end + 4;
  const m = name ? closeRe.exec(src) : null;
  if (!m) {
    errors.add(j, `{{{{${name}}}}} is never closed by {{{{/${name}}}}}`);
    toks.push({ t: 'raw', name, args, text: src.slice(end + 4), pos: j });
    return src.length;
  }
  toks.push({ t: 'raw', name, args, text: src.slice(end + 4, m.index), pos: j });
  return m.index + m[0].length;
}

/** `{{!-- … --}}` or `{{! … }}` at j; returns where scanning resumes. */
function scanComment(src: string, j: number, toks: Tok[], errors: Errors): number {
  let end = src.startsWith('{{!--', j) ? src.indexOf('--}}', j + 5) : -1;
  let len = 4;
  if (end < 0) {
    end = src.indexOf('}}', j + 3);
    len = 2;
  }
  if (end < 0) {
    errors.add(j, 'unterminated comment');
    return src.length;
  }
  toks.push({ t: 'comment' });
  return end + len;
}

/** `{{x}}` or `{{{x}}}` at j; returns where scanning resumes. */
function scanTag(src: string, j: number, toks: Tok[], errors: Errors): number {
  const triple = src.startsWith('{{{', j);
  const closer = triple ? '}}}' : '}}';
  const start = j + (triple ? 3 : 2);
  const end = src.indexOf(closer, start);
  if (end < 0) {
    errors.add(j, `unterminated ${triple ? '{{{' : '{{'}`);
    toks.push({ t: 'text', s: src.slice(j) });
    return src.length;
  }
  const tok = classify(src.slice(start, end), !triple, j, errors);
  if (tok) toks.push(tok);
  return end + closer.length;
}

function tokenize(src: string, errors: Errors): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const j = src.indexOf('{{', i);
    const textEnd = j < 0 ? src.length : j;
    if (textEnd > i) toks.push({ t: 'text', s: src.slice(i, textEnd) });
    if (j < 0) break;
    if (src.startsWith('{{{{', j)) i = scanRaw(src, j, toks, errors);
    else if (src.startsWith('{{!', j)) i = scanComment(src, j, toks, errors);
    else i = scanTag(src, j, toks, errors);
  }
  return toks;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function classify(raw: string, escaped: boolean, pos: number, errors: Errors): Tok | null {
  // whitespace control (~) is accepted and ignored
  const inner = raw.replace(/^~/, '').replace(/~$/, '').trim();
  if (inner === '') {
    errors.add(pos, 'empty tag {{}}');
    return null;
  }
  const first = inner[0]!;
  if (inner === 'else' || inner === '^') return { t: 'else', pos };
  if (/^else\s/.test(inner)) {
    errors.add(pos, `{{${inner}}} is not supported (only a plain {{else}})`);
    return { t: 'else', pos };
  }
  if (first === '#' || first === '^') {
    const { args, error } = splitArgs(inner.slice(1));
    if (error) errors.add(pos, error);
    const name = args.shift()?.value ?? '';
    if (!name) {
      errors.add(pos, `{{${inner}}} names no block`);
      return null;
    }
    return { t: 'open', name, args, negated: first === '^', pos };
  }
  if (first === '/') {
    const name = inner.slice(1).trim().split(/\s+/)[0] ?? '';
    return { t: 'close', name, pos };
  }
  if (first === '>') {
    errors.add(pos, `partials are not supported: {{${inner}}}`);
    return null;
  }
  let body = inner;
  let esc = escaped;
  if (first === '&') {
    body = inner.slice(1).trim();
    esc = false;
  }
  const { args, error } = splitArgs(body);
  if (error) errors.add(pos, error);
  const name = args.shift()?.value ?? '';
  if (HELPERS.has(name)) return { t: 'helper', name, args, escape: esc, pos };
  if (args.length > 0) {
    errors.add(pos, `unknown helper ${name} in {{${inner}}}`);
    return { t: 'helper', name, args, escape: esc, pos };
  }
  return { t: 'var', path: name, escape: esc };
}

/** Length of the spaces after the last line break (or of the whole text when atStart); -1 when other
 * characters follow the last line break. */
function trailingIndent(s: string, atStart: boolean): number {
  let k = s.length;
  while (k > 0 && (s[k - 1] === ' ' || s[k - 1] === '\t')) k--;
  if (k === 0) return atStart ? s.length : -1;
  return s[k - 1] === '\n' ? s.length - k : -1;
}

/** Length of the spaces and first line break at the start (the whole text at the end); -1 otherwise. */
function leadingLineEnd(s: string, atEnd: boolean): number {
  let k = 0;
  while (k < s.length && (s[k] === ' ' || s[k] === '\t')) k++;
  if (k === s.length) return atEnd ? k : -1;
  if (s[k] === '\n') return k + 1;
  if (s[k] === '\r' && s[k + 1] === '\n') return k + 2;
  return -1;
}

const STANDALONE = new Set(['open', 'close', 'else', 'comment', 'raw']);

function isStandaloneTok(tok: Tok): boolean {
  return STANDALONE.has(tok.t) || (tok.t === 'helper' && tok.name === 'override_priority');
}

/**
 * Handlebars' standalone lines: a block tag, {{else}}, a comment or {{override_priority}} alone on its line
 * removes the line's indentation and line break, so that block tags do not leave blank lines behind.
 */
/** For a standalone tag at i: how much to cut from the end of the text before and the start of the text
 * after; null when the tag shares its line with something else. */
function standaloneCut(toks: Tok[], i: number): [number, number] | null {
  const prev = i > 0 ? toks[i - 1]! : null;
  const next = i + 1 < toks.length ? toks[i + 1]! : null;
  if ((prev && prev.t !== 'text') || (next && next.t !== 'text')) return null;
  const before = prev?.t === 'text' ? trailingIndent(prev.s, i - 1 === 0) : 0;
  const after = next?.t === 'text' ? leadingLineEnd(next.s, i + 1 === toks.length - 1) : 0;
  return before < 0 || after < 0 ? null : [before, after];
}

function stripStandalone(toks: Tok[]): void {
  const cutStart = new Array<number>(toks.length).fill(0);
  const cutEnd = new Array<number>(toks.length).fill(0);
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!;
    const cut = isStandaloneTok(tok) ? standaloneCut(toks, i) : null;
    if (!cut) continue;
    if (i > 0) cutEnd[i - 1] = cut[0];
    if (i + 1 < toks.length) cutStart[i + 1] = cut[1];
    if (tok.t === 'raw') {
      // the raw block's own first line break and last line's indentation go too
      tok.text = tok.text.replace(/^[ \t]*\r?\n/, '').replace(/\n[ \t]*$/, '\n');
    }
  }
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!;
    if (tok.t !== 'text' || (cutStart[i] === 0 && cutEnd[i] === 0)) continue;
    const from = cutStart[i]!;
    tok.s = tok.s.slice(from, Math.max(from, tok.s.length - cutEnd[i]!));
  }
}

interface Frame {
  name: string;
  args: TagArg[];
  negated: boolean;
  pos: number;
  body: TemplateNode[];
  alt: TemplateNode[] | null;
  /** dropped for nesting too deep: built but never attached */
  dropped: boolean;
}

/** Builds the tree from tokens with an explicit stack (no recursion), repairing what is unbalanced. */
class TreeBuilder {
  readonly root: TemplateNode[] = [];
  private readonly stack: Frame[] = [];
  /** open frames by name, so that a stray close does not scan the whole stack */
  private readonly openCount = new Map<string, number>();
  private tooDeepReported = false;

  constructor(private readonly errors: Errors) {}

  private target(): TemplateNode[] {
    const f = this.stack[this.stack.length - 1];
    return f ? (f.alt ?? f.body) : this.root;
  }

  private pop(): Frame {
    const f = this.stack.pop()!;
    this.openCount.set(f.name, (this.openCount.get(f.name) ?? 1) - 1);
    return f;
  }

  private attach(f: Frame): void {
    if (f.dropped) return;
    this.target().push({
      kind: 'block',
      name: f.name,
      args: f.args,
      negated: f.negated,
      body: f.body,
      alt: f.alt,
    });
  }

  add(tok: Tok): void {
    switch (tok.t) {
      case 'text':
        if (tok.s) this.target().push({ kind: 'text', text: tok.s });
        return;
      case 'comment':
        return;
      case 'var':
        this.target().push({ kind: 'var', path: tok.path, escape: tok.escape });
        return;
      case 'helper':
        checkHelper(tok.name, tok.args, tok.pos, this.errors);
        this.target().push({ kind: 'helper', name: tok.name, args: tok.args, escape: tok.escape });
        return;
      case 'raw':
        if (tok.name !== 'raw') checkBlock(tok.name, tok.args, tok.pos, this.errors);
        else if (tok.args.length > 0) this.errors.add(tok.pos, '{{{{raw}}}} takes no arguments');
        this.target().push({ kind: 'rawblock', name: tok.name, args: tok.args, text: tok.text });
        return;
      case 'open':
        this.open(tok);
        return;
      case 'else':
        this.else(tok.pos);
        return;
      case 'close':
        this.close(tok.name, tok.pos);
        return;
    }
  }

  private open(tok: Extract<Tok, { t: 'open' }>): void {
    checkBlock(tok.name, tok.args, tok.pos, this.errors);
    const parentDropped = this.stack[this.stack.length - 1]?.dropped ?? false;
    const tooDeep = this.stack.length >= MAX_BLOCK_DEPTH;
    if (tooDeep && !this.tooDeepReported) {
      this.errors.add(tok.pos, `blocks are nested deeper than ${MAX_BLOCK_DEPTH}`);
      this.tooDeepReported = true;
    }
    this.openCount.set(tok.name, (this.openCount.get(tok.name) ?? 0) + 1);
    this.stack.push({
      name: tok.name,
      args: tok.args,
      negated: tok.negated,
      pos: tok.pos,
      body: [],
      alt: null,
      dropped: tooDeep || parentDropped,
    });
  }

  private else(pos: number): void {
    const f = this.stack[this.stack.length - 1];
    if (!f) this.errors.add(pos, '{{else}} outside a block');
    else if (f.alt) this.errors.add(pos, `second {{else}} in {{#${f.name}}}`);
    else f.alt = [];
  }

  private close(name: string, pos: number): void {
    if (!this.openCount.get(name)) {
      this.errors.add(pos, `{{/${name}}} closes no open block`);
      return;
    }
    // close the blocks opened inside the one named (each is popped once: amortised constant time)
    while (this.stack[this.stack.length - 1]!.name !== name) {
      const f = this.pop();
      this.errors.add(f.pos, `{{${f.negated ? '^' : '#'}${f.name}}} is not closed before {{/${name}}}`);
      this.attach(f);
    }
    this.attach(this.pop());
  }

  finish(): TemplateNode[] {
    while (this.stack.length > 0) {
      const f = this.pop();
      this.errors.add(f.pos, `{{${f.negated ? '^' : '#'}${f.name}}} is never closed`);
      this.attach(f);
    }
    return this.root;
  }
}

/** Parses a template; never throws. */
export function parseTemplate(src: string): ParsedTemplate {
  const errors = new Errors(src);
  const toks = tokenize(src, errors);
  stripStandalone(toks);
  const builder = new TreeBuilder(errors);
  for (const tok of toks) builder.add(tok);
  return { nodes: builder.finish(), errors: errors.list };
}

const PRIORITY_RE = /^[Pp][1-5]$/;

function checkBlock(name: string, args: TagArg[], pos: number, errors: Errors): void {
  if (!CONDITIONS.has(name)) {
    errors.add(pos, `unknown block {{#${name}}}`);
    return;
  }
  if (name === 'is_priority') {
    if (args.length !== 1 || !PRIORITY_RE.test(args[0]!.value)) {
      errors.add(pos, `{{#is_priority}} takes one priority from 'P1' to 'P5'`);
    }
  } else if (name === 'is_match' || name === 'is_exact_match') {
    if (args.length < 2) {
      errors.add(
        pos,
        `{{#${name}}} takes a variable and at least one string: {{#${name} "env.name" "prod"}}`,
      );
    } else if (!args.every((a) => a.quoted)) {
      errors.add(pos, `{{#${name}}} arguments must be quoted strings`);
    } else if (args[0]!.value.trim() === '') {
      errors.add(pos, `{{#${name}}} names no variable`);
    }
  } else if (args.length > 0) {
    errors.add(pos, `{{#${name}}} takes no arguments`);
  }
}

function checkHelper(name: string, args: TagArg[], pos: number, errors: Errors): void {
  switch (name) {
    case 'eval': {
      if (args.length !== 1 || !args[0]!.quoted) {
        errors.add(pos, '{{eval}} takes one quoted expression: {{eval "value*2"}}');
        return;
      }
      const parsed = parseEval(args[0]!.value);
      if ('error' in parsed) errors.add(pos, `{{eval "${args[0]!.value}"}}: ${parsed.error}`);
      return;
    }
    case 'local_time': {
      if (args.length !== 2) {
        errors.add(
          pos,
          "{{local_time}} takes a time variable and a time zone: {{local_time 'last_triggered_at' 'Europe/Paris'}}",
        );
        return;
      }
      if (!TIME_VARIABLES.has(args[0]!.value)) {
        errors.add(
          pos,
          `{{local_time}}: ${args[0]!.value} is not a time variable (${[...TIME_VARIABLES].join(', ')})`,
        );
      }
      if (!isValidTimeZone(args[1]!.value))
        errors.add(pos, `{{local_time}}: unknown time zone ${args[1]!.value}`);
      return;
    }
    case 'urlencode':
      if (args.length !== 1)
        errors.add(pos, '{{urlencode}} takes one variable name: {{urlencode "service.name"}}');
      return;
    case 'override_priority':
      if (args.length !== 1 || !PRIORITY_RE.test(args[0]!.value)) {
        errors.add(pos, "{{override_priority}} takes one priority from 'P1' to 'P5'");
      }
      return;
    default:
      return; // unknown helpers were reported by classify
  }
}
