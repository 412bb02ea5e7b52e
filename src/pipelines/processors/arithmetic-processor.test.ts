import { describe, expect, it } from 'vitest';
import type { Json } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import { type PipelineValidationError, parsePipelineInput } from '../model.ts';
import {
  arithmeticProcessor,
  ExpressionError,
  evaluate,
  parseExpression,
  round9,
  toNumber,
} from './arithmetic-processor.ts';

function run(
  expression: string,
  attributes: Record<string, Json>,
  over: Record<string, unknown> = {},
): Record<string, Json> {
  const def = arithmeticProcessor.schema.parse({
    type: 'arithmetic-processor',
    expression,
    target: 'result',
    ...over,
  });
  const event = makeLog({ attributes });
  arithmeticProcessor.compile(def)({ event, remapped: new Set(), now: 0 });
  return event.attributes;
}

/** The validation message for an expression, or undefined when it is accepted. */
function problem(expression: string): string | undefined {
  try {
    parsePipelineInput({
      name: 'p',
      processors: [{ type: 'arithmetic-processor', expression, target: 't' }],
    });
    return undefined;
  } catch (e) {
    return (e as PipelineValidationError).problems.join('; ');
  }
}

const calc = (expression: string, vars: Record<string, number> = {}) =>
  evaluate(parseExpression(expression), (p) => vars[p]);

describe('arithmetic-processor: Datadog documented behaviour', () => {
  it('converts a duration from nanoseconds to milliseconds (the use case in the docs)', () => {
    expect(run('duration / 1000000', { duration: 2_345_678_901 }).result).toBe(2345.678901);
  });

  it('subtracts attributes whose names contain "-" when the operator has spaces around it', () => {
    const a = run('(end-time - start-time) / 1000', {
      'end-time': 1_700_000_005_500,
      'start-time': 1_700_000_000_000,
    });
    expect(a.result).toBe(5.5);
  });

  it('reads nested attributes by dot path', () => {
    expect(
      run('network.bytes_read + network.bytes_written', { network: { bytes_read: 10, bytes_written: 5 } })
        .result,
    ).toBe(15);
  });

  it('rounds the result to 9 decimals (0.1234567891 → 0.123456789)', () => {
    expect(run('x', { x: 0.1234567891 }).result).toBe(0.123456789);
    expect(run('1 / 3', {}).result).toBe(0.333333333);
    expect(run('2 / 3', {}).result).toBe(0.666666667);
  });

  it('skips the processor when an attribute is missing or not a number', () => {
    for (const attrs of [
      {},
      { b: 'abc' },
      { b: null },
      { b: true },
      { b: [1] },
      { b: { c: 1 } },
      { b: '' },
    ] as Record<string, Json>[]) {
      expect(run('a + b', { a: 1, ...attrs }).result).toBeUndefined();
    }
  });

  it('uses 0 for a missing or non-numeric attribute with is_replace_missing', () => {
    expect(run('a + b', { a: 1 }, { is_replace_missing: true }).result).toBe(1);
    expect(run('a * 2 + b', { a: 3, b: 'nope' }, { is_replace_missing: true }).result).toBe(6);
  });

  it('converts numeric strings', () => {
    expect(run('a * 2', { a: '21' }).result).toBe(42);
    expect(run('a + 1', { a: ' 1.5e3 ' }).result).toBe(1501);
    expect(run('a + 1', { a: '0x10' }).result).toBeUndefined();
    expect(run('a + 1', { a: 'Infinity' }).result).toBeUndefined();
  });

  it('overwrites an existing target, creating nested objects for a dotted target', () => {
    expect(run('a + 1', { a: 1, result: 'old' }).result).toBe(2);
    const attrs = run('a', { a: 7 }, { target: 'http.duration_ms' });
    expect(attrs.http).toEqual({ duration_ms: 7 });
  });

  it('is_replace_missing defaults to false', () => {
    const def = arithmeticProcessor.schema.parse({
      type: 'arithmetic-processor',
      expression: 'a',
      target: 't',
    });
    expect(def.is_replace_missing).toBe(false);
    expect(def.is_enabled).toBe(false);
  });
});

describe('arithmetic-processor: evaluation', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['2 * -3', -6],
    ['- (1 + 2)', -3],
    ['-(1 + 2)', -3],
    ['- - 4', 4],
    ['a -5', -4],
    ['1.5e2 + .5', 150.5],
    ['((((a))))', 1],
    ['a*b+c', 7],
    ['@a + @b', 3],
  ])('%s = %d', (expr, value) => {
    expect(calc(expr, { a: 1, b: 2, c: 5 })).toBe(value);
  });

  it('skips on division by zero (documented choice) and on an infinite result', () => {
    expect(run('a / b', { a: 1, b: 0 }).result).toBeUndefined();
    expect(run('a / (b - b)', { a: 1, b: 3 }).result).toBeUndefined();
    expect(run('a * a', { a: 1e200 }).result).toBeUndefined();
    // with is_replace_missing a missing divisor becomes 0: still skipped
    expect(run('a / b', { a: 1 }, { is_replace_missing: true }).result).toBeUndefined();
  });

  it('writes 0, never -0', () => {
    expect(Object.is(run('0 * -1', {}).result, 0)).toBe(true);
  });

  it('rounds without float drift on large values', () => {
    expect(round9(123456789.123)).toBe(123456789.123);
    expect(round9(1e22)).toBe(1e22);
    expect(round9(-0.0000000004)).toBe(0);
    expect(round9(-1.0000000005)).toBe(-1.000000001);
  });

  it('reads numbers only from finite numbers and decimal strings', () => {
    expect(toNumber(3)).toBe(3);
    expect(toNumber('-2.5')).toBe(-2.5);
    expect(toNumber('1,5')).toBeUndefined();
    expect(toNumber(undefined)).toBeUndefined();
    expect(toNumber('1e999')).toBeUndefined();
  });

  it('does not reach prototype properties', () => {
    expect(run('constructor + 1', {}).result).toBeUndefined();
    expect(run('__proto__ + 1', {}).result).toBeUndefined();
    expect(run('a.length + 1', { a: 'abc' }).result).toBeUndefined();
  });
});

describe('arithmetic-processor: validation at save time', () => {
  it.each([
    ['', /expression: .*at least 1|too small/i],
    ['   ', /the expression is empty at column 1/],
    ['a +', /expected an attribute, a number or '\(' at the end at column 4/],
    ['a b', /expected an operator before 'b' at column 3/],
    ['(a + b', /missing '\)' for the '\(' at column 1 at column 7/],
    ['a + b)', /unexpected '\)' at column 6/],
    ['a -b', /put spaces around the '-' operator .* at column 3/],
    ['a- b', /put spaces around the '-' operator .* at column 2/],
    ['(end-time -start-time)', /put spaces around the '-' operator .* at column 11/],
    ['a % b', /unexpected character '%' at column 3/],
    ['a + b,c', /unexpected character ',' at column 6/],
    ['a..b + 1', /empty attribute name part in 'a..b' at column 2/],
    ['a. + 1', /empty attribute name part in 'a\.' at column 2/],
    ['@ + 1', /expected an attribute name after '@' at column 1/],
    ['* 2', /expected an attribute, a number or '\(', found '\*' at column 1/],
    ['()', /found '\)' at column 2/],
    ['(a b)', /expected '\)' or an operator, found 'b' at column 4/],
    [`${'('.repeat(100)}1${')'.repeat(100)}`, /nested too deeply/],
  ])('%j is refused', (expression, message) => {
    expect(problem(expression)).toMatch(message);
  });

  it('reports the problem on the expression field of the processor', () => {
    expect(problem('a b')).toMatch(/^processors\[0\]\.expression: expected an operator/);
  });

  it('accepts valid expressions, a long chain, and refuses a target with spaces', () => {
    expect(problem('(end-time - start-time) / 1000')).toBeUndefined();
    expect(problem(Array(1000).fill('a').join('+'))).toBeUndefined();
    expect(
      arithmeticProcessor.schema.safeParse({
        type: 'arithmetic-processor',
        expression: 'a',
        target: 'my target',
      }).success,
    ).toBe(false);
  });

  it('throws ExpressionError with a column', () => {
    try {
      parseExpression('1 + + 2');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      expect((e as ExpressionError).column).toBe(5);
    }
  });

  it('fails per log, not at compile, when an invalid expression got past validation', () => {
    const run = arithmeticProcessor.compile({
      type: 'arithmetic-processor',
      expression: 'a +',
      target: 't',
      is_replace_missing: false,
      is_enabled: true,
    });
    expect(() => run({ event: makeLog(), remapped: new Set(), now: 0 })).toThrow(/invalid expression/);
  });
});
