import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketWidth, kthOfSorted, NotifyGroupWindow, SlidingWindow } from './window.ts';

const T = 1_800_000_000_000;

describe('sliding window', () => {
  it('counts logs inside the window and forgets them as it slides', () => {
    const w = new SlidingWindow(300_000, 'count');
    expect(bucketWidth(300_000)).toBe(2000);
    expect(w.value(T)).toBeNull();
    w.add(T - 1000, T);
    w.add(T - 100_000, T);
    expect(w.value(T)).toBe(2);
    expect(w.value(T + 203_000)).toBe(1);
    expect(w.value(T + 302_000)).toBeNull();
    expect(w.prune(T + 302_000)).toBe(true);
  });

  it('ignores logs dated before the window, counts late ones still inside', () => {
    const w = new SlidingWindow(60_000, 'count');
    expect(w.add(T - 120_000, T)).toBe(false);
    expect(w.add(T - 30_000, T)).toBe(true);
    expect(w.value(T)).toBe(1);
  });

  it('computes measures, percentiles and cardinality', () => {
    const mk = (r: 'avg' | 'sum' | 'min' | 'max' | 'pc90' | 'median' | 'cardinality') => {
      const w = new SlidingWindow(60_000, r);
      for (let i = 1; i <= 10; i++) w.add(T - i * 1000, T, r === 'cardinality' ? [`u${i % 3}`] : [i]);
      if (r !== 'cardinality') w.add(T - 500, T, ['not a number']);
      return w.value(T);
    };
    expect(mk('avg')).toBe(5.5);
    expect(mk('sum')).toBe(55);
    expect(mk('min')).toBe(1);
    expect(mk('max')).toBe(10);
    expect(mk('pc90')).toBe(9);
    expect(mk('median')).toBe(5);
    expect(mk('cardinality')).toBe(3);
    const empty = new SlidingWindow(60_000, 'avg');
    empty.add(T, T, []);
    expect(empty.value(T)).toBeNull();
  });

  it('shifts the window back by the evaluation delay', () => {
    const w = new SlidingWindow(60_000, 'count', 30_000);
    w.add(T - 10_000, T);
    expect(w.value(T)).toBeNull();
    expect(w.value(T + 25_000)).toBe(1);
  });
  it('a notification group keeps one window per query group and reports the worst', () => {
    const w = new NotifyGroupWindow(
      () => new SlidingWindow(60_000, 'count'),
      (vs) => Math.max(...vs.map((v) => v ?? Number.NEGATIVE_INFINITY)),
    );
    expect(w.hasData(T)).toBe(false);
    w.add(T - 1000, T, [], 'env:prod');
    w.add(T - 2000, T, [], 'env:prod');
    w.add(T - 50_000, T, [], 'env:dev');
    expect(w.value(T)).toBe(2);
    expect(w.hasData(T)).toBe(true);
    expect(w.prune(T + 12_000)).toBe(false);
    expect(w.value(T + 12_000)).toBe(2);
    expect(w.prune(T + 62_000)).toBe(true);
    expect(w.hasData(T + 62_000)).toBe(false);
  });
});

describe('SlidingWindow count (running total)', () => {
  it('equals a count of the accepted logs in the window, through any order of adds, prunes and reads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('add', 'add', 'add', 'prune', 'value'),
            dt: fc.integer({ min: -400_000, max: 60_000 }),
            step: fc.integer({ min: 0, max: 90_000 }),
          }),
          { maxLength: 200 },
        ),
        fc.constantFrom(60_000, 300_000),
        fc.constantFrom(0, 30_000),
        (ops, windowMs, delayMs) => {
          const w = new SlidingWindow(windowMs, 'count', delayMs);
          const width = bucketWidth(windowMs);
          const accepted: number[] = [];
          let now = 1_800_000_000_000;
          for (const o of ops) {
            now += o.step;
            if (o.op === 'add') {
              if (w.add(now + o.dt, now)) accepted.push(now + o.dt);
            } else if (o.op === 'prune') w.prune(now);
            else {
              const end = now - delayMs;
              const oldest = end - windowMs;
              const expected = accepted.filter((ts) => {
                const start = Math.floor(ts / width) * width;
                return start + width > oldest && start <= end;
              }).length;
              expect(w.value(now)).toBe(expected === 0 ? null : expected);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('percentiles without merging the window', () => {
  it('kthOfSorted gives the k-th smallest of the union, duplicates and empty arrays included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 12 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(),
        (parts, r) => {
          const all = parts.flat().sort((a, b) => a - b);
          fc.pre(all.length > 0);
          const k = r % all.length;
          const sorted = parts.map((a) => [...a].sort((x, y) => x - y));
          expect(kthOfSorted(sorted, k)).toBe(all[k]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a pc95 / median window answers as sorting every value in it would', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.integer({ min: -300_000, max: 0 }),
            v: fc.double({ noNaN: true, noDefaultInfinity: true }),
          }),
          {
            maxLength: 150,
          },
        ),
        fc.constantFrom<'pc95' | 'median' | 'pc75' | 'pc99'>('pc95', 'median', 'pc75', 'pc99'),
        fc.integer({ min: 0, max: 200_000 }),
        (logs, rollup, later) => {
          const w = new SlidingWindow(300_000, rollup);
          const width = bucketWidth(300_000);
          const kept: { ts: number; v: number }[] = [];
          for (const l of logs) if (w.add(T + l.dt, T, [l.v])) kept.push({ ts: T + l.dt, v: l.v });
          const now = T + later;
          const inWindow = kept
            .filter(({ ts }) => Math.floor(ts / width) * width + width > now - 300_000)
            .map(({ v }) => v)
            .sort((a, b) => a - b);
          const p = rollup === 'median' ? 50 : Number(rollup.slice(2));
          const expected =
            inWindow.length === 0
              ? null
              : inWindow[
                  Math.min(inWindow.length - 1, Math.max(0, Math.ceil((p / 100) * inWindow.length) - 1))
                ];
          const got = w.value(now);
          expect(got === null ? null : Object.is(got, -0) ? 0 : got).toBe(
            expected === null || expected === undefined ? null : Object.is(expected, -0) ? 0 : expected,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
