// Datadog's monitor API for log alerts: /api/v1/monitor (create, list with filters, get, update, delete),
// /api/v1/monitor/validate (the searches are monitor-search.ts); and Flowwatch's history of a monitor's events.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Downtime, matchingDowntimes } from '../monitors/downtime.ts';
import type { MonitorEvaluator } from '../monitors/evaluator.ts';
import { type Monitor, MonitorValidationError, parseMonitorInput } from '../monitors/model.ts';
import { parseMonitorQuery } from '../monitors/query.ts';
import { checkThresholds } from '../monitors/state.ts';
import { checkTemplate } from '../monitors/template.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const seconds = (ms: number | null | undefined) => (ms ? Math.floor(ms / 1000) : null);

/** A monitor in Datadog's response shape, with its live state and the downtimes that match it. */
export function monitorJson(
  m: Monitor,
  ev: MonitorEvaluator,
  downtimes: readonly Downtime[],
  groupStates?: string,
) {
  const groups = ev.groups(m.id);
  const wanted = groupStates ? new Set(groupStates.split(',').map((s) => s.trim().toLowerCase())) : undefined;
  const stateGroups: Record<string, unknown> = {};
  for (const g of groups) {
    if (!g.state) continue;
    if (wanted && !wanted.has('all') && !wanted.has(g.state.status.toLowerCase())) continue;
    stateGroups[g.key] = {
      name: g.key,
      status: g.state.status,
      last_triggered_ts: seconds(g.state.lastTriggeredAt),
      last_notified_ts: seconds(g.state.lastNotifiedAt),
      last_resolved_ts: seconds(g.state.lastResolvedAt),
      last_nodata_ts: seconds(g.state.lastNoDataAt),
    };
  }
  // Grouped and not a simple alert through notify_by ["*"].
  const multi = /\.by\(\s*"[^"]+"\s*\)/.test(m.query) && !m.options.notify_by?.includes('*');
  return {
    id: m.id,
    org_id: 0,
    type: m.type,
    name: m.name,
    message: m.message,
    tags: m.tags,
    query: m.query,
    options: { include_tags: true, notify_no_data: false, notify_audit: false, silenced: {}, ...m.options },
    priority: m.priority,
    restricted_roles: m.restricted_roles ?? null,
    multi,
    created: new Date(m.created_at).toISOString(),
    created_at: m.created_at,
    modified: new Date(m.modified_at).toISOString(),
    deleted: null,
    overall_state: ev.overallState(m.id),
    overall_state_modified: null,
    draft_status: 'published',
    creator: { email: 'flowwatch@localhost', handle: 'flowwatch', name: 'Flowwatch' },
    matching_downtimes: matchingDowntimes(downtimes, m, parseMonitorQuery(m.query).groupBy, Date.now()),
    ...(groupStates !== undefined ? { state: { groups: stateGroups } } : {}),
  };
}

/** Validates a body fully (schema, query, thresholds, template) and returns the input. */
function validate(body: unknown) {
  try {
    const { input, query } = parseMonitorInput(body);
    const problems = [
      ...checkThresholds(query.comparator, {
        critical: input.options.thresholds?.critical ?? query.threshold,
        warning: input.options.thresholds?.warning,
        critical_recovery: input.options.thresholds?.critical_recovery,
        warning_recovery: input.options.thresholds?.warning_recovery,
      }).map((p) => `The value provided for parameter 'options.thresholds' is invalid: ${p}`),
      ...checkTemplate(input.message).map(
        (p) => `The value provided for parameter 'message' is invalid: ${p}`,
      ),
    ];
    if (problems.length > 0) throw new HttpError(400, problems.join('; '), undefined, problems);
    return input;
  } catch (err) {
    if (err instanceof MonitorValidationError) throw new HttpError(400, err.message, undefined, err.problems);
    throw err;
  }
}

function idOf(req: FastifyRequest): number {
  const raw = (req.params as { id: string }).id;
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id))
    throw new HttpError(400, `monitor_id must be an integer, got "${raw}"`);
  return id;
}

/** Registers the monitor routes (API and application keys required). */
export function registerMonitors(app: FastifyInstance, deps: ServerDeps, ev: MonitorEvaluator): void {
  const store = deps.store;
  const onRequest = appKeyHook(deps.keys);
  const find = async (id: number) => {
    const m = (await store.listMonitors()).find((x) => x.id === id);
    if (!m) throw new HttpError(404, `Monitor not found: no monitor with id ${id}`);
    return m;
  };

  app.post('/api/v1/monitor', { onRequest }, async (req) => {
    const input = validate(req.body);
    const m = await store.insertMonitor(input, Date.now());
    await ev.upsert(m);
    return monitorJson(m, ev, deps.downtimes.all());
  });

  app.post('/api/v1/monitor/validate', { onRequest }, async (req) => {
    validate(req.body);
    return {};
  });

  app.get('/api/v1/monitor', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    let list = await store.listMonitors();
    const dts = deps.downtimes.all();
    if (q.name) list = list.filter((m) => m.name.toLowerCase().includes(q.name!.toLowerCase()));
    for (const [param, pick] of [
      ['tags', (m: Monitor) => m.tags],
      ['monitor_tags', (m: Monitor) => m.tags],
    ] as const) {
      const want =
        q[param]
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean) ?? [];
      if (want.length) list = list.filter((m) => want.every((t) => pick(m).includes(t)));
    }
    if (q.id_offset) list = list.filter((m) => m.id > Number(q.id_offset));
    const pageSize = q.page_size === undefined ? undefined : Number(q.page_size);
    if (pageSize !== undefined) {
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
        throw new HttpError(400, 'page_size must be an integer from 1 to 1000');
      const page = Number(q.page ?? 0);
      list = list.slice(page * pageSize, (page + 1) * pageSize);
    }
    return list.map((m) => monitorJson(m, ev, dts, q.group_states));
  });

  app.get('/api/v1/monitor/:id', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return monitorJson(await find(idOf(req)), ev, deps.downtimes.all(), q.group_states ?? 'all');
  });

  app.put('/api/v1/monitor/:id', { onRequest }, async (req) => {
    const id = idOf(req);
    const current = await find(id);
    const patch = (req.body ?? {}) as Record<string, unknown>;
    if (typeof patch !== 'object' || Array.isArray(patch))
      throw new HttpError(400, 'the body must be a JSON object');
    const { id: _i, created_at: _c, modified_at: _m, ...base } = current;
    const input = validate({
      ...base,
      ...patch,
      options: { ...base.options, ...((patch.options as object) ?? {}) },
    });
    const m = await store.updateMonitor(id, input, Date.now());
    if (!m) throw new HttpError(404, `Monitor not found: no monitor with id ${id}`);
    await ev.upsert(m);
    return monitorJson(m, ev, deps.downtimes.all());
  });

  app.delete('/api/v1/monitor/:id', { onRequest }, async (req) => {
    const id = idOf(req);
    await find(id);
    ev.remove(id);
    // Its open PagerDuty incidents and Opsgenie alerts are resolved (close events in the outbox: durable).
    await deps.incidents?.close(id, 'monitor_deleted');
    await store.deleteMonitor(id);
    return { deleted_monitor_id: id };
  });

  app.get('/api/flowwatch/v1/monitor/:id/history', { onRequest }, async (req) => {
    const id = idOf(req);
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new HttpError(400, 'limit must be from 1 to 1000');
    const events = await store.listMonitorEvents({
      monitorId: id,
      limit,
      beforeId: q.before === undefined ? undefined : Number(q.before),
    });
    return { data: events };
  });
}
