// Datadog's PagerDuty integration API (v1), services: /api/v1/integration/pagerduty/configuration/services
// [/{service_name}] — create 201 {service_name}, get 200 {service_name}, update (service_key) 200, delete
// 204, as the official client's PagerDutyIntegrationApi calls it. The service key is a secret: no response
// holds it and nothing logs it. `@pagerduty-NAME` delivers with it (notify/channels/pagerduty.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IntegrationRecord } from '../store/integrations.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import {
  handleName,
  type IntegrationApiDeps,
  integrationRecords,
  newRecord,
  notes,
  param,
  parseBody,
  secretString,
} from './integration-shared.ts';
import type { ServerDeps } from './server.ts';

const BASE = '/api/v1/integration/pagerduty/configuration/services';

const createSchema = z
  .object({ service_name: handleName, service_key: secretString('service_key') })
  .strict();
const updateSchema = z.object({ service_key: secretString('service_key') }).strict();

/** A service in Datadog's response shape (`PagerDutyServiceName`), with Flowwatch's notes. */
function serviceJson(deps: IntegrationApiDeps, r: IntegrationRecord) {
  return { service_name: r.name, ...notes(deps, r) };
}

/** Registers the PagerDuty services routes (API and application keys required). */
export function registerPagerDutyIntegration(
  app: FastifyInstance,
  server: ServerDeps,
  deps: IntegrationApiDeps,
) {
  const onRequest = appKeyHook(server.keys);
  const records = integrationRecords(deps, 'pagerduty', () => 'PagerDuty service');
  const find = async (name: string) => {
    const r = await deps.store.findIntegration('pagerduty', '', name);
    if (!r) throw new HttpError(404, `Not Found: no PagerDuty service named "${name}"`);
    return r;
  };

  app.post(BASE, { onRequest }, async (req, reply) => {
    const body = parseBody(createSchema, req.body);
    const r = newRecord('pagerduty', { name: body.service_name, secret: body.service_key, attributes: {} });
    await records.create(r);
    return reply.code(201).send(serviceJson(deps, r));
  });

  app.get(`${BASE}/:service_name`, { onRequest }, async (req) =>
    serviceJson(deps, await find(param(req, 'service_name'))),
  );

  app.put(`${BASE}/:service_name`, { onRequest }, async (req, reply) => {
    const current = await find(param(req, 'service_name'));
    const body = parseBody(updateSchema, req.body);
    const next = { ...current, secret: body.service_key, modified_at: Date.now() };
    await records.update(next);
    return reply.code(200).send();
  });

  app.delete(`${BASE}/:service_name`, { onRequest }, async (req, reply) => {
    const current = await find(param(req, 'service_name'));
    await records.remove(current);
    return reply.code(204).send();
  });
}
