// Flowwatch's view of the delivery outbox: GET /api/flowwatch/v1/notifications?state=pending|delivered|dead
// lists jobs newest first; POST /api/flowwatch/v1/notifications/{id}/retry sends a dead (or waiting) job
// again now, with a fresh deadline. A delivered job is never sent again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Notifier } from '../notify/notifier.ts';
import type { JobState } from '../store/notifications.ts';
import { requireAppKey } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const STATES: JobState[] = ['pending', 'delivered', 'dead'];

function intParam(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Registers the notification routes (API and application keys required). */
export function registerNotifications(app: FastifyInstance, deps: ServerDeps, notifier: Notifier): void {
  const store = deps.store.notifications;
  const onRequest = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      requireAppKey(deps.keys, req);
      done();
    } catch (err) {
      done(err as Error);
    }
  };

  app.get('/api/flowwatch/v1/notifications', { onRequest }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const state = q.state as JobState | undefined;
    if (state !== undefined && !STATES.includes(state))
      throw new HttpError(400, `state must be one of ${STATES.join(', ')}, got "${state}"`);
    const limit = intParam(q.limit, 'limit', 1, 1000) ?? 100;
    const before = intParam(q.before, 'before', 1, Number.MAX_SAFE_INTEGER);
    const jobs = await store.listJobs({ state, limit, beforeId: before });
    return { data: jobs, counts: await store.countJobs() };
  });

  app.post('/api/flowwatch/v1/notifications/:id/retry', { onRequest }, async (req) => {
    const id = intParam((req.params as { id: string }).id, 'id', 1, Number.MAX_SAFE_INTEGER) as number;
    const current = await store.getJob(id);
    if (!current) throw new HttpError(404, `Notification not found: no delivery job with id ${id}`);
    if (current.state === 'delivered')
      throw new HttpError(
        409,
        `Notification ${id} was delivered; a delivered notification is never sent again`,
      );
    return { data: await notifier.retry(id) };
  });
}
