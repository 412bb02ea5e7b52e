// `{{eval "expr"}}`: a small arithmetic language over numeric template variables (Datadog's "template
// variable evaluation"): + - * / % ^, parentheses, unary minus and the documented functions. Own parser,
// bounded in length and depth; no JavaScript evaluation.
import { formatNumber, humanizeBits, humanizeBytes } from './template-format.ts';

/** A parsed expression. */
export type EvalExpr =
  | { k: 'num'; v: number }
  | { k: 'id'; name: string }
  | { k: 'neg'; e: EvalExpr }
  | { k: 'bin'; op: string; l: EvalExpr; r: EvalExpr }
  | { k: 'call'; fn: string; args: EvalExpr[] };

/** A value during evaluation; `float` marks results of float() so that 5 renders "5.0". */
type Value =
  | { kind: 'num'; v: number; float: boolean }
  | { kind: 'str'; v: string }
  | { kind: 'bool'; v: boolean };

const MAX_SOURCE = 2000;
const MAX_DEPTH = 64;

type Tok = { t: 'num'; v: number } | { t: 'id'; v: string } | { t: 'op'; v: string };

const num = (v: number, float = false): Value => ({ kind: 'num', v, float });

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (a: number[], floatIn: boolean) => Value }> = {
  humanize_bytes: { arity: [1, 1], fn: (a) => ({ kind: 'str', v: humanizeBytes(a[0]!) }) },
  humanize_bits: { arity: [1, 1], fn: (a) => ({ kind: 'str', v: humanizeBits(a[0]!) }) },
  abs: { arity: [1, 1], fn: (a, f) => num(Math.abs(a[0]!), f) },
  int: { arity: [1, 1], fn: (a) => num(Math.trunc(a[0]!)) },
  trunc: { arity: [1, 1], fn: (a) => num(Math.trunc(a[0]!)) },
  float: { arity: [1, 1], fn: (a) => num(a[0]!, true) },
  dec: { arity: [1, 1], fn: (a) => num(decimalPart(a[0]!)) },
  round: {
    arity: [1, 2],
    fn: (a) => {
      const p = 10 ** Math.max(0, Math.min(15, Math.trunc(a[1] ?? 0)));
      const x = a[0]!;
      return num((Math.sign(x) * Math.round(Math.abs(x) * p)) / p);
    },
  },
  ceil: { arity: [1, 1], fn: (a) => num(Math.ceil(a[0]!)) },
  floor: { arity: [1, 1], fn: (a) => num(Math.floor(a[0]!)) },
  sgn: { arity: [1, 1], fn: (a) => num(Math.sign(a[0]!)) },
  to_bool: { arity: [1, 1], fn: (a) => ({ kind: 'bool', v: a[0] !== 0 }) },
  exp: { arity: [1, 1], fn: (a) => num(Math.exp(a[0]!), true) },
  log10: { arity: [1, 1], fn: (a) => num(Math.log10(a[0]!), true) },
  sin: { arity: [1, 1], fn: (a) => num(Math.sin(a[0]!), true) },
  sinh: { arity: [1, 1], fn: (a) => num(Math.sinh(a[0]!), true) },
  asin: { arity: [1, 1], fn: (a) => num(Math.asin(a[0]!), true) },
  asinh: { arity: [1, 1], fn: (a) => num(Math.asinh(a[0]!), true) },
  cos: { arity: [1, 1], fn: (a) => num(Math.cos(a[0]!), true) },
  cosh: { arity: [1, 1], fn: (a) => num(Math.cosh(a[0]!), true) },
  acos: { arity: [1, 1], fn: (a) => num(Math.acos(a[0]!), true) },
  acosh: { arity: [1, 1], fn: (a) => num(Math.acosh(a[0]!), true) },
  tan: { arity: [1, 1], fn: (a) => num(Math.tan(a[0]!), true) },
  tanh: { arity: [1, 1], fn: (a) => num(Math.tanh(a[0]!), true) },
  atan: { arity: [1, 1], fn: (a) => num(Math.atan(a[0]!), true) },
  atan2: { arity: [2, 2], fn: (a) => num(Math.atan2(a[0]!, a[1]!), true) },
  atanh: { arity: [1, 1], fn: (a) => num(Math.atanh(a[0]!), true) },
};

/** The decimal part as written: dec(12.345) = 0.345 (not 0.34500000000000064). */
function decimalPart(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return 0;
  const s = formatNumber(x);
  const dot = s.indexOf('.');
  if (dot < 0 || s.includes('e')) return x - Math.trunc(x);
  return Number(`${x < 0 ? '-' : ''}0${s.slice(dot)}`);
}

/** Names of the functions eval knows. */
export const EVAL_FUNCTIONS: readonly string[] = Object.keys(FUNCTIONS);

/** End of a variable name starting at i (dots, @ and bracketed parts included); -1 for an open "[". */
function identifierEnd(src: string, i: number): number {
  let j = i;
  while (j < src.length) {
    const d = src[j]!;
    if (d === '[') {
      const close = src.indexOf(']', j + 1);
      if (close < 0) return -1;
      j = close + 1;
    } else if (/[A-Za-z0-9_.@]/.test(d)) j++;
    else break;
  }
  return j;
}

function tokenize(src: string): Tok[] | string {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const numMatch = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (numMatch) {
      toks.push({ t: 'num', v: Number(numMatch[0]) });
      i += numMatch[0].length;
      continue;
    }
    if (/[A-Za-z_@[]/.test(c)) {
      const j = identifierEnd(src, i);
      if (j < 0) return `unterminated "[" in ${JSON.stringify(src)}`;
      toks.push({ t: 'id', v: src.slice(i, j) });
      i = j;
      continue;
    }
    if (src.startsWith('**', i)) {
      toks.push({ t: 'op', v: '^' });
      i += 2;
      continue;
    }
    if ('+-*/%^(),'.includes(c)) {
      toks.push({ t: 'op', v: c });
      i++;
      continue;
    }
    return `unexpected character ${JSON.stringify(c)}`;
  }
  return toks;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[]) {}

  private peekOp(...ops: string[]): string | undefined {
    const t = this.toks[this.i];
    return t?.t === 'op' && ops.includes(t.v) ? t.v : undefined;
  }

  parseAll(): EvalExpr {
    const e = this.expr();
    if (this.i < this.toks.length) throw new Error(`unexpected ${describe(this.toks[this.i]!)}`);
    return e;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new Error('expression nested too deeply');
  }

  private expr(): EvalExpr {
    this.enter();
    let l = this.term();
    for (let op = this.peekOp('+', '-'); op; op = this.peekOp('+', '-')) {
      this.i++;
      l = { k: 'bin', op, l, r: this.term() };
    }
    this.depth--;
    return l;
  }

  private term(): EvalExpr {
    let l = this.unary();
    for (let op = this.peekOp('*', '/', '%'); op; op = this.peekOp('*', '/', '%')) {
      this.i++;
      l = { k: 'bin', op, l, r: this.unary() };
    }
    return l;
  }

  private unary(): EvalExpr {
    const op = this.peekOp('+', '-');
    if (op) {
      this.i++;
      this.enter();
      const e = this.unary();
      this.depth--;
      return op === '-' ? { k: 'neg', e } : e;
    }
    return this.power();
  }

  private power(): EvalExpr {
    const base = this.primary();
    if (this.peekOp('^')) {
      this.i++;
      this.enter();
      const r = this.unary();
      this.depth--;
      return { k: 'bin', op: '^', l: base, r };
    }
    return base;
  }

  private call(fn: string): EvalExpr {
    this.i++; // "("
    const spec = Object.hasOwn(FUNCTIONS, fn) ? FUNCTIONS[fn] : undefined;
    if (!spec) throw new Error(`unknown function ${fn}()`);
    const args: EvalExpr[] = [];
    if (!this.peekOp(')')) {
      args.push(this.expr());
      while (this.peekOp(',')) {
        this.i++;
        args.push(this.expr());
      }
    }
    if (!this.peekOp(')')) throw new Error(`missing ")" after arguments of ${fn}()`);
    this.i++;
    const [min, max] = spec.arity;
    if (args.length < min || args.length > max) {
      const n = min === max ? `${min}` : `${min} or ${max}`;
      throw new Error(`${fn}() takes ${n} argument${n === '1' ? '' : 's'}, got ${args.length}`);
    }
    return { k: 'call', fn, args };
  }

  private primary(): EvalExpr {
    const t = this.toks[this.i];
    if (!t) throw new Error('unexpected end of expression');
    this.i++;
    if (t.t === 'num') return { k: 'num', v: t.v };
    if (t.t === 'id') return this.peekOp('(') ? this.call(t.v) : { k: 'id', name: t.v };
    if (t.v === '(') {
      const e = this.expr();
      if (!this.peekOp(')')) throw new Error('missing ")"');
      this.i++;
      return e;
    }
    throw new Error(`unexpected ${describe(t)}`);
  }
}

function describe(t: Tok): string {
  return t.t === 'op' ? `"${t.v}"` : t.t === 'num' ? `number ${t.v}` : `name ${t.v}`;
}

/** Parses an eval expression; `error` describes the first problem. */
export function parseEval(src: string): { expr: EvalExpr } | { error: string } {
  if (src.length > MAX_SOURCE) return { error: `expression longer than ${MAX_SOURCE} characters` };
  const toks = tokenize(src);
  if (typeof toks === 'string') return { error: toks };
  if (toks.length === 0) return { error: 'empty expression' };
  try {
    return { expr: new Parser(toks).parseAll() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Resolves a variable name to a number (undefined when missing or not numeric). */
export type NumberResolver = (name: string) => number | undefined;

function evaluate(e: EvalExpr, resolve: NumberResolver): Value | undefined {
  switch (e.k) {
    case 'num':
      return num(e.v);
    case 'id': {
      const v = resolve(e.name);
      return v === undefined ? undefined : num(v);
    }
    case 'neg': {
      const v = evaluate(e.e, resolve);
      return v?.kind === 'num' ? num(-v.v, v.float) : undefined;
    }
    case 'bin': {
      const l = evaluate(e.l, resolve);
      const r = evaluate(e.r, resolve);
      if (l?.kind !== 'num' || r?.kind !== 'num') return undefined;
      const f = l.float || r.float;
      const res = binary(e.op, l.v, r.v);
      return res === undefined ? undefined : num(res, f);
    }
    case 'call': {
      const spec = FUNCTIONS[e.fn];
      if (!spec) return undefined;
      const args: number[] = [];
      let floatIn = false;
      for (const a of e.args) {
        const v = evaluate(a, resolve);
        if (v?.kind !== 'num') return undefined;
        args.push(v.v);
        floatIn ||= v.float;
      }
      return spec.fn(args, floatIn);
    }
  }
}

function binary(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '%':
      // Python semantics: the result takes the sign of the divisor
      return b === 0 ? undefined : ((a % b) + b) % b;
    case '^':
      return a ** b;
    default:
      return undefined;
  }
}

/** Evaluates and formats; the empty string when the expression is invalid, a variable is missing or
 * not numeric, or the result is not a finite number (division by zero, log10 of a negative …). */
export function renderEval(src: string, resolve: NumberResolver): string {
  const parsed = parseEval(src);
  if ('error' in parsed) return '';
  const v = evaluate(parsed.expr, resolve);
  if (!v) return '';
  if (v.kind === 'str') return v.v;
  if (v.kind === 'bool') return v.v ? 'true' : 'false';
  return formatNumber(v.v, v.float);
}
