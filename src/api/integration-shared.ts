// What the integration APIs (integration-pagerduty.ts, -slack.ts, -opsgenie.ts, -teams.ts) share: body
// validation into Datadog's 400s, name rules, and the write path that refreshes the merged recipients.
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

/** 409 for a name already taken. */
export function nameTaken(what: string, name: string): HttpError {
  return new HttpError(409, `Conflict: a ${what} named "${name}" already exists`);
}

/** Runs a change; when it happened, reloads the merged recipients so the next delivery sees it; logs names only. */
export async function changed<T>(
  deps: IntegrationApiDeps,
  what: { kind: IntegrationKind; action: 'created' | 'updated' | 'deleted'; name: string; scope?: string },
  run: () => Promise<T>,
): Promise<T> {
  const out = await run();
  // Nothing changed (name taken, record gone): nothing to reload or log.
  if (out === false || out === 'missing' || out === 'conflict') return out;
  await deps.recipients.load();
  deps.logger.info(
    { integration: what.kind, name: what.name, ...(what.scope ? { account: what.scope } : {}) },
    `${what.kind} recipient ${what.action} through the integration API`,
  );
  return out;
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
