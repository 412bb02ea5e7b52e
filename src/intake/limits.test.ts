import { describe, expect, it } from 'vitest';
import { limitAttributes, parseTags, trimAttributes, truncateUtf8 } from './limits.ts';

describe('parseTags', () => {
  it('splits, trims, lowercases and sanitises as Datadog', () => {
    expect(parseTags(' Env:Production , service:okta,,team:IT Ops,trail:,keyless ')).toEqual([
      'env:production',
      'service:okta',
      'team:it_ops',
      'trail',
      'keyless',
    ]);
  });
  it('ignores non-strings', () => {
    expect(parseTags(undefined)).toEqual([]);
    expect(parseTags(42)).toEqual([]);
  });
});

describe('truncateUtf8', () => {
  it('never splits a multi-byte character', () => {
    for (const s of ['aé', 'a€', 'a😀b']) {
      for (let n = 0; n <= Buffer.byteLength(s); n++) {
        const t = truncateUtf8(s, n);
        expect(Buffer.byteLength(t)).toBeLessThanOrEqual(n);
        expect(s.startsWith(t)).toBe(true);
      }
    }
  });
});

describe('limitAttributes', () => {
  const nest = (levels: number, leaf: unknown = 1): Record<string, unknown> => {
    let v: unknown = leaf;
    for (let i = 0; i < levels; i++) v = { d: v };
    return v as Record<string, unknown>;
  };
  const report = () => ({ tags: 0, attributes: 0, keys: 0, depth: 0 });

  it('returns the same object when nothing needs trimming (no copy on the hot path)', () => {
    const attrs = { a: 1, b: { c: [1, { d: 'x' }] }, deep: nest(8) } as any;
    const r = report();
    expect(limitAttributes(attrs, r)).toBe(attrs);
    expect(r).toEqual(report());
  });

  it('agrees with the trimming walk at the depth boundary, for objects and arrays of objects', () => {
    for (let levels = 7; levels <= 12; levels++) {
      for (const wrap of [(x: unknown) => x, (x: unknown) => [x], (x: unknown) => [[x]]]) {
        const attrs = { top: wrap(nest(levels)) } as any;
        const fast = report();
        const slow = report();
        expect(JSON.stringify(limitAttributes(attrs, fast))).toBe(
          JSON.stringify(trimAttributes(attrs, slow)),
        );
        expect(fast).toEqual(slow);
      }
    }
  });

  it('trims past 256 leaves and past 50-character keys', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 300; i++) many[`k${i}`] = i;
    const r = report();
    expect(Object.keys(limitAttributes(many as any, r))).toHaveLength(256);
    expect(r.attributes).toBe(44);
  });
});
