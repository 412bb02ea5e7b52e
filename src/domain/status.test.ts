import { describe, expect, it } from 'vitest';
import { statusFromValue } from './status.ts';

describe('statusFromValue (Datadog status remapper rules)', () => {
  it.each([
    [0, 'emergency'],
    [3, 'error'],
    [4, 'warn'],
    [7, 'debug'],
    [9, 'info'],
    ['5', 'notice'],
    ['emerg', 'emergency'],
    ['Fatal', 'emergency'],
    ['ERROR', 'error'],
    ['err', 'error'],
    ['exception', 'info'],
    ['alert', 'alert'],
    ['critical', 'critical'],
    ['WARN', 'warn'],
    ['warning', 'warn'],
    ['notice', 'notice'],
    ['information', 'info'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['verbose', 'debug'],
    ['OK', 'ok'],
    ['success', 'ok'],
    ['whatever', 'warn'],
    ['zzz', 'info'],
  ] as const)('%j → %s', (v, s) => {
    expect(statusFromValue(v)).toBe(s);
  });
  it('has no status for empty or non-scalar values', () => {
    expect(statusFromValue('')).toBeUndefined();
    expect(statusFromValue(null)).toBeUndefined();
    expect(statusFromValue({})).toBeUndefined();
  });
});
