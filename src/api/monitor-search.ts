// Datadog's monitor searches: GET /api/v1/monitor/search (monitors) and GET /api/v1/monitor/groups/search
// (monitor groups), with `query`, `page`, `per_page`, `sort` and the `counts` facets, in the shapes of the
// official client's MonitorSearchResponse and MonitorGroupSearchResponse. The query language is
// src/monitors/search.ts.
import type { FastifyInstance } from 'fastify';
import { type Downtime, isMuted } from '../monitors/downtime.ts';
import type { MonitorEvaluator } from '../monitors/evaluator.ts';
import type { Monitor } from '../monitors/model.ts';
import {
  countBy,
  MonitorSearchError,
  matchesSearch,
  parseMonitorSearch,
  parseSearchSort,
  type SearchFacts,
} from '../monitors/search.ts';
import { extractHandles } from '../monitors/template.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const seconds = (ms: number | null | undefined) => (ms ? Math.floor(ms / 1000) : null);
const CREATOR = { email: 'flowwatch@localhost', handle: 'flowwatch', name: 'Flowwatch' };

/** page, per_page (1–1000, default 30), query and sort from the query string, with clear 400s. */
function paging(q: Record<string, string | undefined>, sortFields: readonly string[]) {
  const page = Number(q.page ?? 0);
  const perPage = Number(q.per_page ?? 30);
  if (!Number.isInteger(page) || page < 0)
    throw new HttpError(400, `page must be an integer ≥ 0; got "${q.page}"`);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000)
    throw new HttpError(400, `per_page must be an integer from 1 to 1000; got "${q.per_page}"`);
  try {
    return {
      page,
      perPage,
      search: parseMonitorSearch(q.query ?? ''),
      sort: parseSearchSort(q.sort, sortFields),
    };
  } catch (err) {
    if (err instanceof MonitorSearchError)
      throw new HttpError(400, `The value provided for parameter 'query' is invalid: ${err.message}`);
    throw err;
  }
}

function metadata(page: number, perPage: number, total: number) {
  return { page, per_page: perPage, page_count: Math.ceil(total / perPage), total_count: total };
}

/** The facts a search looks at for a monitor. */
function monitorFacts(m: Monitor, ev: MonitorEvaluator, downtimes: readonly Downtime[], now: number) {
  return {
    id: m.id,
    name: m.name,
    status: ev.overallState(m.id),
    tags: m.tags,
    priority: m.priority,
    muted: isMuted(downtimes, m, {}, now).muted,
    multi: /\.by\(\s*"[^"]+"\s*\)/.test(m.query) && !m.options.notify_by?.includes('*'),
    notifications: extractHandles(m.message).map((h) => h.replace(/^@/, '')),
  } satisfies SearchFacts;
}

/** Registers both searches (API and application keys required). */
export function registerMonitorSearch(app: FastifyInstance, deps: ServerDeps, ev: MonitorEvaluator): void {
  const onRequest = appKeyHook(deps.keys);

  app.get('/api/v1/monitor/search', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const { page, perPage, search, sort } = paging(q, ['name', 'status', 'tags', 'id', 'priority']);
    const now = Date.now();
    const downtimes = deps.downtimes.all();
    const found = (await deps.store.listMonitors())
      .map((m) => ({ m, f: monitorFacts(m, ev, downtimes, now) }))
      .filter(({ f }) => matchesSearch(search, f));
    if (sort) found.sort((a, b) => sort(a.f, b.f));
    const monitors = found.slice(page * perPage, (page + 1) * perPage).map(({ m, f }) => ({
      id: m.id,
      name: m.name,
      status: f.status,
      type: m.type,
      classification: 'log',
      tags: m.tags,
      query: m.query,
      priority: m.priority,
      last_triggered_ts: seconds(Math.max(0, ...ev.groups(m.id).map((g) => g.state?.lastTriggeredAt ?? 0))),
      creator: CREATOR,
      notifications: f.notifications.map((h) => ({ handle: h, name: h })),
      metrics: [],
      org_id: 0,
      scopes: [],
      muted: f.muted,
      multi: f.multi,
    }));
    const all = found.map(({ f }) => f);
    return {
      monitors,
      metadata: metadata(page, perPage, found.length),
      counts: {
        status: countBy(all, (f) => [f.status]),
        type: countBy(all, () => ['log']),
        muted: countBy(all, (f) => [f.muted]),
        tag: countBy(all, (f) => f.tags),
      },
    };
  });

  app.get('/api/v1/monitor/groups/search', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const { page, perPage, search, sort } = paging(q, ['name', 'status', 'tags', 'id', 'group']);
    const now = Date.now();
    const downtimes = deps.downtimes.all();
    const found: { f: SearchFacts; row: Record<string, unknown> }[] = [];
    for (const m of await deps.store.listMonitors()) {
      const base = monitorFacts(m, ev, downtimes, now);
      for (const g of ev.groups(m.id)) {
        if (!g.state) continue;
        const f: SearchFacts = {
          ...base,
          status: g.state.status,
          group: g.key,
          muted: isMuted(downtimes, m, g.scopeTarget, now).muted,
        };
        if (!matchesSearch(search, f)) continue;
        found.push({
          f,
          row: {
            group: g.key,
            group_tags: Object.keys(g.by).length ? Object.entries(g.by).map(([k, v]) => `${k}:${v}`) : ['*'],
            last_nodata_ts: seconds(g.state.lastNoDataAt),
            last_triggered_ts: seconds(g.state.lastTriggeredAt),
            monitor_id: m.id,
            monitor_name: m.name,
            status: g.state.status,
          },
        });
      }
    }
    if (sort) found.sort((a, b) => sort(a.f, b.f));
    const all = found.map(({ f }) => f);
    return {
      groups: found.slice(page * perPage, (page + 1) * perPage).map((x) => x.row),
      metadata: metadata(page, perPage, found.length),
      counts: { status: countBy(all, (f) => [f.status]), type: countBy(all, () => ['log']) },
    };
  });
}
