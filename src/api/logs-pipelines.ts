// Datadog's pipeline API: /api/v1/logs/config/pipelines[/{id}] and /api/v1/logs/config/pipeline-order.
// Bodies are validated by pipelines/model.ts; every problem is listed in `errors`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PipelineValidationError, parsePipelineInput } from '../pipelines/model.ts';
import { PipelineRuleError } from '../pipelines/service.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

function toHttp(err: unknown): never {
  if (err instanceof PipelineValidationError)
    throw new HttpError(400, err.problems.join('; '), undefined, err.problems);
  if (err instanceof PipelineRuleError) throw new HttpError(err.status, err.message);
  throw err;
}

/** Registers the pipeline routes (API and application keys required). */
export function registerLogsPipelines(app: FastifyInstance, deps: ServerDeps): void {
  const svc = deps.pipelines;
  const onRequest = appKeyHook(deps.keys);
  const base = '/api/v1/logs/config/pipelines';
  const id = (req: FastifyRequest) => (req.params as { id: string }).id;
  const input = (body: unknown) => {
    try {
      return parsePipelineInput(body);
    } catch (err) {
      toHttp(err);
    }
  };

  app.get(base, { onRequest }, async () => svc.list());
  app.post(base, { onRequest }, async (req) => svc.create(input(req.body)).catch(toHttp));
  app.get(`${base}/:id`, { onRequest }, async (req) => {
    try {
      return svc.get(id(req));
    } catch (err) {
      toHttp(err);
    }
  });
  app.put(`${base}/:id`, { onRequest }, async (req) => svc.update(id(req), input(req.body)).catch(toHttp));
  app.delete(`${base}/:id`, { onRequest }, async (req, reply) => {
    await svc.delete(id(req)).catch(toHttp);
    return reply.code(200).send();
  });
  app.get('/api/v1/logs/config/pipeline-order', { onRequest }, async () => ({ pipeline_ids: svc.order() }));
  app.put('/api/v1/logs/config/pipeline-order', { onRequest }, async (req) => {
    const b = req.body as { pipeline_ids?: unknown } | null;
    const ids = b?.pipeline_ids;
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string'))
      throw new HttpError(400, 'pipeline_ids: expected the list of every pipeline id, in the new order');
    return { pipeline_ids: await svc.setOrder(ids).catch(toHttp) };
  });
}
