// Readiness (/healthz) and Prometheus metrics (/metrics); neither needs a key unless metrics_require_key.
import type { FastifyInstance } from 'fastify';
import { requireApiKey } from './auth.ts';
import type { ServerDeps } from './server.ts';

/** Registers /healthz and /metrics. */
export function registerHealth(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/healthz', async (_req, reply) => {
    if (!deps.ready()) return reply.code(503).send({ status: 'starting' });
    try {
      await deps.store.ping();
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', detail: (err as Error).message });
    }
    const failure = deps.writer.lastFailure();
    if (failure) {
      // Intake cannot persist logs right now (disk full, I/O error): not ready, and say why.
      return reply.code(503).send({ status: 'unavailable', store: deps.store.kind, detail: failure.detail });
    }
    return { status: 'ok', store: deps.store.kind, queue: deps.writer.depth };
  });
  app.get('/metrics', async (req, reply) => {
    if (deps.settings.metrics_require_key) requireApiKey(deps.keys, req);
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
