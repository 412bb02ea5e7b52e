// Datadog's HTTP log intake: POST /api/v2/logs (202 {}), the legacy /v1/input (200 {}), GET /api/v1/validate.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodyKind, decodeBody, decodeUtf8, parseItems } from './decode.ts';
import { type IngestDeps, ingest } from './ingest.ts';
import type { RequestDefaults } from './normalize.ts';

function defaultsFrom(req: FastifyRequest): RequestDefaults {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  return {
    ddsource: s('ddsource'),
    ddtags: s('ddtags'),
    service: s('service'),
    host: s('host') ?? s('hostname'),
  };
}

/** Registers the Datadog intake routes (inside the intake scope, whose body parser yields raw buffers). */
export function registerDatadogIntake(app: FastifyInstance, deps: IngestDeps): void {
  // Keys are checked in the intake scope's onRequest hook (intake/scope.ts), before the body is read.
  const handle = async (req: FastifyRequest) => {
    const kind = bodyKind(req.headers['content-type']);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decoded = await decodeBody(body, req.headers['content-encoding']);
    if (decoded !== body) deps.budget?.reserve(req, decoded.length);
    const items = parseItems(decodeUtf8(decoded), kind);
    return ingest(deps, items, defaultsFrom(req), decoded.length);
  };

  app.post('/api/v2/logs', async (req, reply) => {
    await handle(req);
    return reply.code(202).send({});
  });
  app.post('/v1/input', async (req, reply) => {
    await handle(req);
    return reply.code(200).send({});
  });
  app.post('/v1/input/:key', async (req, reply) => {
    await handle(req);
    return reply.code(200).send({});
  });
  app.get('/api/v1/validate', async () => ({ valid: true }));
}
