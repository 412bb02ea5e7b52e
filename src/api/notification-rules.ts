// Datadog's monitor notification rule API (v2, JSON:API): /api/v2/monitor/notification_rule (list, create)
// and /api/v2/monitor/notification_rule/{rule_id} (get, PATCH update, delete). Spec §5; docs/notifications.md.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type NotificationRule, parseRuleAttributes, RuleValidationError } from '../notify/rule-model.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

export const RULE_TYPE = 'monitor-notification-rule';
/** Datadog's default limit of rules per organisation. */
export const MAX_RULES = 1000;

/** Flowwatch has no users: every rule is created by this one (as monitors' `creator`). */
const CREATOR = {
  type: 'users',
  id: '00000000-0000-0000-0000-000000000000',
  attributes: { name: 'Flowwatch', handle: 'flowwatch', email: 'flowwatch@localhost', status: 'Active' },
};

/** Datadog's timestamp form: `2025-09-26T01:51:00.132000+00:00`. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** A rule as the `data` of a response. */
export function ruleData(r: NotificationRule) {
  const { id, created_at, modified_at, ...attrs } = r;
  return {
    type: RULE_TYPE,
    id,
    attributes: {
      ...attrs,
      // The wire uses created_at/modified_at (Datadog's recordings); the client's models read created/modified.
      created_at: stamp(created_at),
      modified_at: stamp(modified_at),
      created: stamp(created_at),
      modified: stamp(modified_at),
    },
    relationships: { created_by: { data: { type: CREATOR.type, id: CREATOR.id } } },
  };
}

function wantsCreator(req: FastifyRequest): boolean {
  const include = (req.query as Record<string, string | undefined>).include;
  if (include === undefined || include === '') return false;
  const parts = include.split(',').map((s) => s.trim());
  const unknown = parts.filter((p) => p !== 'created_by');
  if (unknown.length)
    throw new HttpError(400, `Invalid include "${unknown.join(',')}": supported is created_by`);
  return true;
}

/** Reads `{data: {type, id?, attributes}}` and validates the attributes. */
function readBody(body: unknown, idRequired?: string) {
  const data = (body as { data?: unknown } | null | undefined)?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new HttpError(400, "The value provided for parameter 'data' is invalid: expected an object");
  const d = data as Record<string, unknown>;
  const problems: string[] = [];
  if (d.type !== undefined && d.type !== RULE_TYPE)
    problems.push(`The value provided for parameter 'data.type' is invalid: expected "${RULE_TYPE}"`);
  if (idRequired !== undefined) {
    if (d.id === undefined) problems.push("The value provided for parameter 'data.id' is invalid: required");
    else if (d.id !== idRequired)
      problems.push(
        `The value provided for parameter 'data.id' is invalid: "${String(d.id)}" does not match the rule_id in the path`,
      );
  }
  for (const k of Object.keys(d))
    if (!['type', 'id', 'attributes', 'relationships'].includes(k))
      problems.push(`The value provided for parameter 'data.${k}' is invalid: unknown field`);
  try {
    const attrs = parseRuleAttributes(d.attributes);
    if (problems.length) throw new RuleValidationError(problems);
    return attrs;
  } catch (err) {
    if (err instanceof RuleValidationError) {
      const all = [...problems, ...err.problems.filter((p) => !problems.includes(p))];
      throw new HttpError(400, all.join('; '), undefined, all);
    }
    throw err;
  }
}

/** Every recipient a rule names. */
function allRecipients(r: NotificationRule): string[] {
  return [
    ...(r.recipients ?? []),
    ...(r.conditional_recipients?.conditions.flatMap((c) => c.recipients) ?? []),
    ...(r.conditional_recipients?.fallback_recipients ?? []),
  ];
}

/** The tags a rule's filter names (the list, or the key:value terms of a scope as written). */
function filterTags(r: NotificationRule): string[] {
  if (!r.filter) return [];
  if ('tags' in r.filter) return r.filter.tags;
  return r.filter.scope.match(/[^\s()"]+:(?:"[^"]*"|[^\s()]+)/g)?.map((t) => t.replace(/"/g, '')) ?? [];
}

/** `filters` of the list endpoint: JSON `{text, tags, recipients}`, any-of within each, all given must hold. */
function listFilter(raw: string | undefined): (r: NotificationRule) => boolean {
  if (raw === undefined || raw === '') return () => true;
  let f: unknown;
  try {
    f = JSON.parse(raw);
  } catch {
    throw new HttpError(400, "The value provided for parameter 'filters' is invalid: expected a JSON object");
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f))
    throw new HttpError(400, "The value provided for parameter 'filters' is invalid: expected a JSON object");
  const { text, tags, recipients } = f as Record<string, unknown>;
  const strings = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new HttpError(
        400,
        `The value provided for parameter 'filters.${name}' is invalid: expected strings`,
      );
    return (v as string[]).map((x) => x.toLowerCase().replace(/^@/, ''));
  };
  if (text !== undefined && typeof text !== 'string')
    throw new HttpError(400, "The value provided for parameter 'filters.text' is invalid: expected a string");
  const wantTags = strings(tags, 'tags');
  const wantRecipients = strings(recipients, 'recipients');
  const needle = (text as string | undefined)?.trim().toLowerCase();
  return (r) => {
    const rt = filterTags(r).map((t) => t.toLowerCase());
    const rr = allRecipients(r).map((x) => x.toLowerCase());
    if (needle && ![r.name.toLowerCase(), ...rt, ...rr].some((s) => s.includes(needle))) return false;
    if (wantTags?.length && !wantTags.some((t) => rt.includes(t))) return false;
    if (wantRecipients?.length && !wantRecipients.some((t) => rr.includes(t))) return false;
    return true;
  };
}

function intParam(raw: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new HttpError(
      400,
      `The value provided for parameter '${name}' is invalid: expected an integer from ${min} to ${max}`,
    );
  return n;
}

/** Registers the notification rule routes (API and application keys required). */
export function registerNotificationRules(
  app: FastifyInstance,
  deps: Pick<ServerDeps, 'store' | 'keys'>,
): void {
  const store = deps.store;
  const onRequest = appKeyHook(deps.keys);
  const base = '/api/v2/monitor/notification_rule';
  const find = async (req: FastifyRequest) => {
    const id = (req.params as { rule_id: string }).rule_id;
    const r = await store.getNotificationRule(id);
    if (!r) throw new HttpError(404, `Monitor notification rule not found: no rule with id "${id}"`);
    return r;
  };
  const withCreator = (include: boolean) => (include ? { included: [CREATOR] } : {});

  app.get(base, { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const page = intParam(q.page, 'page', 0, 0, Number.MAX_SAFE_INTEGER);
    const perPage = intParam(q.per_page, 'per_page', 100, 1, 1000);
    const include = wantsCreator(req);
    let list = (await store.listNotificationRules()).filter(listFilter(q.filters));
    if (q.sort !== undefined && q.sort !== '') {
      const m = /^(name|created_at)(?::(asc|desc))?$/.exec(q.sort);
      if (!m)
        throw new HttpError(
          400,
          `The value provided for parameter 'sort' is invalid: "${q.sort}"; expected name or created_at, optionally with :asc or :desc`,
        );
      const dir = m[2] === 'desc' ? -1 : 1;
      const key = m[1] as 'name' | 'created_at';
      list = [...list].sort((a, b) => {
        const c =
          key === 'name'
            ? a.name.localeCompare(b.name) || a.created_at - b.created_at
            : a.created_at - b.created_at;
        return dir * (c || a.id.localeCompare(b.id));
      });
    }
    const data = list.slice(page * perPage, (page + 1) * perPage).map(ruleData);
    return { data, ...withCreator(include && data.length > 0) };
  });

  app.post(base, { onRequest }, async (req) => {
    const attrs = readBody(req.body);
    if ((await store.listNotificationRules()).length >= MAX_RULES)
      throw new HttpError(
        400,
        `Limit reached: an organization can have at most ${MAX_RULES} notification rules`,
      );
    const now = Date.now();
    const rule: NotificationRule = { ...attrs, id: randomUUID(), created_at: now, modified_at: now };
    await store.insertNotificationRule(rule);
    return { data: ruleData(rule), ...withCreator(true) };
  });

  app.get(`${base}/:rule_id`, { onRequest }, async (req) => {
    const include = wantsCreator(req);
    return { data: ruleData(await find(req)), ...withCreator(include) };
  });

  app.patch(`${base}/:rule_id`, { onRequest }, async (req) => {
    const current = await find(req);
    const attrs = readBody(req.body, current.id);
    const rule: NotificationRule = {
      ...attrs,
      id: current.id,
      created_at: current.created_at,
      modified_at: Math.max(Date.now(), current.modified_at),
    };
    if (!(await store.replaceNotificationRule(rule)))
      throw new HttpError(404, `Monitor notification rule not found: no rule with id "${current.id}"`);
    return { data: ruleData(rule), ...withCreator(true) };
  });

  app.delete(`${base}/:rule_id`, { onRequest }, async (req, reply) => {
    const r = await find(req);
    await store.deleteNotificationRule(r.id);
    return reply.code(204).send();
  });
}
