// arithmetic-processor: writes the result of `expression` into `target` (datadog-compat.md §2.4).
// The expression has numbers, attribute paths (dot paths; a leading `@` is accepted and ignored), the
// operators + - * / with the usual precedence, unary minus, and parentheses. Attribute names may contain
// `-`, so the `-` operator must stand apart: `(end-time - start-time) / 1000` subtracts two attributes, while
// `a -b` or `a- b` is refused at save time. The expression is parsed here (no eval) when the pipeline is saved
// (schema check with the column of the problem) and compiled once.
// Per log: an attribute that is missing or cannot be read as a number (numbers, and strings holding a decimal
// number) skips the processor, or counts as 0 with is_replace_missing. A division by zero, or a result that
// is not finite, skips the processor too (Datadog does not document it; writing nothing is the safe choice).
// The result overwrites the target and is rounded to 9 decimals (0.1234567891 → 0.123456789).
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase } from '../processor.ts';

/** A parsed expression. */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'attr'; path: string }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr };

/** A problem in an expression, with its 1-based column. */
export class ExpressionError extends Error {
  constructor(
    readonly reason: string,
    readonly column: number,
  ) {
    super(`${reason} at column ${column}`);
  }
}

const MAX_DEPTH = 64;
const NUMBER = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NAME_START = /[\p{L}\p{N}_$]/u;
const NAME_CHAR = /[\p{L}\p{N}_$\-.]/u;
const SPACE = /\s/;

interface Token {
  kind: 'num' | 'attr' | 'op' | '(' | ')';
  text: string;
  col: number;
  value?: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const col = i + 1;
    if (SPACE.test(c)) {
      i++;
    } else if (c === '+' || c === '*' || c === '/') {
      out.push({ kind: 'op', text: c, col });
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ kind: c, text: c, col });
      i++;
    } else {
      let j = i;
      while (j < src.length && !/[\s+*/()]/.test(src[j] as string)) j++;
      word(src.slice(i, j), col, out);
      i = j;
    }
  }
  return out;
}

/** A run of characters between spaces, operators and parentheses: `-`, a number or an attribute path. */
function word(w: string, col: number, out: Token[]): void {
  if (w === '-') {
    out.push({ kind: 'op', text: '-', col });
    return;
  }
  if (w.startsWith('-')) {
    // "-5" is a negative number; "-b" is a minus stuck to an attribute name
    if (NUMBER.test(w.slice(1))) {
      out.push({ kind: 'op', text: '-', col });
      out.push({ kind: 'num', text: w.slice(1), col: col + 1, value: Number(w.slice(1)) });
      return;
    }
    throw new ExpressionError("put spaces around the '-' operator (attribute names can contain '-')", col);
  }
  if (NUMBER.test(w)) {
    out.push({ kind: 'num', text: w, col, value: Number(w) });
    return;
  }
  if (w.endsWith('-'))
    throw new ExpressionError(
      "put spaces around the '-' operator (attribute names can contain '-')",
      col + w.length - 1,
    );
  const path = w.startsWith('@') ? w.slice(1) : w;
  const base = col + (w.length - path.length);
  if (path === '') throw new ExpressionError("expected an attribute name after '@'", col);
  let offset = 0;
  for (const ch of path) {
    if (!(offset === 0 ? NAME_START : NAME_CHAR).test(ch))
      throw new ExpressionError(`unexpected character '${ch}'`, base + offset);
    offset += ch.length;
  }
  const empty = path.split('.').indexOf('');
  if (empty >= 0) {
    const at = path.split('.').slice(0, empty).join('.').length;
    throw new ExpressionError(`empty attribute name part in '${path}'`, base + at);
  }
  out.push({ kind: 'attr', text: path, col });
}

/** Parses an expression; throws ExpressionError with the column of the first problem. */
export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  const end = src.length + 1;
  let pos = 0;
  if (tokens.length === 0) throw new ExpressionError('the expression is empty', 1);

  const peek = () => tokens[pos];
  const sum = (depth: number): Expr => {
    let left = product(depth);
    for (let t = peek(); t?.kind === 'op' && (t.text === '+' || t.text === '-'); t = peek()) {
      pos++;
      left = { kind: 'bin', op: t.text, left, right: product(depth) };
    }
    return left;
  };
  const product = (depth: number): Expr => {
    let left = unary(depth);
    for (let t = peek(); t?.kind === 'op' && (t.text === '*' || t.text === '/'); t = peek()) {
      pos++;
      left = { kind: 'bin', op: t.text, left, right: unary(depth) };
    }
    return left;
  };
  const unary = (depth: number): Expr => {
    const t = peek();
    if (depth > MAX_DEPTH) throw new ExpressionError('the expression is nested too deeply', t?.col ?? end);
    if (t?.kind === 'op' && t.text === '-') {
      pos++;
      return { kind: 'neg', arg: unary(depth + 1) };
    }
    return primary(depth);
  };
  const primary = (depth: number): Expr => {
    const t = peek();
    if (!t) throw new ExpressionError("expected an attribute, a number or '(' at the end", end);
    pos++;
    if (t.kind === 'num') return { kind: 'num', value: t.value as number };
    if (t.kind === 'attr') return { kind: 'attr', path: t.text };
    if (t.kind === '(') {
      const inner = sum(depth + 1);
      const close = peek();
      if (close?.kind !== ')') {
        if (close) throw new ExpressionError(`expected ')' or an operator, found '${close.text}'`, close.col);
        throw new ExpressionError(`missing ')' for the '(' at column ${t.col}`, end);
      }
      pos++;
      return inner;
    }
    throw new ExpressionError(`expected an attribute, a number or '(', found '${t.text}'`, t.col);
  };

  const expr = sum(0);
  const rest = peek();
  if (rest) {
    if (rest.kind === ')') throw new ExpressionError("unexpected ')'", rest.col);
    throw new ExpressionError(`expected an operator before '${rest.text}'`, rest.col);
  }
  return expr;
}

/** Evaluates an expression; undefined when an operand is missing or the result is not a finite number. */
export function evaluate(e: Expr, read: (path: string) => number | undefined): number | undefined {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'attr':
      return read(e.path);
    case 'neg': {
      const v = evaluate(e.arg, read);
      return v === undefined ? undefined : -v;
    }
    case 'bin': {
      const a = evaluate(e.left, read);
      if (a === undefined) return undefined;
      const b = evaluate(e.right, read);
      if (b === undefined) return undefined;
      let r: number;
      if (e.op === '+') r = a + b;
      else if (e.op === '-') r = a - b;
      else if (e.op === '*') r = a * b;
      else if (b === 0) return undefined;
      else r = a / b;
      return Number.isFinite(r) ? r : undefined;
    }
  }
}

const DECIMAL = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** An attribute value as a number: numbers, and strings holding a decimal number. */
export function toNumber(v: Json | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Rounds to 9 decimals (decimal rounding of the double, no float drift on large values). */
export function round9(x: number): number {
  if (Math.abs(x) >= 1e21) return x;
  const r = Number(x.toFixed(9));
  return r === 0 ? 0 : r;
}

export const arithmeticProcessor = defineProcessor({
  type: 'arithmetic-processor',
  schema: z
    .object({
      type: z.literal('arithmetic-processor'),
      ...processorBase,
      expression: z.string().min(1).max(4096),
      target: z.string().min(1).max(512),
      is_replace_missing: z.boolean().default(false),
    })
    .superRefine((p, ctx) => {
      try {
        parseExpression(p.expression);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['expression'], message: err.message });
      }
      if (/\s/.test(p.target))
        ctx.addIssue({ code: 'custom', path: ['target'], message: 'the target cannot contain spaces' });
    }),
  compile(def) {
    let expr: Expr;
    try {
      expr = parseExpression(def.expression);
    } catch (err) {
      // only reachable when validation was bypassed: fail on each log rather than break the whole engine
      const message = (err as Error).message;
      return () => {
        throw new Error(`invalid expression: ${message}`);
      };
    }
    const missing = def.is_replace_missing ? 0 : undefined;
    return (log) => {
      const result = evaluate(expr, (path) => toNumber(getPath(log.event, path)) ?? missing);
      if (result === undefined) return;
      setAttribute(log.event.attributes, def.target, round9(result));
    };
  },
});
