import { describe, expect, it } from 'vitest';
import { parseTags, truncateUtf8 } from './limits.ts';

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
