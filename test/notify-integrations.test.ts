// Datadog's integration APIs for recipients (PagerDuty services, Slack channels, Opsgenie services, Teams
// Workflows webhook handles) through the official client against a running server; deliveries to what they
// define reach contract-checking fakes; a name the configuration file also defines stays the file's and the
// API says so; no response and no log line holds a key or a webhook URL. End to end: a PagerDuty service
// created through the API is paged by a monitor, and its recovery resolves the incident.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { client, v1, v2 } from '@datadog/datadog-api-client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.ts';
import { type Running, startServer } from '../src/main.ts';
import {
  type Fake,
  startOpsgenieFake,
  startPagerDutyFake,
  startSlackFake,
  startTeamsFake,
} from './helpers/chat-fakes.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, tempDir } from './helpers/server.ts';

const FILE_KEY = 'file0routing0key0000000000000001';
const API_PD_KEY = 'apiXroutingXkeyX0000000000000002';
const API_PD_KEY2 = 'apiXroutingXkeyX0000000000000003';
const GENIE_KEY = 'genie-key-secret-0000-000000000001';
const ACCOUNT_PATH = '/services/TACME/BACME/acmeAccountSecret';
const CHANNEL_PATH = '/services/TACME/BOWN/ownChannelSecret';
const TEAMS_PATH = '/workflows/abc/triggers/manual/paths/invoke?sig=teamsSigSecret';
const SECRETS =
  /file-key-for-late|0000000000000002|0000000000000003|file0routing|genie-key-secret|acmeAccountSecret|ownChannelSecret|teamsSigSecret/;

let srv: Running;
let slack: Fake;
let pd: Fake;
let og: Fake;
let teams: Fake;
const logLines: string[] = [];
let pdApi: v1.PagerDutyIntegrationApi;
let slackApi: v1.SlackIntegrationApi;
let ogApi: v2.OpsgenieIntegrationApi;
let teamsApi: v2.MicrosoftTeamsIntegrationApi;
let configFile: string;
/** The configuration file's text, with extra PagerDuty services. */
const fileText = (pdUrl: string, extraServices: string[] = []) =>
  [
    'settings:',
    '  notify_retry_base_ms: 10',
    'notifications:',
    '  slack:',
    '    accounts:',
    '      acme:',
    `        url: \${env:SLACK_ACME_URL}`,
    '  pagerduty:',
    `    url: ${pdUrl}`,
    '    services:',
    `      okta: \${env:PD_FILE_KEY}`,
    ...extraServices.map((s) => `      ${s}`),
    '',
  ].join('\n');

beforeAll(async () => {
  [slack, pd, og, teams] = await Promise.all([
    startSlackFake(),
    startPagerDutyFake(),
    startOpsgenieFake(GENIE_KEY),
    startTeamsFake(),
  ]);
  const dir = tempDir();
  configFile = path.join(dir, 'flowwatch.yaml');
  writeFileSync(configFile, fileText(pd.url));
  const env = {
    FLOWWATCH_API_KEY: API_KEY,
    FLOWWATCH_APP_KEY: APP_KEY,
    SLACK_ACME_URL: `${slack.url}${ACCOUNT_PATH}`,
    PD_FILE_KEY: FILE_KEY,
  };
  const settings = loadSettings({ configFile, flags: { data_dir: dir, port: 0 }, env: {} });
  const logger = pino({ level: 'debug' }, { write: (s: string) => logLines.push(s) });
  srv = await startServer(settings, { env, logger, configFile });
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  config.setServerVariables({});
  pdApi = new v1.PagerDutyIntegrationApi(config);
  slackApi = new v1.SlackIntegrationApi(config);
  ogApi = new v2.OpsgenieIntegrationApi(config);
  teamsApi = new v2.MicrosoftTeamsIntegrationApi(config);
});
afterAll(async () => {
  await srv?.close();
  await Promise.all([slack?.close(), pd?.close(), og?.close(), teams?.close()]);
});

async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = appHeaders) {
  const res = await fetch(`${srv.url}${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text ? JSON.parse(text) : null) as any };
}

/** Sends a synthetic notification to a handle at once (the notify test endpoint). */
const testSend = (handle: string, state = 'Alert') =>
  call('POST', '/api/flowwatch/v1/notifications/test', { handle, state });

/** The status of the ApiException a client call throws. */
async function failure(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code: number }).code, body: (e as { body: unknown }).body };
  }
  throw new Error('the call succeeded');
}

describe('PagerDuty integration API (v1 PagerDutyIntegrationApi)', () => {
  it('create, get, update, delete; the service key is never returned; @pagerduty-NAME delivers with it', async () => {
    const created = await pdApi.createPagerDutyIntegrationService({
      body: { serviceName: 'payments', serviceKey: API_PD_KEY },
    });
    expect(created.serviceName).toBe('payments');
    expect(created.additionalProperties).toBeUndefined();
    const got = await pdApi.getPagerDutyIntegrationService({ serviceName: 'PAYMENTS' });
    expect(got.serviceName).toBe('payments');

    let sent = await testSend('@pagerduty-payments');
    expect(sent.json.data.result).toMatchObject({ ok: true, status: 202 });
    expect(pd.received.at(-1)?.body.routing_key).toBe(API_PD_KEY);

    await pdApi.updatePagerDutyIntegrationService({
      serviceName: 'payments',
      body: { serviceKey: API_PD_KEY2 },
    });
    sent = await testSend('@pagerduty-payments');
    expect(sent.json.data.result.ok).toBe(true);
    expect(pd.received.at(-1)?.body.routing_key).toBe(API_PD_KEY2);

    await pdApi.deletePagerDutyIntegrationService({ serviceName: 'payments' });
    expect((await failure(pdApi.getPagerDutyIntegrationService({ serviceName: 'payments' }))).code).toBe(404);
    sent = await testSend('@pagerduty-payments');
    expect(sent.json.data.result).toMatchObject({ ok: false, reason: 'unknown_handle' });
    expect(pd.rejected).toEqual([]);
  });

  it('answers 400 for a bad body, 404 for an unknown service, 409 for a name taken; needs both keys', async () => {
    const bad = await call('POST', '/api/v1/integration/pagerduty/configuration/services', {
      service_name: 'has space',
      service_key: 'k-secret-000000',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.join(' ')).toMatch(/service_name/);
    expect(bad.text).not.toContain('k-secret-000000');
    const missingKey = await failure(
      pdApi.createPagerDutyIntegrationService({ body: { serviceName: 'x', serviceKey: '' } }),
    );
    expect(missingKey.code).toBe(400);
    expect((await failure(pdApi.deletePagerDutyIntegrationService({ serviceName: 'nope' }))).code).toBe(404);
    const upd = await call('PUT', '/api/v1/integration/pagerduty/configuration/services/nope', {
      service_key: 'abc',
    });
    expect(upd.status).toBe(404);
    await pdApi.createPagerDutyIntegrationService({ body: { serviceName: 'dup', serviceKey: 'k1' } });
    const dup = await failure(
      pdApi.createPagerDutyIntegrationService({ body: { serviceName: 'DUP', serviceKey: 'k2' } }),
    );
    expect(dup.code).toBe(409);
    const noApp = await call('GET', '/api/v1/integration/pagerduty/configuration/services/dup', undefined, {
      'dd-api-key': API_KEY,
    });
    expect(noApp.status).toBe(401);
  });

  it('a name the configuration file defines stays the file’s: the API says so and a warning is logged', async () => {
    const created = await pdApi.createPagerDutyIntegrationService({
      body: { serviceName: 'okta', serviceKey: 'shadowed-key-0001' },
    });
    expect(created.additionalProperties?.conflict).toMatch(/configuration file also defines @pagerduty-okta/);
    const sent = await testSend('@pagerduty-okta');
    expect(sent.json.data.result.ok).toBe(true);
    expect(pd.received.at(-1)?.body.routing_key).toBe(FILE_KEY);
    expect(logLines.some((l) => /"name":"okta".*configuration file also defines/.test(l))).toBe(true);
    await pdApi.deletePagerDutyIntegrationService({ serviceName: 'okta' });
  });

  it('a reload that adds a name the API defines takes it over at once, and says so', async () => {
    await pdApi.createPagerDutyIntegrationService({ body: { serviceName: 'late', serviceKey: API_PD_KEY } });
    expect((await testSend('@pagerduty-late')).json.data.result.ok).toBe(true);
    expect(pd.received.at(-1)?.body.routing_key).toBe(API_PD_KEY);
    writeFileSync(configFile, fileText(pd.url, ['late: file-key-for-late-0001']));
    expect(srv.reloadConfig()).toEqual({ ok: true });
    expect(
      logLines.some((l) => /"name":"late".*configuration file also defines @pagerduty-late/.test(l)),
    ).toBe(true);
    const got = await pdApi.getPagerDutyIntegrationService({ serviceName: 'late' });
    expect(got.additionalProperties?.conflict).toMatch(/@pagerduty-late/);
    expect((await testSend('@pagerduty-late')).json.data.result.ok).toBe(true);
    expect(pd.received.at(-1)?.body.routing_key).toBe('file-key-for-late-0001');
    writeFileSync(configFile, fileText(pd.url));
    expect(srv.reloadConfig()).toEqual({ ok: true });
    expect(
      (await pdApi.getPagerDutyIntegrationService({ serviceName: 'late' })).additionalProperties,
    ).toBeUndefined();
    await pdApi.deletePagerDutyIntegrationService({ serviceName: 'late' });
  });
});

describe('Slack integration API (v1 SlackIntegrationApi)', () => {
  it('channels of an account: @slack-ACCOUNT-CHANNEL and @slack-CHANNEL post through the account webhook', async () => {
    const created = await slackApi.createSlackIntegrationChannel({
      accountName: 'acme',
      body: {
        name: '#okta-alerts',
        display: { message: true, notified: false, snapshot: false, tags: true },
      },
    });
    expect(created).toMatchObject({
      name: '#okta-alerts',
      display: { message: true, notified: false, snapshot: false, tags: true, muteButtons: false },
    });
    const list = await slackApi.getSlackIntegrationChannels({ accountName: 'ACME' });
    expect(list.map((c) => c.name)).toEqual(['#okta-alerts']);
    // The client sends the name as given; with or without '#'.
    const got = await slackApi.getSlackIntegrationChannel({
      accountName: 'acme',
      channelName: 'okta-alerts',
    });
    expect(got.display?.notified).toBe(false);

    for (const handle of ['@slack-acme-okta-alerts', '@slack-okta-alerts']) {
      const before = slack.received.length;
      const sent = await testSend(handle);
      expect(sent.json.data.result).toMatchObject({ ok: true, status: 200 });
      const got = slack.received[before]!;
      expect(got.path).toBe(ACCOUNT_PATH);
      expect(got.body.channel).toBe('#okta-alerts');
      expect(got.body.blocks[0].type).toBe('header');
    }

    const renamed = await slackApi.updateSlackIntegrationChannel({
      accountName: 'acme',
      channelName: '#okta-alerts',
      body: { name: '#okta-oncall', display: { tags: false } },
    });
    expect(renamed).toMatchObject({ name: '#okta-oncall', display: { tags: false, message: true } });
    expect((await testSend('@slack-okta-alerts')).json.data.result.reason).toBe('unknown_handle');
    const before = slack.received.length;
    expect((await testSend('@slack-acme-okta-oncall')).json.data.result.ok).toBe(true);
    // display.tags is now false: the card leaves the monitor's tags out (they were there before).
    expect(JSON.stringify(slack.received[0]?.body)).toContain('source:flowwatch-test');
    expect(JSON.stringify(slack.received[before]?.body)).not.toContain('source:flowwatch-test');
    await slackApi.removeSlackIntegrationChannel({ accountName: 'acme', channelName: 'okta-oncall' });
    expect(await slackApi.getSlackIntegrationChannels({ accountName: 'acme' })).toEqual([]);
    expect(slack.rejected).toEqual([]);
  });

  it('a channel may bring its own webhook (never returned); unknown accounts and channels are 404', async () => {
    const res = await call('POST', '/api/v1/integration/slack/configuration/accounts/beta/channels', {
      name: 'own',
      url: `${slack.url}${CHANNEL_PATH}`,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      name: '#own',
      display: { message: true, notified: true, snapshot: true, tags: true, mute_buttons: false },
    });
    const before = slack.received.length;
    expect((await testSend('@slack-beta-own')).json.data.result.ok).toBe(true);
    expect(slack.received[before]?.path).toBe(CHANNEL_PATH);
    expect(slack.received[before]?.body.channel).toBeUndefined();

    const noAccount = await failure(
      slackApi.createSlackIntegrationChannel({ accountName: 'nowhere', body: { name: '#x' } }),
    );
    expect(noAccount.code).toBe(404);
    expect(JSON.stringify(noAccount.body)).toMatch(/notifications\.slack\.accounts\.nowhere\.url/);
    expect(
      (await failure(slackApi.getSlackIntegrationChannel({ accountName: 'acme', channelName: 'nope' }))).code,
    ).toBe(404);
    const bad = await call('POST', '/api/v1/integration/slack/configuration/accounts/acme/channels', {
      name: 'bad name',
    });
    expect(bad.status).toBe(400);
    await slackApi.createSlackIntegrationChannel({ accountName: 'acme', body: { name: '#dup' } });
    expect(
      (await failure(slackApi.createSlackIntegrationChannel({ accountName: 'acme', body: { name: 'DUP' } })))
        .code,
    ).toBe(409);
  });
});

describe('Opsgenie integration API (v2 OpsgenieIntegrationApi)', () => {
  it('create, list, get, update, delete in JSON:API; the key is never returned; @opsgenie-NAME alerts', async () => {
    const created = await ogApi.createOpsgenieService({
      body: {
        data: {
          type: 'opsgenie-service',
          attributes: { name: 'iam-oncall', opsgenieApiKey: GENIE_KEY, region: 'custom', customUrl: og.url },
        },
      },
    });
    const id = created.data.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.data.attributes).toMatchObject({
      name: 'iam-oncall',
      region: 'custom',
      customUrl: og.url,
    });
    expect((await ogApi.listOpsgenieServices()).data.map((s) => s.attributes.name)).toEqual(['iam-oncall']);
    expect((await ogApi.getOpsgenieService({ integrationServiceId: id })).data.attributes.name).toBe(
      'iam-oncall',
    );

    const sent = await testSend('@opsgenie-iam-oncall');
    expect(sent.json.data.result).toMatchObject({ ok: true, status: 202 });
    expect(og.received.at(-1)?.path).toBe('/v2/alerts');
    expect(og.rejected).toEqual([]);

    const upd = await ogApi.updateOpsgenieService({
      integrationServiceId: id,
      body: { data: { id, type: 'opsgenie-service', attributes: { name: 'iam' } } },
    });
    expect(upd.data.attributes).toMatchObject({ name: 'iam', region: 'custom', customUrl: og.url });
    expect((await testSend('@opsgenie-iam')).json.data.result.ok).toBe(true);

    const wrongId = await call('PATCH', `/api/v2/integration/opsgenie/services/${id}`, {
      data: { id: 'other', type: 'opsgenie-service', attributes: { name: 'x' } },
    });
    expect(wrongId.status).toBe(400);
    const noUrl = await call('POST', '/api/v2/integration/opsgenie/services', {
      data: { type: 'opsgenie-service', attributes: { name: 'c', opsgenie_api_key: 'k', region: 'custom' } },
    });
    expect(noUrl.status).toBe(400);
    expect(noUrl.text).toMatch(/custom_url is required with region custom/);
    const badRegion = await call('POST', '/api/v2/integration/opsgenie/services', {
      data: { type: 'opsgenie-service', attributes: { name: 'c', opsgenie_api_key: 'k', region: 'mars' } },
    });
    expect(badRegion.status).toBe(400);
    const dup = await failure(
      ogApi.createOpsgenieService({
        body: {
          data: { type: 'opsgenie-service', attributes: { name: 'IAM', opsgenieApiKey: 'k', region: 'us' } },
        },
      }),
    );
    expect(dup.code).toBe(409);

    await ogApi.deleteOpsgenieService({ integrationServiceId: id });
    expect((await failure(ogApi.getOpsgenieService({ integrationServiceId: id }))).code).toBe(404);
    expect((await failure(ogApi.deleteOpsgenieService({ integrationServiceId: id }))).code).toBe(404);
  });
});

describe('Microsoft Teams integration API (v2 MicrosoftTeamsIntegrationApi, Workflows webhook handles)', () => {
  it('create, list by name, get, update, delete; the URL is never returned; @teams-NAME posts a card', async () => {
    const created = await teamsApi.createWorkflowsWebhookHandle({
      body: {
        data: {
          type: 'workflows-webhook-handle',
          attributes: { name: 'iam-channel', url: `${teams.url}${TEAMS_PATH}` },
        },
      },
    });
    const id = created.data.id!;
    expect(created.data).toEqual({
      id,
      type: 'workflows-webhook-handle',
      attributes: { name: 'iam-channel' },
    });
    const listed = await teamsApi.listWorkflowsWebhookHandles({ name: 'iam-channel' });
    expect(listed.data.map((h) => h.id)).toEqual([id]);
    expect((await teamsApi.listWorkflowsWebhookHandles({ name: 'other' })).data).toEqual([]);
    expect((await teamsApi.getWorkflowsWebhookHandle({ handleId: id })).data.attributes?.name).toBe(
      'iam-channel',
    );

    const sent = await testSend('@teams-iam-channel');
    expect(sent.json.data.result.ok).toBe(true);
    expect(teams.received.at(-1)?.path).toBe(TEAMS_PATH);
    expect(teams.rejected).toEqual([]);

    const upd = await teamsApi.updateWorkflowsWebhookHandle({
      handleId: id,
      body: { data: { type: 'workflows-webhook-handle', attributes: { name: 'iam' } } },
    });
    expect(upd.data.attributes?.name).toBe('iam');
    expect((await testSend('@teams-iam')).json.data.result.ok).toBe(true);
    const bad = await call('POST', '/api/v2/integration/ms-teams/configuration/workflows-webhook-handles', {
      data: { type: 'workflows-webhook-handle', attributes: { name: 'x', url: 'not a url' } },
    });
    expect(bad.status).toBe(400);
    await teamsApi.deleteWorkflowsWebhookHandle({ handleId: id });
    expect((await failure(teamsApi.getWorkflowsWebhookHandle({ handleId: id }))).code).toBe(404);
  });
});

describe('PagerDuty service from the API, end to end', () => {
  it('a FLOW_FAIL pages the service created through the API; the recovery resolves the incident', async () => {
    await pdApi.createPagerDutyIntegrationService({
      body: { serviceName: 'okta-oncall', serviceKey: API_PD_KEY },
    });
    const query = (t: number) =>
      `logs("service:okta source:okta-workflows-els env:production status:(warning OR error)").index("*").rollup("count").by("@flow_name").last("5m") > ${t}`;
    const m = await call('POST', '/api/v1/monitor', {
      name: 'Okta flow failures (API service)',
      type: 'log alert',
      query: query(0),
      message: '{{@flow_name.name}} failed @pagerduty-okta-oncall',
      priority: 2,
      options: { thresholds: { critical: 0 }, new_group_delay: 0 },
    });
    expect(m.status).toBe(200);
    const before = pd.received.length;
    const run = `integration-e2e-${Date.now()}`;
    const res = await fetch(`${srv.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
      body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run })),
    });
    expect(res.status).toBe(202);
    await pd.waitFor(before + 1);
    const trigger = pd.received[before]!;
    expect(trigger.body).toMatchObject({
      routing_key: API_PD_KEY,
      event_action: 'trigger',
      payload: { severity: 'error', component: 'okta' },
    });
    expect(trigger.body.payload.custom_details.monitor_id).toBe(m.json.id);

    const up = await call('PUT', `/api/v1/monitor/${m.json.id}`, {
      query: query(5),
      options: { thresholds: { critical: 5 } },
    });
    expect(up.status).toBe(200);
    await pd.waitFor(before + 2);
    expect(pd.received[before + 1]!.body).toEqual({
      routing_key: API_PD_KEY,
      event_action: 'resolve',
      dedup_key: trigger.body.dedup_key,
    });
    expect(pd.rejected).toEqual([]);
  });
});

describe('secrets', () => {
  it('no log line holds a key or a webhook URL', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => SECRETS.test(l))).toEqual([]);
  });
});
