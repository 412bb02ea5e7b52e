// Datadog's log search API (v2): POST /api/v2/logs/events/search and GET /api/v2/logs/events.
// Filters use the query language of docs/search.md; pages follow a cursor.
import type { FastifyInstance } from 'fastify';
import type { StoredLog } from '../domain/log-event.ts';
import type { Query } from '../search/ast.ts';
import { parseQuery, QuerySyntaxError } from '../search/parse.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';
import { parseTime } from './time.ts';

interface SearchParams {
  query?: unknown;
  from?: unknown;
  to?: unknown;
  sort?: unknown;
  limit?: unknown;
  cursor?: unknown;
}

/** A stored log in Datadog's `Log` shape. */
export function toDatadogLog(l: StoredLog) {
  return {
    id: l.id,
    type: 'log' as const,
    attributes: {
      timestamp: new Date(l.timestamp).toISOString(),
      status: l.status,
      service: l.service ?? undefined,
      host: l.host ?? undefined,
      message: l.message,
      tags: [...l.tags, ...(l.source ? [`source:${l.source}`] : [])],
      attributes: l.attributes,
    },
  };
}

/** Parses `filter.query` (absent or empty: every log); syntax errors become a 400 naming the column. */
export function parseFilter(query: unknown, what = 'filter.query'): Query {
  if (query === undefined || query === null) return { kind: 'all' };
  if (typeof query !== 'string')
    throw new HttpError(400, `${what} must be a string, got ${JSON.stringify(query)}`);
  try {
    return parseQuery(query);
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw new HttpError(400, `${what}: ${err.message}`);
    throw err;
  }
}

async function search(deps: ServerDeps, p: SearchParams, selfUrl: string) {
  const now = Date.now();
  const filter = parseFilter(p.query);
  const from = parseTime(p.from ?? 'now-15m', now, 'filter.from');
  const to = parseTime(p.to ?? 'now', now, 'filter.to');
  if (from > to) throw new HttpError(400, 'filter.from must not be after filter.to');
  if (p.sort !== undefined && p.sort !== 'timestamp' && p.sort !== '-timestamp') {
    throw new HttpError(400, `sort: expected "timestamp" or "-timestamp", got ${JSON.stringify(p.sort)}`);
  }
  const limit = p.limit === undefined ? 10 : Number(p.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new HttpError(400, 'page.limit must be an integer from 1 to 1000');
  if (p.cursor !== undefined && typeof p.cursor !== 'string')
    throw new HttpError(400, 'page.cursor must be a string');
  const started = performance.now();
  let page: Awaited<ReturnType<typeof deps.store.readLogs>>;
  try {
    page = await deps.store.readLogs({
      from,
      to: to + 1,
      sort: p.sort === 'timestamp' ? 'asc' : 'desc',
      limit,
      cursor: p.cursor,
      filter,
    });
  } catch (err) {
    if (/invalid cursor/.test((err as Error).message))
      throw new HttpError(400, `page.cursor: ${(err as Error).message}`);
    throw err;
  }
  const next = page.cursor ? new URL(selfUrl) : undefined;
  next?.searchParams.set('page[cursor]', page.cursor!);
  return {
    data: page.logs.map(toDatadogLog),
    meta: {
      elapsed: Math.round(performance.now() - started),
      request_id: crypto.randomUUID(),
      status: 'done',
      ...(page.cursor ? { page: { after: page.cursor } } : {}),
    },
    ...(next ? { links: { next: next.toString() } } : {}),
  };
}

/** Registers the search routes (API and application keys required). */
export function registerLogsSearch(app: FastifyInstance, deps: ServerDeps): void {
  const base = (host: string | undefined) => deps.settings.public_url ?? `http://${host ?? 'localhost'}`;
  // Keys are checked before the body is read.
  const onRequest = appKeyHook(deps.keys);
  app.post('/api/v2/logs/events/search', { onRequest }, async (req) => {
    const b = (req.body ?? {}) as {
      filter?: { query?: string; from?: unknown; to?: unknown };
      sort?: unknown;
      page?: { limit?: unknown; cursor?: unknown };
    };
    if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'the body must be a JSON object');
    const f = b.filter ?? {};
    const self = new URL('/api/v2/logs/events', base(req.headers.host));
    if (f.query) self.searchParams.set('filter[query]', f.query);
    return search(
      deps,
      { query: f.query, from: f.from, to: f.to, sort: b.sort, limit: b.page?.limit, cursor: b.page?.cursor },
      self.toString(),
    );
  });
  // Flowwatch's own live-tail read (not a Datadog path): logs in stored order after a position, so that
  // late arrivals dated in the past are followed too. `after` omitted returns the current end.
  app.get('/api/flowwatch/v1/logs/tail', { onRequest }, async (req) => {
    const q = req.query as Record<string, unknown>;
    if (q.after !== undefined && typeof q.after !== 'string')
      throw new HttpError(400, 'after must be given once');
    const limit = q.limit === undefined ? 1000 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new HttpError(400, 'limit must be an integer from 1 to 1000');
    try {
      const page = await deps.store.readLogsAfter(q.after as string | undefined, limit);
      return { data: page.logs.map(toDatadogLog), meta: { after: page.next } };
    } catch (err) {
      if (/invalid cursor/.test((err as Error).message))
        throw new HttpError(400, `after: ${(err as Error).message}`);
      throw err;
    }
  });
  app.get('/api/v2/logs/events', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const self = new URL(req.url, base(req.headers.host));
    self.searchParams.delete('page[cursor]');
    return search(
      deps,
      {
        query: q['filter[query]'],
        from: q['filter[from]'],
        to: q['filter[to]'],
        sort: q.sort,
        limit: q['page[limit]'],
        cursor: q['page[cursor]'],
      },
      self.toString(),
    );
  });
}
