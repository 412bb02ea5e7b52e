// Datadog's Opsgenie integration API (v2), services: /api/v2/integration/opsgenie/services[/{id}] (JSON:API,
// type `opsgenie-service`) — create 201, list 200, get 200, update (PATCH) 200, delete 204, as the official
// client's OpsgenieIntegrationApi calls them. The API key is a secret: no response holds it, nothing logs it.
// `@opsgenie-NAME` creates and closes alerts with it (notify/channels/opsgenie.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IntegrationRecord } from '../store/integrations.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import {
  handleName,
  httpUrl,
  type IntegrationApiDeps,
  integrationRecords,
  newRecord,
  notes,
  param,
  parseBody,
  secretString,
} from './integration-shared.ts';
import type { ServerDeps } from './server.ts';

const BASE = '/api/v2/integration/opsgenie/services';
const TYPE = 'opsgenie-service';

const attributes = z
  .object({
    name: handleName,
    opsgenie_api_key: secretString('opsgenie_api_key'),
    region: z.enum(['us', 'eu', 'custom'], { error: 'region must be us, eu or custom' }),
    custom_url: httpUrl('custom_url').nullable().optional(),
  })
  .strict();
const createSchema = z.object({ data: z.object({ type: z.literal(TYPE), attributes }).strict() }).strict();
const updateSchema = z
  .object({
    data: z.object({ id: z.string(), type: z.literal(TYPE), attributes: attributes.partial() }).strict(),
  })
  .strict();

/** custom_url goes with region `custom`, and only with it (as the configuration file). */
function checkRegion(region: string, customUrl: string | null | undefined): void {
  if ((region === 'custom') !== Boolean(customUrl))
    throw new HttpError(
      400,
      "The value provided for parameter 'data.attributes.custom_url' is invalid: custom_url is required with region custom, and only then",
    );
}

/** A service as Datadog's `OpsgenieServiceResponseData`, with Flowwatch's notes in its attributes. */
function dataJson(deps: IntegrationApiDeps, r: IntegrationRecord) {
  return {
    id: r.id,
    type: TYPE,
    attributes: {
      name: r.name,
      region: r.attributes.region,
      custom_url: (r.attributes.custom_url as string | undefined) ?? null,
      ...notes(deps, r),
    },
  };
}

/** Registers the Opsgenie services routes (API and application keys required). */
export function registerOpsgenieIntegration(
  app: FastifyInstance,
  server: ServerDeps,
  deps: IntegrationApiDeps,
) {
  const onRequest = appKeyHook(server.keys);
  const records = integrationRecords(deps, 'opsgenie', () => 'Opsgenie service');

  app.post(BASE, { onRequest }, async (req, reply) => {
    const a = parseBody(createSchema, req.body).data.attributes;
    checkRegion(a.region, a.custom_url);
    const r = newRecord('opsgenie', {
      name: a.name,
      secret: a.opsgenie_api_key,
      attributes: { region: a.region, ...(a.custom_url ? { custom_url: a.custom_url } : {}) },
    });
    await records.create(r);
    return reply.code(201).send({ data: dataJson(deps, r) });
  });

  app.get(BASE, { onRequest }, async () => ({
    data: (await deps.store.listIntegrations('opsgenie')).map((r) => dataJson(deps, r)),
  }));

  app.get(`${BASE}/:id`, { onRequest }, async (req) => ({
    data: dataJson(deps, await records.get(param(req, 'id'))),
  }));

  app.patch(`${BASE}/:id`, { onRequest }, async (req) => {
    const current = await records.get(param(req, 'id'));
    const body = parseBody(updateSchema, req.body).data;
    if (body.id !== current.id)
      throw new HttpError(
        400,
        `Bad Request: data.id "${body.id}" does not match the path's id "${current.id}"`,
      );
    const a = body.attributes;
    const region = a.region ?? (current.attributes.region as string);
    // Leaving the custom region drops the custom URL unless one is given.
    const customUrl =
      a.custom_url !== undefined
        ? a.custom_url
        : region === 'custom'
          ? (current.attributes.custom_url as string | undefined)
          : undefined;
    checkRegion(region, customUrl);
    const next: IntegrationRecord = {
      ...current,
      name: a.name ?? current.name,
      secret: a.opsgenie_api_key ?? current.secret,
      attributes: { region, ...(customUrl ? { custom_url: customUrl } : {}) },
      modified_at: Date.now(),
    };
    await records.update(next);
    return { data: dataJson(deps, next) };
  });

  app.delete(`${BASE}/:id`, { onRequest }, async (req, reply) => {
    const current = await records.get(param(req, 'id'));
    await records.remove(current);
    return reply.code(204).send();
  });
}
