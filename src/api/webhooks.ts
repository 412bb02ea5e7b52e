// Datadog's Webhooks integration API (v1): /api/v1/integration/webhooks/configuration/webhooks[/{name}]
// (create 201, get, update, delete), as the official client's WebhooksIntegrationApi calls it. URLs come
// back with any password masked; sending the masked URL back in an update keeps the stored one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkWebhook, maskUrl, webhookSchema } from '../notify/channels/webhook.ts';
import type { WebhookRecord } from '../store/notifications.ts';
import { requireAppKey } from './auth.ts';
import { HttpError } from './errors.ts';
import type { ServerDeps } from './server.ts';

const BASE = '/api/v1/integration/webhooks/configuration/webhooks';

/** A webhook in Datadog's response shape. */
export function webhookJson(w: WebhookRecord) {
  return {
    name: w.name,
    url: maskUrl(w.url),
    payload: w.payload,
    custom_headers: w.custom_headers,
    encode_as: w.encode_as,
  };
}

/** Validates a full definition (schema, payload template, headers); 400 listing every problem. */
function validate(body: unknown): Omit<WebhookRecord, 'created_at' | 'modified_at'> {
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `The value provided for parameter '${i.path.join('.') || 'body'}' is invalid: ${i.message}`,
    );
    throw new HttpError(400, problems.join('; '), undefined, problems);
  }
  const w = {
    name: parsed.data.name,
    url: parsed.data.url,
    payload: parsed.data.payload ?? null,
    custom_headers: parsed.data.custom_headers ?? null,
    encode_as: parsed.data.encode_as,
  };
  const problems = checkWebhook(w).map((p) => `Invalid webhook: ${p}`);
  if (problems.length > 0) throw new HttpError(400, problems.join('; '), undefined, problems);
  return w;
}

/** Registers the webhooks integration routes (API and application keys required). */
export function registerWebhooks(app: FastifyInstance, deps: ServerDeps): void {
  const store = deps.store.notifications;
  const onRequest = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      requireAppKey(deps.keys, req);
      done();
    } catch (err) {
      done(err as Error);
    }
  };
  const nameOf = (req: FastifyRequest) => (req.params as { name: string }).name;
  const find = async (name: string) => {
    const w = await store.getWebhook(name);
    if (!w) throw new HttpError(404, `Webhook not found: no webhook named "${name}"`);
    return w;
  };

  app.post(BASE, { onRequest }, async (req, reply) => {
    const now = Date.now();
    const w: WebhookRecord = { ...validate(req.body), created_at: now, modified_at: now };
    if (!(await store.insertWebhook(w)))
      throw new HttpError(400, `Invalid webhook: a webhook named "${w.name}" already exists`);
    return reply.code(201).send(webhookJson(w));
  });

  app.get(BASE, { onRequest }, async () => (await store.listWebhooks()).map(webhookJson));

  app.get(`${BASE}/:name`, { onRequest }, async (req) => webhookJson(await find(nameOf(req))));

  app.put(`${BASE}/:name`, { onRequest }, async (req) => {
    const current = await find(nameOf(req));
    const patch = req.body ?? {};
    if (typeof patch !== 'object' || Array.isArray(patch))
      throw new HttpError(400, 'the body must be a JSON object');
    const merged = { ...webhookJson(current), url: current.url, ...(patch as Record<string, unknown>) };
    // The masked URL we returned, sent back unchanged, means "keep the URL".
    if (merged.url === maskUrl(current.url)) merged.url = current.url;
    const w: WebhookRecord = { ...validate(merged), created_at: current.created_at, modified_at: Date.now() };
    const r = await store.replaceWebhook(current.name, w);
    if (r === 'missing') throw new HttpError(404, `Webhook not found: no webhook named "${current.name}"`);
    if (r === 'conflict')
      throw new HttpError(400, `Invalid webhook: a webhook named "${w.name}" already exists`);
    return webhookJson(w);
  });

  app.delete(`${BASE}/:name`, { onRequest }, async (req, reply) => {
    const name = nameOf(req);
    if (!(await store.deleteWebhook(name)))
      throw new HttpError(404, `Webhook not found: no webhook named "${name}"`);
    return reply.code(200).send();
  });
}
