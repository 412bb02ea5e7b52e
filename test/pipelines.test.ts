// Pipelines end to end: the seed scenario through a running server (ELS fixtures in Okta's body template),
// the same pipeline created with the official client's LogsPipelinesApi, ordering, read-only rules and
// validation errors.
import { client, v1 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { OKTA_PIPELINE_ID, OKTA_STATUS_TABLE } from '../src/pipelines/okta-pipeline.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running;
let api: v1.LogsPipelinesApi;

beforeAll(async () => {
  srv = await startTestServer();
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  api = new v1.LogsPipelinesApi(config);
});
afterAll(async () => {
  await srv.close();
});

async function postEls(body: string): Promise<void> {
  const res = await fetch(`${srv.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(202);
}

async function search(query: string) {
  const res = await fetch(`${srv.url}/api/v2/logs/events/search`, {
    method: 'POST',
    headers: appHeaders,
    body: JSON.stringify({ filter: { query, from: 'now-1h', to: 'now+1h' }, page: { limit: 100 } }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { attributes: Record<string, any> }[] }).data.map(
    (d) => d.attributes,
  );
}

describe('the seed scenario', () => {
  it('turns the posted ELS fixtures into statuses, error details, trace ids and readable messages', async () => {
    const run = `seed-${Date.now()}`;
    for (const name of ['flow_start', 'flow_complete', 'flow_fail', 'flow_throttle', 'flow_cancel'])
      await postEls(
        oktaBody(elsEvent(name, { execution_id: `${run}-${name}`, idempotency_key: `${run}-${name}` })),
      );
    const errors = await search(`status:error @execution_id:${run}-*`);
    expect(errors).toHaveLength(1);
    const fail = errors[0]!;
    expect(fail.attributes.event_type).toBe('FLOW_FAIL');
    expect(fail.attributes.error).toEqual({ kind: 'HTTPError', message: 'Workday: 503 Service Unavailable' });
    expect(fail.message).toBe(
      'Flow failed: Deprovision Terminated Users (HTTPError: Workday: 503 Service Unavailable)',
    );
    // the trace id is the root execution: found through the reserved field
    const byTrace = await search(`trace_id:${fail.attributes.root_execution_id} @execution_id:${run}-*`);
    expect(byTrace.map((l) => l.attributes.event_type)).toContain('FLOW_FAIL');
    expect((await search(`status:warn @execution_id:${run}-*`)).map((l) => l.attributes.event_type)).toEqual([
      'FLOW_THROTTLE',
    ]);
    const info = await search(`status:info @execution_id:${run}-*`);
    expect(info.map((l) => l.attributes.event_type).sort()).toEqual(['FLOW_COMPLETE', 'FLOW_START']);
    expect(
      (await search(`status:notice @execution_id:${run}-*`)).map((l) => l.attributes.event_type),
    ).toEqual(['FLOW_CANCEL']);
    // readable messages are searchable as free text
    expect((await search(`"flow throttled" @execution_id:${run}-*`)).length).toBe(1);
  });

  it('the same pipeline built with LogsPipelinesApi on its own service and source behaves identically', async () => {
    const created = await api.createLogsPipeline({
      body: {
        name: 'My Okta pipeline',
        isEnabled: true,
        filter: { query: 'service:okta-copy source:els-copy' },
        processors: [
          {
            type: 'lookup-processor',
            isEnabled: true,
            source: 'event_type',
            target: 'status',
            lookupTable: OKTA_STATUS_TABLE.map((l) => l.replace(', ', ',')).concat(['FLOW_FAIL, error']),
            defaultLookup: 'info',
          } as v1.LogsLookupProcessor,
          { type: 'status-remapper', isEnabled: true, sources: ['status'] } as v1.LogsStatusRemapper,
          {
            type: 'attribute-remapper',
            isEnabled: true,
            sources: ['error_type'],
            target: 'error.kind',
          } as v1.LogsAttributeRemapper,
          {
            type: 'attribute-remapper',
            isEnabled: true,
            sources: ['error_message'],
            target: 'error.message',
          } as v1.LogsAttributeRemapper,
          {
            type: 'trace-id-remapper',
            isEnabled: true,
            sources: ['root_execution_id', 'execution_id'],
          } as v1.LogsTraceRemapper,
          { type: 'date-remapper', isEnabled: true, sources: ['timestamp'] } as v1.LogsDateRemapper,
        ],
      },
    });
    expect(created.id).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(created.isReadOnly).toBe(false);
    const run = `copy-${Date.now()}`;
    for (const name of ['flow_fail', 'flow_throttle', 'flow_complete']) {
      const body = JSON.parse(
        oktaBody(elsEvent(name, { execution_id: `${run}-${name}`, idempotency_key: `${run}-${name}` })),
      );
      await postEls(JSON.stringify({ ...body, service: 'okta-copy', ddsource: 'els-copy' }));
    }
    const statuses = Object.fromEntries(
      (await search(`service:okta-copy @execution_id:${run}-*`)).map((l) => [
        l.attributes.event_type,
        l.status,
      ]),
    );
    expect(statuses).toEqual({ FLOW_FAIL: 'error', FLOW_THROTTLE: 'warn', FLOW_COMPLETE: 'info' });
    const [fail] = await search(`service:okta-copy status:error @execution_id:${run}-*`);
    expect(fail!.attributes.error).toEqual({
      kind: 'HTTPError',
      message: 'Workday: 503 Service Unavailable',
    });
    const got = await api.getLogsPipeline({ pipelineId: created.id! });
    expect(got.processors?.[0]).toMatchObject({
      type: 'lookup-processor',
      isEnabled: true,
      defaultLookup: 'info',
    });
    await api.deleteLogsPipeline({ pipelineId: created.id! });
  });
});

describe('pipeline API', () => {
  it('lists the built-in pipeline first, read-only; it can be disabled but not edited or deleted', async () => {
    const list = await api.listLogsPipelines();
    expect(list[0]).toMatchObject({
      id: OKTA_PIPELINE_ID,
      isReadOnly: true,
      isEnabled: true,
      name: 'Okta Workflows Execution Logs',
    });
    const raw = (await (
      await fetch(`${srv.url}/api/v1/logs/config/pipelines/${OKTA_PIPELINE_ID}`, { headers: appHeaders })
    ).json()) as Record<string, unknown>;
    const { id: _i, type: _t, is_read_only: _r, ...body } = raw;
    const put = (b: unknown) =>
      fetch(`${srv.url}/api/v1/logs/config/pipelines/${OKTA_PIPELINE_ID}`, {
        method: 'PUT',
        headers: appHeaders,
        body: JSON.stringify(b),
      });
    const edited = await put({ ...body, name: 'mine now' });
    expect(edited.status).toBe(400);
    expect(JSON.stringify(await edited.json())).toMatch(/read-only: only is_enabled can change; clone it/);
    const off = await put({ ...body, is_enabled: false });
    expect(off.status).toBe(200);
    // disabled: a FLOW_FAIL stays info
    const run = `off-${Date.now()}`;
    await postEls(oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run })));
    expect((await search(`@execution_id:${run}`))[0]!.status).toBe('info');
    expect((await put({ ...body, is_enabled: true })).status).toBe(200);
    const del = await fetch(`${srv.url}/api/v1/logs/config/pipelines/${OKTA_PIPELINE_ID}`, {
      method: 'DELETE',
      headers: appHeaders,
    });
    expect(del.status).toBe(400);
    // cloning: the same body creates an editable copy
    const clone = await fetch(`${srv.url}/api/v1/logs/config/pipelines`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({ ...body, name: 'clone', is_enabled: false }),
    });
    expect(clone.status).toBe(200);
    const c = (await clone.json()) as { id: string; is_read_only: boolean };
    expect(c.is_read_only).toBe(false);
    await api.deleteLogsPipeline({ pipelineId: c.id });
  });

  it('orders pipelines: new ones run after the built-in one; the order can be changed', async () => {
    const mk = (name: string, template: string) =>
      api.createLogsPipeline({
        body: {
          name,
          isEnabled: true,
          filter: { query: 'service:order-test' },
          processors: [
            {
              type: 'string-builder-processor',
              isEnabled: true,
              template,
              target: 'trail',
            } as v1.LogsStringBuilderProcessor,
            { type: 'status-remapper', isEnabled: true, sources: ['lvl'] } as v1.LogsStatusRemapper,
          ],
        },
      });
    const a = await mk('A', '%{trail}a');
    const b = await mk('B', '%{trail}b');
    const ingest = async (run: string) => {
      const res = await fetch(`${srv.url}/api/v2/logs`, {
        method: 'POST',
        headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'order-test', message: run, trail: '>', lvl: 'error' }),
      });
      expect(res.status).toBe(202);
      return (await search(`service:order-test ${run}`))[0]!;
    };
    expect((await ingest('first')).attributes.trail).toBe('>ab');
    const order = await api.getLogsPipelineOrder();
    expect(order.pipelineIds.slice(0, 1)).toEqual([OKTA_PIPELINE_ID]);
    const ids = order.pipelineIds.filter((id) => id !== a.id && id !== b.id);
    await api.updateLogsPipelineOrder({ body: { pipelineIds: [b.id!, ...ids, a.id!] } });
    expect((await ingest('second')).attributes.trail).toBe('>ba');
    const bad = await fetch(`${srv.url}/api/v1/logs/config/pipeline-order`, {
      method: 'PUT',
      headers: appHeaders,
      body: JSON.stringify({ pipeline_ids: [a.id] }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/missing pipelines/);
    await api.deleteLogsPipeline({ pipelineId: a.id! });
    await api.deleteLogsPipeline({ pipelineId: b.id! });
  });

  it('answers 400 listing every problem, 404 for unknown ids, 401/403 without keys', async () => {
    const res = await fetch(`${srv.url}/api/v1/logs/config/pipelines`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({
        filter: { query: 'status:(error' },
        processors: [{ type: 'grok-parzer' }, { type: 'attribute-remapper', sources: [], target: 'host' }],
      }),
    });
    expect(res.status).toBe(400);
    const { errors } = (await res.json()) as { errors: string[] };
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^filter\.query: unbalanced "\(" at column 8/),
        expect.stringMatching(/^processors\[0\]\.type: unknown processor type/),
        expect.stringMatching(/^processors\[1\]\.sources: give at least one source/),
      ]),
    );
    const missing = await api.getLogsPipeline({ pipelineId: 'nope' }).catch((e: unknown) => e);
    expect((missing as client.ApiException<unknown>).code).toBe(404);
    const garbage = await fetch(`${srv.url}/api/v1/logs/config/pipelines`, {
      method: 'POST',
      headers: appHeaders,
      body: '{"name": ',
    });
    expect(garbage.status).toBe(400);
    const noKey = await fetch(`${srv.url}/api/v1/logs/config/pipelines`);
    expect(noKey.status).toBe(401);
    const wrong = await fetch(`${srv.url}/api/v1/logs/config/pipelines`, {
      headers: { ...appHeaders, 'dd-application-key': 'x' },
    });
    expect(wrong.status).toBe(403);
    // nothing was created by the refused requests
    expect((await api.listLogsPipelines()).map((p) => p.id)).toEqual([OKTA_PIPELINE_ID]);
  });
});
