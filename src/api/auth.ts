// Datadog's key rules: intake needs DD-API-KEY (header or dd-api-key query); the management and search
// APIs also need DD-APPLICATION-KEY. Missing or empty → 401, unknown or revoked → 403.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Keyring } from '../auth/keys.ts';
import { HttpError } from './errors.ts';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function query(req: FastifyRequest, name: string): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** The API key presented on a request (header first, then the query parameter). */
export function presentedApiKey(req: FastifyRequest): string | undefined {
  return header(req, 'dd-api-key') ?? query(req, 'dd-api-key');
}

/** Throws 401/403 unless the request carries a valid API key. */
export function requireApiKey(keys: Keyring, req: FastifyRequest, presented = presentedApiKey(req)): void {
  const r = keys.check('api', presented);
  if (r === 'missing')
    throw new HttpError(
      401,
      'Unauthorized: missing API key (DD-API-KEY header or dd-api-key query parameter)',
    );
  if (r === 'invalid') throw new HttpError(403, 'Forbidden: invalid API key');
}

/** Throws 401/403 unless the request carries a valid API key and a valid application key. */
export function requireAppKey(keys: Keyring, req: FastifyRequest): void {
  const api = keys.check('api', presentedApiKey(req));
  const app = keys.check('app', header(req, 'dd-application-key') ?? query(req, 'dd-application-key'));
  if (api === 'missing' || app === 'missing') {
    throw new HttpError(
      401,
      'Unauthorized: this endpoint needs both DD-API-KEY and DD-APPLICATION-KEY headers',
    );
  }
  if (api === 'invalid') throw new HttpError(403, 'Forbidden: invalid API key');
  if (app === 'invalid') throw new HttpError(403, 'Forbidden: invalid application key');
}

/** An onRequest hook requiring both keys, checked before the body is read. */
export function appKeyHook(keys: Keyring) {
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    try {
      requireAppKey(keys, req);
      done();
    } catch (err) {
      done(err as Error);
    }
  };
}
