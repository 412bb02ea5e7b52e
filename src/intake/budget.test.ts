import { describe, expect, it } from 'vitest';
import { HttpError } from '../api/errors.ts';
import { IntakeBudget } from './budget.ts';

describe('IntakeBudget', () => {
  it('admits a lone request of any size, refuses what does not fit with 503, and frees on release', () => {
    const b = new IntakeBudget(100);
    const a = {};
    const c = {};
    b.reserve(a, 150);
    expect(() => b.reserve(c, 1)).toThrow(HttpError);
    b.release(a);
    expect(b.used).toBe(0);
    b.reserve(c, 60);
    b.reserve(c, 30);
    expect(b.used).toBe(90);
    try {
      b.reserve(a, 20);
      expect.unreachable();
    } catch (err) {
      expect((err as HttpError).status).toBe(503);
      expect((err as HttpError).retryAfterS).toBe(1);
    }
    b.release(c);
    b.release(c);
    expect(b.used).toBe(0);
  });
});
