import { describe, expect, it } from 'vitest';
import { parseDate } from './dates.ts';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('parseDate', () => {
  it.each([
    ['2026-11-27T03:02:11.120Z', Date.parse('2026-11-27T03:02:11.120Z')],
    ['2026-11-27T03:02:11+01:00', Date.parse('2026-11-27T02:02:11Z')],
    [1764212531120, 1764212531120],
    [1764212531, 1764212531000],
    ['1764212531120', 1764212531120],
    ['Nov 27 03:02:11', Date.UTC(2026, 10, 27, 3, 2, 11)],
    ['Dec 31 23:59:59', Date.UTC(2025, 11, 31, 23, 59, 59)],
  ] as const)('%j', (v, t) => {
    expect(parseDate(v, NOW)).toBe(t);
  });
  it.each([['hello'], [''], [-5], [Number.NaN], [null], [{}], ['2026-13-45T99:00:00Z']])(
    '%j is not a date',
    (v) => {
      expect(parseDate(v, NOW)).toBeUndefined();
    },
  );
});
