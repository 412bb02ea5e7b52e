// Datadog's analytics API: POST /api/v2/logs/analytics/aggregate (counts, cardinality, sums, averages,
// minima, maxima and percentiles, grouped by facets, as totals or timeseries). The meaning is in
// search/aggregate.ts; this file reads and checks the request.
import type { FastifyInstance } from 'fastify';
import {
  AGGREGATIONS,
  type Aggregation,
  type Compute,
  type Facet,
  type GroupBy,
  parseFacet,
  parseInterval,
  TooManyGroupsError,
} from '../search/aggregate.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import { parseFilter } from './logs-search.ts';
import type { ServerDeps } from './server.ts';
import { parseTime } from './time.ts';

const MAX_GROUP_LIMIT = 10_000;

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HttpError(400, `${what} must be an object`);
  return v as Obj;
}

function aggregation(v: unknown, what: string): Aggregation {
  if (!AGGREGATIONS.includes(v as Aggregation))
    throw new HttpError(400, `${what}: expected one of ${AGGREGATIONS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as Aggregation;
}

function facet(v: unknown, what: string): Facet {
  if (typeof v !== 'string' || v === '')
    throw new HttpError(400, `${what} must be a facet name such as "@flow_name"`);
  try {
    return parseFacet(v);
  } catch (err) {
    throw new HttpError(400, `${what}: ${(err as Error).message}`);
  }
}

function metricFor(agg: Aggregation, v: unknown, what: string): Facet | undefined {
  if (v === undefined) {
    if (agg === 'count') return undefined;
    throw new HttpError(400, `${what}: "${agg}" needs a metric (a measure such as "@duration")`);
  }
  const f = facet(v, what);
  if (agg !== 'count' && agg !== 'cardinality' && f.kind !== 'attr')
    throw new HttpError(400, `${what}: "${agg}" needs a numeric @attribute, got "${v}"`);
  return f;
}

/** Reads one `group_by` entry. */
function readGroupBy(g: unknown, i: number): GroupBy {
  const o = obj(g, `group_by[${i}]`);
  if (o.histogram !== undefined)
    throw new HttpError(400, `group_by[${i}].histogram is not supported; group by the facet`);
  const limit = o.limit === undefined ? 10 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GROUP_LIMIT)
    throw new HttpError(400, `group_by[${i}].limit must be an integer from 1 to ${MAX_GROUP_LIMIT}`);
  const s = obj(o.sort, `group_by[${i}].sort`);
  const sortType =
    s.type ?? (s.aggregation === undefined && o.sort !== undefined ? 'alphabetical' : 'measure');
  if (sortType !== 'measure' && sortType !== 'alphabetical')
    throw new HttpError(400, `group_by[${i}].sort.type: expected "measure" or "alphabetical"`);
  const order = s.order ?? (sortType === 'alphabetical' ? 'asc' : 'desc');
  if (order !== 'asc' && order !== 'desc')
    throw new HttpError(400, `group_by[${i}].sort.order: expected "asc" or "desc"`);
  const sortAgg = aggregation(s.aggregation ?? 'count', `group_by[${i}].sort.aggregation`);
  if (o.missing !== undefined && typeof o.missing !== 'string' && typeof o.missing !== 'number')
    throw new HttpError(400, `group_by[${i}].missing must be a string or a number`);
  if (o.total !== undefined && !['boolean', 'string', 'number'].includes(typeof o.total))
    throw new HttpError(400, `group_by[${i}].total must be a boolean, a string or a number`);
  return {
    facet: facet(o.facet, `group_by[${i}].facet`),
    limit,
    sort: {
      aggregation: sortAgg,
      metric: sortType === 'measure' ? metricFor(sortAgg, s.metric, `group_by[${i}].sort.metric`) : undefined,
      order,
      type: sortType,
    },
    missing: o.missing as string | number | undefined,
    total:
      o.total === undefined || o.total === false
        ? undefined
        : o.total === true
          ? '__total__'
          : String(o.total),
  };
}

/** Reads the request body into the aggregate request of search/aggregate.ts. */
function readRequest(body: unknown, now: number) {
  const b = obj(body, 'the body');
  const filter = obj(b.filter, 'filter');
  const from = parseTime(filter.from ?? 'now-15m', now, 'filter.from');
  const to = parseTime(filter.to ?? 'now', now, 'filter.to') + 1;
  if (from >= to) throw new HttpError(400, 'filter.from must be before filter.to');
  const query = parseFilter(filter.query);
  const rawComputes = b.compute === undefined ? [{ aggregation: 'count' }] : b.compute;
  if (!Array.isArray(rawComputes) || rawComputes.length === 0 || rawComputes.length > 10)
    throw new HttpError(400, 'compute must be a list of 1 to 10 computations');
  const computes: Compute[] = rawComputes.map((c: unknown, i) => {
    const o = obj(c, `compute[${i}]`);
    const agg = aggregation(o.aggregation, `compute[${i}].aggregation`);
    const type = o.type ?? 'total';
    if (type !== 'total' && type !== 'timeseries')
      throw new HttpError(
        400,
        `compute[${i}].type: expected "total" or "timeseries", got ${JSON.stringify(type)}`,
      );
    let interval = 0;
    try {
      if (type === 'timeseries') interval = parseInterval(o.interval, from, to);
    } catch (err) {
      throw new HttpError(400, `compute[${i}].${(err as Error).message}`);
    }
    return { aggregation: agg, metric: metricFor(agg, o.metric, `compute[${i}].metric`), type, interval };
  });
  const intervals = new Set(computes.filter((c) => c.type === 'timeseries').map((c) => c.interval));
  if (intervals.size > 1) throw new HttpError(400, 'compute: every timeseries must use the same interval');
  const rawGroups = b.group_by ?? [];
  if (!Array.isArray(rawGroups) || rawGroups.length > 4)
    throw new HttpError(400, 'group_by must be a list of at most 4 facets');
  const groupBy: GroupBy[] = rawGroups.map((g: unknown, i) => readGroupBy(g, i));
  return { request: { from, to, computes, groupBy }, query };
}

/** Registers the analytics route (API and application keys required). */
export function registerLogsAggregate(app: FastifyInstance, deps: ServerDeps): void {
  app.post('/api/v2/logs/analytics/aggregate', { onRequest: appKeyHook(deps.keys) }, async (req) => {
    const started = performance.now();
    const { request, query } = readRequest(req.body ?? {}, Date.now());
    const buckets = await deps.store.aggregateLogs(request, query).catch((err: unknown) => {
      if (err instanceof TooManyGroupsError) throw new HttpError(400, err.message);
      throw err;
    });
    return {
      data: { buckets },
      meta: {
        elapsed: Math.round(performance.now() - started),
        request_id: crypto.randomUUID(),
        status: 'done',
      },
    };
  });
}
