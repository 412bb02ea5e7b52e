// Flowwatch's view of the delivery outbox: GET /api/flowwatch/v1/notifications?state=pending|delivered|dead
// &monitor_id=N lists jobs newest first; POST /api/flowwatch/v1/notifications/{id}/retry sends a dead (or
// waiting) job again now, with a fresh deadline. A delivered job is never sent again.
// POST /api/flowwatch/v1/notifications/test {handle, state?} sends a synthetic event (notify/test-event.ts)
// to one recipient at once, outside the outbox, and answers with the channel's result.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SendResult } from '../notify/channel.ts';
import type { Notifier } from '../notify/notifier.ts';
import { TEST_STATES, type TestState, testEvent } from '../notify/test-event.ts';
import type { JobState } from '../store/notifications.ts';
import { requireAppKey } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const STATES: JobState[] = ['pending', 'delivered', 'dead'];

/** How long a test send may take before the answer says so. */
const TEST_TIMEOUT_MS = 30_000;

/** The body of POST …/test: a handle as written in a message, and the state to send. */
function testRequest(body: unknown): { handle: string; state: TestState } {
  const b = (body ?? {}) as { handle?: unknown; state?: unknown };
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object: {"handle": "@slack-ops"}');
  if (typeof b.handle !== 'string' || !/^@?[^\s@][^\s]{0,254}$/.test(b.handle.trim()))
    throw new HttpError(
      400,
      'handle must be a recipient as written in a monitor message: @webhook-NAME, @slack-NAME, @pagerduty-NAME, @user@example.com…',
    );
  const state = b.state ?? 'Alert';
  if (!TEST_STATES.includes(state as TestState))
    throw new HttpError(400, `state must be one of ${TEST_STATES.join(', ')}`);
  const trimmed = b.handle.trim();
  return { handle: trimmed.startsWith('@') ? trimmed : `@${trimmed}`, state: state as TestState };
}

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
    const monitorId = intParam(q.monitor_id, 'monitor_id', 0, Number.MAX_SAFE_INTEGER);
    const jobs = await store.listJobs({ state, limit, beforeId: before, monitorId });
    return { data: jobs, counts: await store.countJobs() };
  });

  app.post('/api/flowwatch/v1/notifications/:id/retry', { onRequest }, async (req) => {
    const id = intParam((req.params as { id: string }).id, 'id', 1, Number.MAX_SAFE_INTEGER) as number;
    const force = (req.query as Record<string, unknown>).force;
    if (force !== undefined && force !== 'true' && force !== 'false')
      throw new HttpError(400, `force must be true or false, got "${String(force)}"`);
    const current = await store.getJob(id);
    if (!current) throw new HttpError(404, `Notification not found: no delivery job with id ${id}`);
    if (current.state === 'delivered')
      throw new HttpError(
        409,
        `Notification ${id} was delivered; a delivered notification is never sent again`,
      );
    if (current.bundle_id !== null)
      throw new HttpError(
        409,
        `Notification ${id} is held in a bundle: it is sent with summary ${current.bundle_id}; retry that one`,
      );
    // A pending job is still sent before the later ones of its queue: a retry only makes it due sooner.
    const newer = force === 'true' || current.state === 'pending' ? undefined : await store.newerJob(id);
    if (newer)
      throw new HttpError(
        409,
        `Notification ${id} is out of date: ${current.handle} ${newer.state === 'pending' ? 'is getting' : 'got'} a later state of the same group in notification ${newer.id}, and sending ${id} now could re-open what that one resolved; add force=true to send it anyway`,
      );
    return { data: await notifier.retry(id) };
  });

  app.post('/api/flowwatch/v1/notifications/test', { onRequest }, async (req) => {
    const { handle, state } = testRequest(req.body);
    const base = deps.settings.public_url ?? `${req.protocol}://${req.headers.host ?? 'localhost:8080'}`;
    const event = testEvent(handle, state, Date.now(), base);
    const { channel, name } = notifier.channels.resolve(handle);
    const result: SendResult = channel
      ? await channel.send({
          handle: handle.slice(1),
          event,
          idempotencyKey: `test-${event.id}:${handle}`,
          signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
        })
      : {
          ok: false,
          retryable: false,
          reason: 'unknown_channel',
          detail: `no channel delivers "${handle}" handles`,
        };
    req.log.info(
      { handle, channel: name, ok: result.ok, reason: result.ok ? undefined : result.reason },
      'test notification sent',
    );
    return { data: { handle, channel: name, state, title: event.body.title, result } };
  });
}
