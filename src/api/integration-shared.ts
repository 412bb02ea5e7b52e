// What the integration APIs (integration-pagerduty.ts, -slack.ts, -opsgenie.ts, -teams.ts) share: body
// validation into Datadog's 400s, name rules, and the records' reads and writes with Datadog's 404/409 and the
// reload of the merged recipients.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { IntegrationRecipients } from '../notify/integrations.ts';
import type { IntegrationKind, IntegrationRecord, IntegrationStore } from '../store/integrations.ts';
import { HttpError } from './errors.ts';

/** What an integration API needs. */
export interface IntegrationApiDeps {
  store: IntegrationStore;
  recipients: IntegrationRecipients;
  logger: Logger;
}

/** A name that can follow `@kind-` in a handle. */
export const handleName = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(100)
  .regex(
    /^[A-Za-z0-9_.-]+$/,
    'names may hold letters, digits, "_", "-" and "." only (it is used in @-handles)',
  );

/** A secret string: required, printable, no spaces; never echoed in errors. */
export const secretString = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} is required`)
    .max(2048)
    .regex(/^[!-~]+$/, `${what} holds printable characters without spaces`);

/** An http(s) URL. */
export const httpUrl = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .max(2048)
    .refine((u) => {
      try {
        return /^https?:$/.test(new URL(u).protocol);
      } catch {
        return false;
      }
    }, `${what} must be an http or https URL`);

/** Parses a body or answers 400 naming every problem (messages never echo a value: it may be a secret). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'Bad Request: the body must be a JSON object');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const path = i.path.filter((p) => typeof p !== 'symbol').join('.');
    const msg = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message;
    return `The value provided for parameter '${path || 'body'}' is invalid: ${msg}`;
  });
  throw new HttpError(400, problems.join('; '), undefined, problems);
}

/** A new record's common fields. */
export function newRecord(
  kind: IntegrationKind,
  fields: Pick<IntegrationRecord, 'name' | 'secret' | 'attributes'> & { id?: string; scope?: string },
): IntegrationRecord {
  const now = Date.now();
  return { id: randomUUID(), scope: '', ...fields, kind, created_at: now, modified_at: now };
}

/**
 * The records of one integration API, with Datadog's answers: `get` by id (404), and writes that answer 409
 * when the name is taken and 404 when the record went meanwhile. A write that happened reloads the merged
 * recipients, so the next delivery sees it, and is logged by name (never a secret). `what` names a record
 * in messages ("Opsgenie service"; Slack's depends on the account).
 */
export function integrationRecords(
  deps: IntegrationApiDeps,
  kind: IntegrationKind,
  what: (scope: string) => string,
) {
  const done = async (action: 'created' | 'updated' | 'deleted', r: IntegrationRecord) => {
    await deps.recipients.load();
    deps.logger.info(
      { integration: kind, name: r.name, ...(r.scope ? { account: r.scope } : {}) },
      `${kind} recipient ${action} through the integration API`,
    );
  };
  const taken = (r: IntegrationRecord) =>
    new HttpError(409, `Conflict: a ${what(r.scope)} named "${r.name}" already exists`);
  const gone = (id: string, scope = '') => new HttpError(404, `Not Found: no ${what(scope)} with id "${id}"`);
  return {
    async get(id: string): Promise<IntegrationRecord> {
      const r = await deps.store.getIntegration(kind, id);
      if (!r) throw gone(id);
      return r;
    },
    async create(r: IntegrationRecord): Promise<void> {
      if (!(await deps.store.insertIntegration(r))) throw taken(r);
      await done('created', r);
    },
    async update(next: IntegrationRecord): Promise<void> {
      const out = await deps.store.replaceIntegration(next);
      if (out === 'missing') throw gone(next.id, next.scope);
      if (out === 'conflict') throw taken(next);
      await done('updated', next);
    },
    async remove(current: IntegrationRecord): Promise<void> {
      if (await deps.store.deleteIntegration(kind, current.id)) await done('deleted', current);
    },
  };
}

/** Flowwatch's notes on a record, added to its response: a name the file shadows, an undeliverable channel. */
export function notes(deps: IntegrationApiDeps, r: IntegrationRecord): Record<string, string> {
  const conflict = deps.recipients.conflict(r);
  const undeliverable = deps.recipients.unresolved(r);
  return { ...(conflict ? { conflict } : {}), ...(undeliverable ? { undeliverable } : {}) };
}

/** A path parameter. */
export function param(req: FastifyRequest, name: string): string {
  return (req.params as Record<string, string>)[name] ?? '';
}
