// Monitor notification rules through the official client (v2 MonitorsApi): create with recipients and with
// conditional recipients, list (paging, sort, filters), get, PATCH, delete; validation errors in Datadog's
// shape ({"errors": [...]}, 400), 404s, and the rules surviving a restart of the store.
import { client, v2 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { recipientsFor } from '../src/notify/rules.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running & { dataDir: string };
let api: v2.MonitorsApi;

beforeAll(async () => {
  srv = await startTestServer();
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  config.setServerVariables({});
  api = new v2.MonitorsApi(config);
});
afterAll(async () => {
  await srv.close();
});

const BASE = '/api/v2/monitor/notification_rule';

async function raw(method: string, path: string, body?: unknown) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers:
      body === undefined
        ? { 'dd-api-key': appHeaders['dd-api-key'], 'dd-application-key': appHeaders['dd-application-key'] }
        : appHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The body of Datadog's own example (features/v2/monitors.feature), minus `recipients`. */
const conditional = {
  data: {
    type: 'monitor-notification-rule' as const,
    attributes: {
      name: 'A notification rule name',
      filter: { tags: ['team:product', 'host:abc'] },
      conditionalRecipients: {
        conditions: [{ scope: 'transition_type:is_alert', recipients: ['slack-test-channel', 'jira-test'] }],
        fallbackRecipients: ['slack-test-channel', 'jira-test'],
      },
    },
  },
};

describe('notification rules API (official client)', () => {
  let okta: v2.MonitorNotificationRuleResponse;
  let cond: v2.MonitorNotificationRuleResponse;

  it('creates a rule with a scope filter and recipients', async () => {
    okta = await api.createMonitorNotificationRule({
      body: {
        data: {
          type: 'monitor-notification-rule',
          attributes: {
            name: 'Okta production',
            filter: { scope: 'service:okta AND NOT env:staging' },
            recipients: ['slack-okta', 'pagerduty-okta'],
          },
        },
      },
    });
    expect(okta.data?.type).toBe('monitor-notification-rule');
    expect(okta.data?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(okta.data?.attributes?.name).toBe('Okta production');
    expect(okta.data?.attributes?.filter).toEqual({ scope: 'service:okta AND NOT env:staging' });
    expect(okta.data?.attributes?.recipients).toEqual(['slack-okta', 'pagerduty-okta']);
    expect(okta.data?.attributes?.created).toBeInstanceOf(Date);
    expect(okta.data?.relationships?.createdBy?.data?.type).toBe('users');
    expect(okta.included?.length).toBe(1);
  });

  it("creates Datadog's conditional example; the wire carries created_at/modified_at", async () => {
    cond = await api.createMonitorNotificationRule({ body: conditional });
    const a = cond.data?.attributes;
    expect(a?.filter).toEqual({ tags: ['team:product', 'host:abc'] });
    expect(a?.conditionalRecipients?.conditions).toEqual([
      { scope: 'transition_type:is_alert', recipients: ['slack-test-channel', 'jira-test'] },
    ]);
    expect(a?.conditionalRecipients?.fallbackRecipients).toEqual(['slack-test-channel', 'jira-test']);
    const r = await raw('GET', `${BASE}/${cond.data?.id}`);
    expect(r.status).toBe(200);
    expect(r.body.data.attributes.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(r.body.data.attributes.modified_at).toBe(r.body.data.attributes.created_at);
    expect(r.body.data.attributes.conditional_recipients.fallback_recipients).toEqual([
      'slack-test-channel',
      'jira-test',
    ]);
    expect(r.body.included).toBeUndefined();
  });

  it('gets a rule, with the creator when include=created_by', async () => {
    const got = await api.getMonitorNotificationRule({ ruleId: okta.data!.id!, include: 'created_by' });
    expect(got.data?.attributes?.recipients).toEqual(['slack-okta', 'pagerduty-okta']);
    expect(got.included?.length).toBe(1);
  });

  it('lists rules with paging, sort and filters', async () => {
    const all = await api.getMonitorNotificationRules();
    expect(all.data?.map((d) => d.id)).toEqual([okta.data?.id, cond.data?.id]);
    const byName = await api.getMonitorNotificationRules({ sort: 'name:asc' });
    expect(byName.data?.map((d) => d.attributes?.name)).toEqual([
      'A notification rule name',
      'Okta production',
    ]);
    const desc = await api.getMonitorNotificationRules({ sort: 'created_at:desc', perPage: 1, page: 0 });
    expect(desc.data?.map((d) => d.id)).toEqual([cond.data?.id]);
    const page2 = await api.getMonitorNotificationRules({ perPage: 1, page: 1 });
    expect(page2.data?.map((d) => d.id)).toEqual([cond.data?.id]);
    const byText = await api.getMonitorNotificationRules({ filters: JSON.stringify({ text: 'okta' }) });
    expect(byText.data?.map((d) => d.id)).toEqual([okta.data?.id]);
    const byRecipient = await api.getMonitorNotificationRules({
      filters: JSON.stringify({ recipients: ['jira-test', 'nobody'] }),
    });
    expect(byRecipient.data?.map((d) => d.id)).toEqual([cond.data?.id]);
    const byTag = await api.getMonitorNotificationRules({
      filters: JSON.stringify({ tags: ['service:okta', 'team:product'] }),
    });
    expect(byTag.data).toHaveLength(2);
  });

  it('updates a rule with PATCH (full attributes), keeping its id and creation time', async () => {
    const id = okta.data!.id!;
    const updated = await api.updateMonitorNotificationRule({
      ruleId: id,
      body: {
        data: {
          id,
          type: 'monitor-notification-rule',
          attributes: {
            name: 'Okta production (routed)',
            filter: { tags: ['service:okta'] },
            conditionalRecipients: {
              conditions: [
                { scope: 'transition_type:is_alert', recipients: ['pagerduty-okta'] },
                { scope: 'priority:p1', recipients: ['oncall-iam'] },
              ],
              fallbackRecipients: ['slack-okta'],
            },
          },
        },
      },
    });
    expect(updated.data?.id).toBe(id);
    expect(updated.data?.attributes?.name).toBe('Okta production (routed)');
    expect(updated.data?.attributes?.recipients).toBeUndefined();
    expect(updated.data?.attributes?.created).toEqual(okta.data?.attributes?.created);
    expect(updated.data!.attributes!.modified!.getTime()).toBeGreaterThanOrEqual(
      okta.data!.attributes!.modified!.getTime(),
    );
  });

  it('routes a monitor event with the stored rules', async () => {
    const rules = await srv.store.listNotificationRules();
    const event = {
      transition: 'Triggered',
      from: 'OK',
      to: 'Alert',
      monitor: { tags: ['service:okta'], priority: 1 },
      group: { '@flow_name': 'Sync' },
      handles: ['@slack-okta'],
    };
    expect(recipientsFor(event, rules)).toEqual(['@slack-okta', '@pagerduty-okta', '@oncall-iam']);
    // The recovery also goes to the PagerDuty service the trigger paged, so its incident is resolved.
    expect(
      recipientsFor({ ...event, to: 'OK', from: 'Alert', monitor: { tags: ['service:okta'] } }, rules),
    ).toEqual(['@slack-okta', '@pagerduty-okta']);
  });

  it('rejects recipients together with conditional_recipients (the "Bad Request" example) in Datadog\'s shape', async () => {
    const body = {
      data: {
        type: 'monitor-notification-rule',
        attributes: {
          name: 'A notification rule name',
          filter: { tags: ['team:product', 'host:abc'] },
          recipients: ['slack-test-channel', 'jira-test'],
          conditional_recipients: {
            conditions: [
              { scope: 'transition_type:is_alert', recipients: ['slack-test-channel', 'jira-test'] },
            ],
            fallback_recipients: ['slack-test-channel', 'jira-test'],
          },
        },
      },
    };
    const r = await raw('POST', BASE, body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      errors: [
        "The value provided for parameter 'data.attributes.recipients' is invalid: `recipients` cannot be used with `conditional_recipients`",
      ],
    });
    await expect(
      api.createMonitorNotificationRule({
        body: {
          data: {
            attributes: { name: 'x', filter: { scope: 'prod' }, recipients: ['@slack-x'] },
          },
        },
      }),
    ).rejects.toMatchObject({
      code: 400,
      body: {
        errors: [
          "The value provided for parameter 'data.attributes.recipients.0' is invalid: \"@slack-x\" must not start with an '@'",
          'The value provided for parameter \'data.attributes.filter.scope\' is invalid: keyless tags are not supported ("prod"): every tag needs a key, e.g. env:prod at column 1',
        ],
      },
    });
  });

  it('rejects a wrong type, a mismatched id and bad list parameters', async () => {
    const bad = await raw('POST', BASE, {
      data: { type: 'monitor', attributes: { name: 'x', recipients: ['a'] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/'data\.type' is invalid: expected "monitor-notification-rule"/);
    const noData = await raw('POST', BASE, { name: 'x' });
    expect(noData).toEqual({
      status: 400,
      body: { errors: ["The value provided for parameter 'data' is invalid: expected an object"] },
    });
    const mismatch = await raw('PATCH', `${BASE}/${cond.data?.id}`, {
      data: { id: 'other', type: 'monitor-notification-rule', attributes: { name: 'x', recipients: ['a'] } },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0]).toMatch(/does not match the rule_id/);
    expect((await raw('GET', `${BASE}?sort=color`)).status).toBe(400);
    expect((await raw('GET', `${BASE}?per_page=0`)).status).toBe(400);
    expect((await raw('GET', `${BASE}?filters=nope`)).status).toBe(400);
  });

  it('answers 401 without keys', async () => {
    const res = await fetch(`${srv.url}${BASE}`);
    expect(res.status).toBe(401);
  });

  it('deletes a rule (204), then 404 on get, update and delete', async () => {
    const id = cond.data!.id!;
    await api.deleteMonitorNotificationRule({ ruleId: id });
    await expect(api.getMonitorNotificationRule({ ruleId: id })).rejects.toMatchObject({ code: 404 });
    const r = await raw('DELETE', `${BASE}/${id}`);
    expect(r).toEqual({
      status: 404,
      body: { errors: [`Monitor notification rule not found: no rule with id "${id}"`] },
    });
    expect((await raw('PATCH', `${BASE}/${id}`, conditional)).status).toBe(404);
    expect((await api.getMonitorNotificationRules()).data?.map((d) => d.id)).toEqual([okta.data?.id]);
  });
});
