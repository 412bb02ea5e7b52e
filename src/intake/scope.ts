// The intake scope: raw-buffer bodies (decoded by intake itself), keys checked and backpressure applied
// in onRequest, before a byte of the body is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { presentedApiKey, requireApiKey } from '../api/auth.ts';
import { HttpError } from '../api/errors.ts';
import type { Keyring } from '../auth/keys.ts';
import { IntakeBudget } from './budget.ts';
import { registerDatadogIntake } from './datadog.ts';
import type { IngestDeps } from './ingest.ts';
import { LIMITS } from './limits.ts';
import { hecToken, registerSplunkHec } from './splunk-hec.ts';

/** Dependencies of the intake scope. */
export interface IntakeScopeDeps extends IngestDeps {
  keys: Keyring;
  maxInflightBytes: number;
}

/** Route config telling the hook which credentials a route takes. */
type AuthKind = 'datadog' | 'splunk' | 'none';

/** Registers every receiver in its own encapsulated scope. */
export async function intakeScope(app: FastifyInstance, deps: IntakeScopeDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: LIMITS.maxPayloadBytes },
    (_req, body, done) => done(null, body),
  );

  const budget = new IntakeBudget(deps.maxInflightBytes);
  // Callback-style hooks: this runs on every intake request, and async hooks cost a promise each.
  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    try {
      admit(req);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  const admit = (req: FastifyRequest) => {
    const auth = ((req.routeOptions.config as { auth?: AuthKind }).auth ?? 'datadog') as AuthKind;
    if (auth === 'datadog') {
      const params = req.params as { key?: string } | undefined;
      requireApiKey(deps.keys, req, params?.key ?? presentedApiKey(req));
    } else if (auth === 'splunk') {
      requireApiKey(deps.keys, req, hecToken(req));
    }
    if (req.method !== 'POST') return;
    const declared = Number(req.headers['content-length']);
    const reserve =
      Number.isFinite(declared) && declared > 0
        ? Math.min(declared, LIMITS.maxPayloadBytes)
        : LIMITS.maxPayloadBytes;
    if (deps.writer.isFull())
      throw new HttpError(503, 'Service Unavailable: intake is at capacity, retry later', 1);
    budget.reserve(req, reserve);
  };
  app.addHook('onResponse', (req, _reply, done) => {
    budget.release(req);
    done();
  });

  registerDatadogIntake(app, { ...deps, budget });
  registerSplunkHec(app, { ...deps, budget });
}
