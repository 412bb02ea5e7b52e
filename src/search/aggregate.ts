// Analytics (POST /api/v2/logs/analytics/aggregate): the pure core. Rows arrive either pre-grouped from SQL
// (counts, sums, minima and maxima) or one log at a time; this module merges them into groups, ranks each
// group_by level, applies limits and shapes Datadog's buckets.
import type { Json, LogEvent } from '../domain/log-event.ts';
import { nodesAt } from './values.ts';

export const AGGREGATIONS = [
  'count',
  'cardinality',
  'sum',
  'min',
  'max',
  'avg',
  'median',
  'pc75',
  'pc90',
  'pc95',
  'pc98',
  'pc99',
] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** A facet or measure: `@path`, a reserved field, or a tag key. */
export type Facet =
  | { kind: 'attr'; path: string; name: string }
  | { kind: 'reserved'; column: 'service' | 'source' | 'host' | 'status' | 'trace_id'; name: string }
  | { kind: 'tag'; key: string; name: string };

export interface Compute {
  aggregation: Aggregation;
  metric?: Facet;
  type: 'total' | 'timeseries';
  /** bucket width in ms (timeseries) */
  interval: number;
}

export interface GroupBy {
  facet: Facet;
  limit: number;
  sort: { aggregation: Aggregation; metric?: Facet; order: 'asc' | 'desc'; type: 'measure' | 'alphabetical' };
  /** value for logs without the facet; such logs are left out when absent */
  missing?: string | number;
  /** add a bucket summing the others, named so */
  total?: string;
}

export interface AggregateRequest {
  from: number;
  to: number;
  computes: Compute[];
  groupBy: GroupBy[];
}

/** A computed value: a number, or a series of points for timeseries computes. */
export type BucketValue = number | { time: string; value: number }[];
export interface Bucket {
  by: Record<string, string | number>;
  computes: Record<string, BucketValue>;
}

const RESERVED = new Set(['service', 'source', 'host', 'status', 'trace_id']);

/** Reads a facet name as the API gives it. */
export function parseFacet(name: string): Facet {
  if (name.startsWith('@')) {
    const path = name.slice(1);
    if (!path || path.includes('..') || path.startsWith('.') || path.endsWith('.'))
      throw new Error(`"${name}" is not an attribute path`);
    return { kind: 'attr', path, name };
  }
  if (RESERVED.has(name)) return { kind: 'reserved', column: name as 'service', name };
  if (!/^[a-z0-9_.-]+$/i.test(name))
    throw new Error(`"${name}" is not a facet: use @attribute, a reserved field or a tag key`);
  return { kind: 'tag', key: name.toLowerCase(), name };
}

const INTERVAL = /^(\d+)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Reads an interval (`1h`, `5m`, a number of ms); undefined picks one for the range (about 100 points). */
export function parseInterval(v: unknown, from: number, to: number): number {
  if (v === undefined) {
    const steps = [
      1000, 10_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 43_200_000, 86_400_000,
      604_800_000,
    ];
    return steps.find((s) => (to - from) / s <= 100) ?? 604_800_000;
  }
  const m = typeof v === 'number' ? [String(v), String(v), 'ms'] : INTERVAL.exec(String(v));
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : Number.NaN;
  if (!(ms >= 1000))
    throw new Error(
      `interval ${JSON.stringify(v)}: expected a duration of at least 1s like "1h", "5m", "30s"`,
    );
  if ((to - from) / ms > 10_000)
    throw new Error(
      `interval ${JSON.stringify(v)} gives more than 10000 points over the range: choose a wider one`,
    );
  return ms;
}

/** The running state of one compute in one group. */
interface Acc {
  count: number;
  /** numbers seen (sum/min/max/avg) */
  n: number;
  sum: number;
  min: number;
  max: number;
  distinct?: Set<string>;
  values?: number[];
}

function newAcc(): Acc {
  return { count: 0, n: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

function mergeAcc(into: Acc, a: Acc): void {
  into.count += a.count;
  into.n += a.n;
  into.sum += a.sum;
  into.min = Math.min(into.min, a.min);
  into.max = Math.max(into.max, a.max);
  if (a.distinct) {
    into.distinct ??= new Set();
    for (const v of a.distinct) into.distinct.add(v);
  }
  if (a.values) {
    into.values ??= [];
    for (const v of a.values) into.values.push(v);
  }
}

function mergeAll(into: Acc[], from: Acc[]): void {
  for (let i = 0; i < from.length; i++) mergeAcc(into[i] as Acc, from[i] as Acc);
}

function seriesAt(series: Map<number, Acc[]>, t: number, measures: number): Acc[] {
  let s = series.get(t);
  if (!s) {
    s = Array.from({ length: measures }, newAcc);
    series.set(t, s);
  }
  return s;
}

/** A percentile aggregation (`median`, `pc75`…`pc99`) by nearest rank; undefined without values. Sorts `values`. */
export function percentile(values: number[], aggregation: string): number | undefined {
  if (values.length === 0) return undefined;
  const p = aggregation === 'median' ? 50 : Number(aggregation.slice(2));
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];
}

function finish(acc: Acc, aggregation: Aggregation): number {
  switch (aggregation) {
    case 'count':
      return acc.count;
    case 'cardinality':
      return acc.distinct?.size ?? 0;
    case 'sum':
      return acc.sum;
    case 'min':
      return acc.n ? acc.min : 0;
    case 'max':
      return acc.n ? acc.max : 0;
    case 'avg':
      return acc.n ? acc.sum / acc.n : 0;
    default:
      return percentile(acc.values ?? [], aggregation) ?? 0;
  }
}

/** The measures a request needs, computes first, then the sort measures of each group_by level. */
export interface Measure {
  aggregation: Aggregation;
  metric?: Facet;
}

export function measuresOf(req: AggregateRequest): Measure[] {
  const out: Measure[] = req.computes.map((c) => ({ aggregation: c.aggregation, metric: c.metric }));
  for (const g of req.groupBy)
    if (g.sort.type === 'measure') out.push({ aggregation: g.sort.aggregation, metric: g.sort.metric });
  return out;
}

/** Whether SQL can pre-group the request (plain facets, mergeable measures). */
export function sqlGroupable(req: AggregateRequest, isComplex: (path: string) => boolean): boolean {
  const plain = (f: Facet | undefined) =>
    !f || f.kind === 'reserved' || (f.kind === 'attr' && !isComplex(f.path));
  return (
    req.groupBy.every((g) => plain(g.facet)) &&
    measuresOf(req).every(
      (m) => ['count', 'sum', 'min', 'max', 'avg'].includes(m.aggregation) && plain(m.metric),
    )
  );
}

/** Most groups (distinct combinations of the group-by values) one request may build in memory. */
export const MAX_AGGREGATE_GROUPS = 100_000;

/** A request whose group-bys have more distinct values than an answer can hold (a 400 for the API). */
export class TooManyGroupsError extends Error {
  constructor() {
    super(
      `the group-by facets have more than ${MAX_AGGREGATE_GROUPS.toLocaleString('en-US')} distinct ` +
        'combinations in this range: group by a facet with fewer values, narrow the query or shorten the range',
    );
  }
}

/** Groups being built: finest-level key → per measure accumulators (overall and per time bucket). */
export class Aggregator {
  private readonly measures: Measure[];
  private readonly groups = new Map<
    string,
    { by: (string | number)[]; total: Acc[]; series: Map<number, Acc[]> }
  >();
  readonly interval: number;
  private readonly timeseries: boolean;

  constructor(private readonly req: AggregateRequest) {
    this.measures = measuresOf(req);
    this.timeseries = req.computes.some((c) => c.type === 'timeseries');
    this.interval = req.computes.find((c) => c.type === 'timeseries')?.interval ?? 0;
  }

  private group(by: (string | number)[]) {
    const key = JSON.stringify(by);
    let g = this.groups.get(key);
    if (!g) {
      // Bounded memory: a group-by on an id (millions of values) is refused, not built.
      if (this.groups.size >= MAX_AGGREGATE_GROUPS) throw new TooManyGroupsError();
      g = { by, total: this.measures.map(newAcc), series: new Map() };
      this.groups.set(key, g);
    }
    return g;
  }

  /** Adds one pre-grouped SQL row: per measure count, n, sum, min, max. */
  addPartial(by: (string | number)[], bucket: number | null, accs: Acc[]): void {
    const g = this.group(by);
    mergeAll(g.total, accs);
    if (bucket !== null && this.timeseries) mergeAll(seriesAt(g.series, bucket, this.measures.length), accs);
  }

  /** Adds one log (the general path). */
  addLog(e: LogEvent): void {
    const values = this.req.groupBy.map((g) => facetValues(e, g.facet, g.missing));
    if (values.some((v) => v.length === 0)) return;
    const accs = this.measures.map((m) => {
      const a = newAcc();
      a.count = 1;
      if (m.metric) {
        const vals = facetValues(e, m.metric, undefined);
        if (m.aggregation === 'cardinality') a.distinct = new Set(vals.map((v) => `${typeof v}:${v}`));
        for (const v of vals) {
          if (typeof v !== 'number') continue;
          a.n++;
          a.sum += v;
          a.min = Math.min(a.min, v);
          a.max = Math.max(a.max, v);
          a.values ??= [];
          a.values.push(v);
        }
      }
      return a;
    });
    const bucket = this.timeseries ? Math.floor(e.timestamp / this.interval) * this.interval : null;
    for (const by of cartesian(values)) this.addPartial(by, bucket, accs);
  }

  /** The buckets in Datadog's shape: each level ranked and limited, then the finest groups in order. */
  buckets(): Bucket[] {
    const levels = this.req.groupBy;
    const all = [...this.groups.values()];
    const out: Bucket[] = [];
    const computeOf = (total: Acc[], series: Map<number, Acc[]>) => {
      const c: Record<string, BucketValue> = {};
      this.req.computes.forEach((comp, i) => {
        if (comp.type === 'total') c[`c${i}`] = finish(total[i] as Acc, comp.aggregation);
        else {
          const points: { time: string; value: number }[] = [];
          const start = Math.floor(this.req.from / this.interval) * this.interval;
          for (let t = start; t < this.req.to; t += this.interval) {
            const s = series.get(t);
            points.push({
              time: new Date(t).toISOString(),
              value: s ? finish(s[i] as Acc, comp.aggregation) : 0,
            });
          }
          c[`c${i}`] = points;
        }
      });
      return c;
    };
    const merge = (gs: typeof all) => {
      const total = this.measures.map(newAcc);
      const series = new Map<number, Acc[]>();
      for (const g of gs) {
        mergeAll(total, g.total);
        for (const [t, accs] of g.series) mergeAll(seriesAt(series, t, this.measures.length), accs);
      }
      return { total, series };
    };
    if (levels.length === 0) {
      const { total, series } = merge(all);
      return [{ by: {}, computes: computeOf(total, series) }];
    }
    let sortIndex = this.req.computes.length;
    const sortIdx = levels.map((g) => (g.sort.type === 'measure' ? sortIndex++ : -1));
    const walk = (gs: typeof all, level: number, by: Record<string, string | number>) => {
      const g = levels[level] as GroupBy;
      const parts = new Map<string, { value: string | number; members: typeof all }>();
      for (const x of gs) {
        const v = x.by[level] as string | number;
        const k = `${typeof v}:${v}`;
        const p = parts.get(k) ?? { value: v, members: [] };
        p.members.push(x);
        parts.set(k, p);
      }
      const ranked = [...parts.values()].map((p) => {
        const m = merge(p.members);
        const si = sortIdx[level] as number;
        return { ...p, merged: m, score: si >= 0 ? finish(m.total[si] as Acc, g.sort.aggregation) : 0 };
      });
      const dir = g.sort.order === 'asc' ? 1 : -1;
      ranked.sort((a, b) =>
        g.sort.type === 'measure' && a.score !== b.score
          ? (a.score - b.score) * dir
          : compareValues(a.value, b.value) * (g.sort.type === 'alphabetical' ? dir : 1),
      );
      const kept = ranked.slice(0, g.limit);
      for (const p of kept) {
        const nextBy = { ...by, [g.facet.name]: p.value };
        if (level + 1 < levels.length) walk(p.members, level + 1, nextBy);
        else out.push({ by: nextBy, computes: computeOf(p.merged.total, p.merged.series) });
      }
      if (g.total !== undefined) {
        const m = merge(kept.flatMap((p) => p.members));
        out.push({ by: { ...by, [g.facet.name]: g.total }, computes: computeOf(m.total, m.series) });
      }
    };
    walk(all, 0, {});
    return out;
  }
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function cartesian(values: (string | number)[][]): (string | number)[][] {
  let out: (string | number)[][] = [[]];
  for (const vs of values) out = out.flatMap((prefix) => vs.map((v) => [...prefix, v]));
  return out;
}

/** The values of a facet in a log (arrays give several; none gives `missing` when set). */
export function facetValues(
  e: LogEvent,
  f: Facet,
  missing: string | number | undefined,
): (string | number)[] {
  const out: (string | number)[] = [];
  if (f.kind === 'reserved') {
    const v = e[f.column];
    if (v !== null && v !== undefined) out.push(v);
  } else if (f.kind === 'tag') {
    const prefix = `${f.key}:`;
    for (const t of e.tags) if (t.startsWith(prefix)) out.push(t.slice(prefix.length));
  } else {
    nodesAt(e.attributes, f.path, (n: Json) => {
      if (typeof n === 'string' || typeof n === 'number') out.push(n);
      else if (typeof n === 'boolean') out.push(String(n));
      return false;
    });
  }
  if (out.length === 0 && missing !== undefined) out.push(missing);
  return [...new Set(out)];
}

/** An accumulator from SQL's pre-grouped figures. */
export function partialAcc(
  count: number,
  n: number,
  sum: number | null,
  min: number | null,
  max: number | null,
): Acc {
  return {
    count,
    n,
    sum: sum ?? 0,
    min: min ?? Number.POSITIVE_INFINITY,
    max: max ?? Number.NEGATIVE_INFINITY,
  };
}
