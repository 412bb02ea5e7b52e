// Datadog's downtime API v2 (/api/v2/downtime, JSON:API shapes): create, list, get, update (PATCH) and cancel
// (DELETE, 204; the downtime stays listed with status "canceled" for two days, then the API shows it no
// more, as Datadog removes it), and the downtimes matching a monitor
// (/api/v2/monitor/{id}/downtime_matches). docs/monitors.md, "Downtimes".
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type Downtime,
  DowntimeValidationError,
  downtimeMatches,
  downtimeStatus,
  isRemoved,
  nextWindow,
  parseDowntimeCreate,
  parseDowntimeUpdate,
} from '../monitors/downtime.ts';
import { scopeMatches } from '../monitors/downtime-scope.ts';
import { parseMonitorQuery } from '../monitors/query.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/** A downtime as Datadog's `DowntimeResponseData`. */
export function downtimeJson(d: Downtime, now: number) {
  const s = d.schedule;
  let schedule: Record<string, unknown>;
  if (s.kind === 'one_time') schedule = { start: iso(s.start), end: iso(s.end) };
  else {
    const w = d.canceled_at === null ? nextWindow(s, now) : null;
    schedule = {
      recurrences: s.recurrences,
      timezone: s.timezone,
      ...(w ? { current_downtime: { start: iso(w.start), end: iso(w.end) } } : {}),
    };
  }
  const id = d.monitor_identifier;
  return {
    type: 'downtime',
    id: d.id,
    attributes: {
      scope: d.scope,
      monitor_identifier: id,
      schedule,
      message: d.message,
      display_timezone: d.display_timezone,
      mute_first_recovery_notification: d.mute_first_recovery_notification,
      notify_end_states: d.notify_end_states,
      notify_end_types: d.notify_end_types,
      status: downtimeStatus(d, now),
      created: iso(d.created_at),
      modified: iso(d.modified_at),
      canceled: iso(d.canceled_at),
    },
    relationships: {
      created_by: { data: null },
      monitor: { data: 'monitor_id' in id ? { type: 'monitors', id: String(id.monitor_id) } : null },
    },
  };
}

/** The `data.attributes` of a JSON:API request, with Datadog-style errors. */
function attributesOf(body: unknown, id?: string): unknown {
  const data = (body as { data?: { type?: unknown; id?: unknown; attributes?: unknown } } | null)?.data;
  if (!data || typeof data !== 'object')
    throw new HttpError(400, 'data: required (a JSON:API resource object)');
  if (data.type !== undefined && data.type !== 'downtime')
    throw new HttpError(400, `data.type: must be "downtime", got ${JSON.stringify(data.type)}`);
  if (id !== undefined && data.id !== undefined && data.id !== id)
    throw new HttpError(400, `data.id (${JSON.stringify(data.id)}) does not match the path (${id})`);
  if (!data.attributes || typeof data.attributes !== 'object')
    throw new HttpError(400, 'data.attributes: required (an object)');
  return data.attributes;
}

/** `page[offset]` and `page[limit]` (default 30, as the official client pages). */
function paging(q: Record<string, string | undefined>): { offset: number; limit: number } {
  const offset = Number(q['page[offset]'] ?? 0);
  const limit = Number(q['page[limit]'] ?? 30);
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new HttpError(400, 'page[offset] must be an integer ≥ 0 and page[limit] from 1 to 1000');
  return { offset, limit };
}

function validated<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof DowntimeValidationError)
      throw new HttpError(400, err.message, undefined, err.problems);
    throw err;
  }
}

/** Registers the downtime routes (API and application keys required). */
export function registerDowntimes(app: FastifyInstance, deps: ServerDeps): void {
  const service = deps.downtimes;
  const onRequest = appKeyHook(deps.keys);
  const find = (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    const d = service.get(id);
    if (!d || isRemoved(d, Date.now()))
      throw new HttpError(404, `Downtime not found: no downtime with id ${id}`);
    return d;
  };

  app.post('/api/v2/downtime', { onRequest }, async (req) => {
    const now = Date.now();
    const d = validated(() => parseDowntimeCreate(attributesOf(req.body), now));
    await service.create(d);
    return { data: downtimeJson(d, now) };
  });

  app.get('/api/v2/downtime', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const now = Date.now();
    const { offset, limit } = paging(q);
    let list = service.all().filter((d) => !isRemoved(d, now));
    if (q.current_only === 'true') list = list.filter((d) => downtimeStatus(d, now) === 'active');
    return {
      data: list.slice(offset, offset + limit).map((d) => downtimeJson(d, now)),
      meta: { page: { total_filtered_count: list.length } },
    };
  });

  app.get('/api/v2/downtime/:id', { onRequest }, async (req) => ({
    data: downtimeJson(find(req), Date.now()),
  }));

  app.patch('/api/v2/downtime/:id', { onRequest }, async (req) => {
    const current = find(req);
    if (current.canceled_at !== null)
      throw new HttpError(400, `downtime ${current.id} is canceled and cannot be changed; create a new one`);
    const now = Date.now();
    const next = validated(() => parseDowntimeUpdate(current, attributesOf(req.body, current.id), now));
    const saved = await service.update(next);
    if (!saved) throw new HttpError(404, `Downtime not found: no downtime with id ${current.id}`);
    return { data: downtimeJson(saved, now) };
  });

  // Datadog's DowntimesApi.listMonitorDowntimes: the active and scheduled downtimes matching the monitor
  // (downtimeMatches), each with the monitor's current groups its scope covers.
  app.get('/api/v2/monitor/:id/downtime_matches', { onRequest }, async (req) => {
    const raw = (req.params as { id: string }).id;
    const id = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id))
      throw new HttpError(400, `monitor_id must be an integer, got "${raw}"`);
    const { offset, limit } = paging(req.query as Record<string, string | undefined>);
    const m = (await deps.store.listMonitors()).find((x) => x.id === id);
    if (!m) throw new HttpError(404, `Monitor not found: no monitor with id ${id}`);
    const now = Date.now();
    const matches = downtimeMatches(service.all(), m, parseMonitorQuery(m.query).groupBy, now);
    const groups = deps.monitors.groups(m.id).filter((g) => g.state);
    return {
      data: matches.slice(offset, offset + limit).map(({ downtime: d, start, end }) => ({
        type: 'downtime_match',
        id: d.id,
        attributes: {
          start: iso(start),
          end: iso(end),
          scope: d.scope,
          groups: groups.filter((g) => scopeMatches(d.scope, g.scopeTarget)).map((g) => g.key),
        },
      })),
      meta: { page: { total_filtered_count: matches.length } },
    };
  });

  app.delete('/api/v2/downtime/:id', { onRequest }, async (req, reply: FastifyReply) => {
    await service.cancel(find(req).id);
    return reply.code(204).send();
  });
}
