// Datadog's Microsoft Teams integration API (v2), Workflows webhook handles:
// /api/v2/integration/ms-teams/configuration/workflows-webhook-handles[/{handle_id}] (JSON:API, type
// `workflows-webhook-handle`) — create 201, list 200 (?name=), get 200, update (PATCH) 200, delete 204, as the
// official client's MicrosoftTeamsIntegrationApi calls them. As in Datadog, responses hold the name only: the
// URL (its `sig=` query is the credential) is never returned nor logged. `@teams-NAME` posts to it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IntegrationRecord } from '../store/integrations.ts';
import { appKeyHook } from './auth.ts';
import {
  handleName,
  httpUrl,
  type IntegrationApiDeps,
  integrationRecords,
  newRecord,
  notes,
  param,
  parseBody,
} from './integration-shared.ts';
import type { ServerDeps } from './server.ts';

const BASE = '/api/v2/integration/ms-teams/configuration/workflows-webhook-handles';
const TYPE = 'workflows-webhook-handle';

const attributes = z.object({ name: handleName, url: httpUrl('url') }).strict();
const createSchema = z.object({ data: z.object({ type: z.literal(TYPE), attributes }).strict() }).strict();
const updateSchema = z
  .object({ data: z.object({ type: z.literal(TYPE), attributes: attributes.partial() }).strict() })
  .strict();

/** A handle as Datadog's `MicrosoftTeamsWorkflowsWebhookHandleResponseData`, with Flowwatch's notes. */
function dataJson(deps: IntegrationApiDeps, r: IntegrationRecord) {
  return { id: r.id, type: TYPE, attributes: { name: r.name, ...notes(deps, r) } };
}

/** Registers the Teams Workflows webhook handle routes (API and application keys required). */
export function registerTeamsIntegration(app: FastifyInstance, server: ServerDeps, deps: IntegrationApiDeps) {
  const onRequest = appKeyHook(server.keys);
  const records = integrationRecords(deps, 'teams', () => 'Workflows webhook handle');

  app.post(BASE, { onRequest }, async (req, reply) => {
    const a = parseBody(createSchema, req.body).data.attributes;
    const r = newRecord('teams', { name: a.name, secret: a.url, attributes: {} });
    await records.create(r);
    return reply.code(201).send({ data: dataJson(deps, r) });
  });

  app.get(BASE, { onRequest }, async (req) => {
    const name = (req.query as { name?: string }).name;
    const all = await deps.store.listIntegrations('teams');
    const picked = name === undefined ? all : all.filter((r) => r.name.toLowerCase() === name.toLowerCase());
    return { data: picked.map((r) => dataJson(deps, r)) };
  });

  app.get(`${BASE}/:handle_id`, { onRequest }, async (req) => ({
    data: dataJson(deps, await records.get(param(req, 'handle_id'))),
  }));

  app.patch(`${BASE}/:handle_id`, { onRequest }, async (req) => {
    const current = await records.get(param(req, 'handle_id'));
    const a = parseBody(updateSchema, req.body).data.attributes;
    const next: IntegrationRecord = {
      ...current,
      name: a.name ?? current.name,
      secret: a.url ?? current.secret,
      modified_at: Date.now(),
    };
    await records.update(next);
    return { data: dataJson(deps, next) };
  });

  app.delete(`${BASE}/:handle_id`, { onRequest }, async (req, reply) => {
    const current = await records.get(param(req, 'handle_id'));
    await records.remove(current);
    return reply.code(204).send();
  });
}
