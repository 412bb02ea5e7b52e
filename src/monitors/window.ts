import type { Rollup } from './query.ts';

interface Bucket {
  count: number;
  n: number;
  sum: number;
  min: number;
  max: number;
  distinct?: Set<string>;
  values?: number[];
  /** values is in ascending order (sorted by value() when it needs them, unsorted again by add()) */
  sorted?: boolean;
}

/** Bucket width for a window. */
export function bucketWidth(windowMs: number): number {
  return Math.max(1000, Math.floor(windowMs / 120 / 1000) * 1000);
}

export class SlidingWindow {
  private readonly buckets = new Map<number, Bucket>();
  private readonly width: number;
  /** logs in every bucket held, and the bucket starts' range: a count without walking the buckets when they
   * all lie in the window (the usual case right after prune()); counts are exact, unlike float sums */
  private count = 0;
  private minStart = Number.POSITIVE_INFINITY;
  private maxStart = Number.NEGATIVE_INFINITY;

  constructor(
    readonly windowMs: number,
    private readonly rollup: Rollup,
    /** evaluation_delay: the window ends this long before now */
    private readonly delayMs = 0,
  ) {
    this.width = bucketWidth(windowMs);
  }

  /** Adds one log dated `ts` (measure values: the measure's numbers, or the facet's values for cardinality). */
  add(ts: number, now: number, values: (string | number)[] = []): boolean {
    const end = now - this.delayMs;
    if (ts <= end - this.windowMs - this.width) return false;
    const start = Math.floor(ts / this.width) * this.width;
    let b = this.buckets.get(start);
    if (!b) {
      b = { count: 0, n: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      this.buckets.set(start, b);
      if (start < this.minStart) this.minStart = start;
      if (start > this.maxStart) this.maxStart = start;
    }
    b.count++;
    this.count++;
    if (this.rollup === 'cardinality') {
      b.distinct ??= new Set();
      for (const v of values) b.distinct.add(`${typeof v}:${v}`);
    } else if (this.rollup !== 'count') {
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        b.n++;
        b.sum += v;
        if (v < b.min) b.min = v;
        if (v > b.max) b.max = v;
        if (this.rollup === 'median' || this.rollup.startsWith('pc')) {
          b.values ??= [];
          b.values.push(v);
          b.sorted = false;
        }
      }
    }
    return true;
  }

  /** Drops buckets that left the window; true when nothing is left. */
  prune(now: number): boolean {
    const oldest = now - this.delayMs - this.windowMs;
    if (this.minStart + this.width > oldest) return this.buckets.size === 0; // nothing left the window
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const [start, b] of this.buckets) {
      if (start + this.width <= oldest) {
        this.buckets.delete(start);
        this.count -= b.count;
        continue;
      }
      if (start < min) min = start;
      if (start > max) max = start;
    }
    this.minStart = min;
    this.maxStart = max;
    return this.buckets.size === 0;
  }

  /** True when a log is in the window ending at now − delay (cheaper than value()). */
  hasData(now: number): boolean {
    const end = now - this.delayMs;
    const oldest = end - this.windowMs;
    for (const start of this.buckets.keys()) if (start + this.width > oldest && start <= end) return true;
    return false;
  }

  /** The rollup over the window ending at now − delay; null when no log (or no measure value) is in it. */
  value(now: number): number | null {
    const end = now - this.delayMs;
    const oldest = end - this.windowMs;
    // every bucket in the window: the running count is the answer
    if (this.rollup === 'count' && this.minStart + this.width > oldest && this.maxStart <= end)
      return this.count === 0 ? null : this.count;
    let count = 0;
    let n = 0;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let distinct: Set<string> | undefined;
    let values: number[][] | undefined;
    for (const [start, b] of this.buckets) {
      // a bucket counts while its end is inside the window, and once it started (future-dated logs wait)
      if (start + this.width <= oldest || start > end) continue;
      count += b.count;
      n += b.n;
      sum += b.sum;
      if (b.min < min) min = b.min;
      if (b.max > max) max = b.max;
      if (b.distinct) {
        distinct ??= new Set();
        for (const v of b.distinct) distinct.add(v);
      }
      if (b.values) {
        // each bucket sorted once (the open one again as logs arrive), never the whole window
        if (!b.sorted) {
          b.values.sort((x, y) => x - y);
          b.sorted = true;
        }
        values ??= [];
        values.push(b.values);
      }
    }
    if (count === 0) return null;
    switch (this.rollup) {
      case 'count':
        return count;
      case 'cardinality':
        return distinct?.size ?? 0;
      case 'sum':
        return n ? sum : null;
      case 'avg':
        return n ? sum / n : null;
      case 'min':
        return n ? min : null;
      case 'max':
        return n ? max : null;
      default: {
        const total = values?.reduce((t, a) => t + a.length, 0) ?? 0;
        if (!values || total === 0) return null;
        const p = this.rollup === 'median' ? 50 : Number(this.rollup.slice(2));
        return kthOfSorted(values, Math.min(total - 1, Math.max(0, Math.ceil((p / 100) * total) - 1)));
      }
    }
  }
}

/**
 * The k-th smallest (0-based) of the values of several ascending arrays, without merging them: each round
 * splits the largest remaining range at its middle value and keeps the side holding the k-th.
 */
export function kthOfSorted(arrays: number[][], k: number): number {
  const lo = arrays.map(() => 0);
  const hi = arrays.map((a) => a.length);
  for (;;) {
    let best = 0;
    for (let i = 1; i < arrays.length; i++)
      if ((hi[i] as number) - (lo[i] as number) > (hi[best] as number) - (lo[best] as number)) best = i;
    const a = arrays[best] as number[];
    const pivot = a[((lo[best] as number) + (hi[best] as number)) >> 1] as number;
    let less = 0;
    let lessEq = 0;
    const lt: number[] = [];
    const le: number[] = [];
    for (let i = 0; i < arrays.length; i++) {
      lt[i] = bound(arrays[i] as number[], pivot, lo[i] as number, hi[i] as number, false);
      le[i] = bound(arrays[i] as number[], pivot, lo[i] as number, hi[i] as number, true);
      less += (lt[i] as number) - (lo[i] as number);
      lessEq += (le[i] as number) - (lo[i] as number);
    }
    if (k < less) for (let i = 0; i < arrays.length; i++) hi[i] = lt[i] as number;
    else if (k < lessEq) return pivot;
    else {
      k -= lessEq;
      for (let i = 0; i < arrays.length; i++) lo[i] = le[i] as number;
    }
  }
}

/** First index in [lo, hi) of `a` whose value is ≥ x (or > x with `after`). */
function bound(a: number[], x: number, lo: number, hi: number, after: boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid] as number;
    if (v < x || (after && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the evaluator asks of a group's window (a query group's, or a notification group's). */
export interface GroupWindow {
  /** `member`: the query group of the log (notify_by); a plain window ignores it */
  add(ts: number, now: number, values?: (string | number)[], member?: string): boolean;
  prune(now: number): boolean;
  hasData(now: number): boolean;
  value(now: number): number | null;
  /** notify_by: the keys of the query groups the window holds */
  memberKeys?(): string[];
}

/**
 * The windows of the query groups that share one notification group (`notify_by`): one sliding window per
 * query group, and the value of the most breaching one (`pick`, state.ts `worstValue`), never a rollup of
 * their logs taken together (two hosts with 3 errors each do not make one group with 6).
 */
export class NotifyGroupWindow implements GroupWindow {
  private readonly members = new Map<string, SlidingWindow>();

  constructor(
    private readonly make: () => SlidingWindow,
    private readonly pick: (values: (number | null)[]) => number | null,
  ) {}

  add(ts: number, now: number, values: (string | number)[] = [], member = ''): boolean {
    let w = this.members.get(member);
    if (!w) {
      w = this.make();
      this.members.set(member, w);
    }
    return w.add(ts, now, values);
  }

  /** Prunes every member and forgets the empty ones; true when none is left. */
  prune(now: number): boolean {
    for (const [key, w] of this.members) if (w.prune(now)) this.members.delete(key);
    return this.members.size === 0;
  }

  hasData(now: number): boolean {
    for (const w of this.members.values()) if (w.hasData(now)) return true;
    return false;
  }

  memberKeys(): string[] {
    return [...this.members.keys()];
  }

  value(now: number): number | null {
    return this.pick([...this.members.values()].map((w) => w.value(now)));
  }
}
