// Datadog's Slack integration API (v1), channels of an account:
// /api/v1/integration/slack/configuration/accounts/{account_name}/channels[/{channel_name}] — create 200,
// list 200, get 200, update (PATCH) 200, delete 204, as the official client's SlackIntegrationApi calls them.
// As in Datadog, the account's webhook is configured apart from the API: in the configuration file
// (`notifications.slack.accounts.NAME.url`). Flowwatch also takes a channel's own incoming webhook as `url`
// in the body (Slack's apps give one webhook per channel); it is a secret and never returned.
// `@slack-ACCOUNT-CHANNEL`, and `@slack-CHANNEL` when one account has it, deliver (notify/integrations.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { slackChannelName } from '../notify/integrations.ts';
import type { IntegrationRecord } from '../store/integrations.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import {
  httpUrl,
  type IntegrationApiDeps,
  integrationRecords,
  newRecord,
  notes,
  param,
  parseBody,
} from './integration-shared.ts';
import type { ServerDeps } from './server.ts';

const BASE = '/api/v1/integration/slack/configuration/accounts/:account_name/channels';

/** Datadog's display options; all shown by default but the mute buttons. */
const DISPLAY_DEFAULTS = { message: true, notified: true, snapshot: true, tags: true, mute_buttons: false };

const channelName = z
  .string({ error: 'name is required' })
  .trim()
  .regex(/^#?[A-Za-z0-9_.-]{1,80}$/, 'a Slack channel name such as "#ops" (letters, digits, "_", "-", ".")');
const display = z
  .object({
    message: z.boolean(),
    notified: z.boolean(),
    snapshot: z.boolean(),
    tags: z.boolean(),
    mute_buttons: z.boolean(),
  })
  .partial()
  .strict();
const createSchema = z
  .object({ name: channelName, display: display.optional(), url: httpUrl('url').optional() })
  .strict();
const updateSchema = createSchema.partial();

/** A channel in Datadog's response shape (`SlackIntegrationChannel`), with Flowwatch's notes. */
function channelJson(deps: IntegrationApiDeps, r: IntegrationRecord) {
  return {
    name: r.name,
    display: { ...DISPLAY_DEFAULTS, ...(r.attributes.display ?? {}) },
    ...notes(deps, r),
  };
}

/** Registers the Slack channels routes (API and application keys required). */
export function registerSlackIntegration(app: FastifyInstance, server: ServerDeps, deps: IntegrationApiDeps) {
  const onRequest = appKeyHook(server.keys);
  const records = integrationRecords(deps, 'slack', (scope) => `Slack channel in account "${scope}"`);
  /** The account as written in the file, or as stored channels name it; 404 when neither knows it. */
  const account = async (name: string) => {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
      throw new HttpError(
        400,
        `Bad Request: "${name}" is not an account name (letters, digits, "_", "-", ".")`,
      );
    const configured = deps.recipients.slackAccount(name);
    if (configured) return configured.name;
    const stored = (await deps.store.listIntegrations('slack')).find(
      (r) => r.scope.toLowerCase() === name.toLowerCase(),
    );
    if (stored) return stored.scope;
    throw new HttpError(
      404,
      `Not Found: no Slack account named "${name}" (set notifications.slack.accounts.${name}.url in the configuration file)`,
    );
  };
  const find = async (accountName: string, channel: string) => {
    const r = await deps.store.findIntegration('slack', accountName, slackChannelName(channel));
    if (!r)
      throw new HttpError(
        404,
        `Not Found: no Slack channel "${slackChannelName(channel)}" in account "${accountName}"`,
      );
    return r;
  };

  app.post(BASE, { onRequest }, async (req) => {
    const body = parseBody(createSchema, req.body);
    const given = param(req, 'account_name');
    // A channel with its own webhook needs no configured account; otherwise the account must exist.
    const scope = await account(given).catch((err: unknown) => {
      if (body.url && err instanceof HttpError && err.status === 404) return given;
      throw err;
    });
    const r = newRecord('slack', {
      scope,
      name: slackChannelName(body.name),
      secret: body.url ?? null,
      attributes: body.display ? { display: body.display } : {},
    });
    await records.create(r);
    return channelJson(deps, r);
  });

  app.get(BASE, { onRequest }, async (req) => {
    const scope = await account(param(req, 'account_name'));
    const all = await deps.store.listIntegrations('slack');
    return all.filter((r) => r.scope.toLowerCase() === scope.toLowerCase()).map((r) => channelJson(deps, r));
  });

  app.get(`${BASE}/:channel_name`, { onRequest }, async (req) => {
    const scope = await account(param(req, 'account_name'));
    return channelJson(deps, await find(scope, param(req, 'channel_name')));
  });

  app.patch(`${BASE}/:channel_name`, { onRequest }, async (req) => {
    const scope = await account(param(req, 'account_name'));
    const current = await find(scope, param(req, 'channel_name'));
    const body = parseBody(updateSchema, req.body);
    const next: IntegrationRecord = {
      ...current,
      name: body.name === undefined ? current.name : slackChannelName(body.name),
      secret: body.url === undefined ? current.secret : body.url,
      attributes: body.display
        ? { ...current.attributes, display: { ...(current.attributes.display ?? {}), ...body.display } }
        : current.attributes,
      modified_at: Date.now(),
    };
    await records.update(next);
    return channelJson(deps, next);
  });

  app.delete(`${BASE}/:channel_name`, { onRequest }, async (req, reply) => {
    const scope = await account(param(req, 'account_name'));
    const current = await find(scope, param(req, 'channel_name'));
    await records.remove(current);
    return reply.code(204).send();
  });
}
