// Conformance with the official Datadog client: LogsApi.submitLog (plain and gzip), listLogs with queries,
// aggregateLogs.
import { client, v1, v2 } from '@datadog/datadog-api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent } from './helpers/els.ts';
import { API_KEY, APP_KEY, startTestServer } from './helpers/server.ts';

let srv: Running;
let logs: v2.LogsApi;
beforeAll(async () => {
  srv = await startTestServer();
  const config = client.createConfiguration({
    authMethods: { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY },
    baseServer: new client.BaseServerConfiguration(srv.url, {}),
  });
  config.setServerVariables({});
  logs = new v2.LogsApi(config);
});
afterAll(async () => {
  await srv.close();
});

const item = (message: string): v2.HTTPLogItem => ({
  ddsource: 'okta-workflows-els',
  ddtags: 'env:production,service:okta',
  hostname: 'acme.workflows.okta.com',
  service: 'okta',
  message,
});

describe('@datadog/datadog-api-client against Flowwatch', () => {
  it('submitLog without compression answers {} and stores the ELS event', async () => {
    const ev = elsEvent('flow_fail', { execution_id: 'client-plain', idempotency_key: 'client-plain' });
    const res = await logs.submitLog({ body: [item(JSON.stringify(ev))] });
    expect(res).toEqual({});
    const found = await logs.listLogs({
      body: { filter: { query: '*', from: 'now-1h', to: 'now' }, page: { limit: 100 } },
    });
    const log = found.data?.find((l) => l.attributes?.attributes?.execution_id === 'client-plain');
    expect(log?.attributes?.service).toBe('okta');
    expect(log?.attributes?.message).toMatch(/^Flow failed/);
    expect(log?.attributes?.timestamp).toBeInstanceOf(Date);
  });

  it('submitLog with gzip content encoding', async () => {
    const res = await logs.submitLog({
      body: [item('gzip from the official client'), item('second')],
      contentEncoding: 'gzip',
    });
    expect(res).toEqual({});
    const found = await logs.listLogsGet({
      filterFrom: new Date(Date.now() - 3_600_000),
      filterTo: new Date(Date.now() + 60_000),
      pageLimit: 1000,
    }); // the client sends whole seconds
    const messages = found.data?.map((l) => l.attributes?.message);
    expect(messages).toEqual(expect.arrayContaining(['gzip from the official client', 'second']));
  });

  it('submitLog with a wrong key raises the 403 as an ApiException', async () => {
    const bad = new v2.LogsApi(
      client.createConfiguration({
        authMethods: { apiKeyAuth: 'wrong' },
        baseServer: new client.BaseServerConfiguration(srv.url, {}),
      }),
    );
    await expect(bad.submitLog({ body: [item('x')] })).rejects.toMatchObject({ code: 403 });
  });

  it('AuthenticationApi.validate answers valid, and raises 403 for a wrong key', async () => {
    const config = (apiKey: string) =>
      client.createConfiguration({
        authMethods: { apiKeyAuth: apiKey },
        baseServer: new client.BaseServerConfiguration(srv.url, {}),
      });
    expect(await new v1.AuthenticationApi(config(API_KEY)).validate()).toMatchObject({ valid: true });
    await expect(new v1.AuthenticationApi(config('wrong')).validate()).rejects.toMatchObject({ code: 403 });
  });

  it('listLogs pages with the cursor the client reads from meta.page.after', async () => {
    await logs.submitLog({ body: Array.from({ length: 30 }, (_, i) => item(`paged-${i}`)) });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await logs.listLogs({
        body: { filter: { from: 'now-1h', to: 'now' }, page: { limit: 7, cursor }, sort: 'timestamp' },
      });
      for (const l of page.data ?? [])
        if (l.attributes?.message?.startsWith('paged-')) seen.push(l.attributes.message);
      cursor = page.meta?.page?.after;
    } while (cursor);
    expect(new Set(seen).size).toBe(30);
    expect(seen).toHaveLength(30);
  });

  it('listLogs filters with the query language', async () => {
    const flows = ['Query Flow A', 'Query Flow B'];
    const body = flows.flatMap((flow, f) =>
      Array.from({ length: 3 }, (_, i) =>
        item(
          JSON.stringify(
            elsEvent(i === 0 ? 'flow_fail' : 'flow_complete', {
              flow_name: flow,
              execution_id: `q-${f}-${i}`,
              idempotency_key: `q-${f}-${i}`,
              duration: 100 * (i + 1),
            }),
          ),
        ),
      ),
    );
    await logs.submitLog({ body });
    const found = await logs.listLogs({
      body: {
        filter: {
          query: 'service:okta @event_type:FLOW_FAIL @flow_name:"Query Flow B"',
          from: 'now-1h',
          to: 'now',
        },
        page: { limit: 50 },
      },
    });
    expect(found.data?.map((l) => l.attributes?.attributes?.execution_id)).toEqual(['q-1-0']);
    const get = await logs.listLogsGet({
      filterQuery: '@flow_name:(*A OR *B) @duration:>=200',
      filterFrom: new Date(Date.now() - 3_600_000),
      filterTo: new Date(Date.now() + 60_000),
      sort: 'timestamp',
    });
    expect(get.data?.map((l) => l.attributes?.attributes?.execution_id).sort()).toEqual([
      'q-0-1',
      'q-0-2',
      'q-1-1',
      'q-1-2',
    ]);
  });

  it('listLogs raises a 400 ApiException naming the column of a syntax error', async () => {
    const err = await logs
      .listLogs({ body: { filter: { query: 'status:error AND (flow OR' } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(client.ApiException);
    expect((err as client.ApiException<unknown>).code).toBe(400);
    expect(JSON.stringify((err as client.ApiException<unknown>).body)).toMatch(
      /unexpected end of query at column 26/,
    );
  });

  it('aggregateLogs counts by facet, computes measures and timeseries', async () => {
    const res = await logs.aggregateLogs({
      body: {
        compute: [
          { aggregation: 'count', type: 'total' },
          { aggregation: 'avg', metric: '@duration', type: 'total' },
          { aggregation: 'max', metric: '@duration', type: 'total' },
          { aggregation: 'count', type: 'timeseries', interval: '1h' },
        ],
        filter: { query: '@flow_name:Query*', from: 'now-1h', to: 'now' },
        groupBy: [{ facet: '@flow_name', limit: 10, sort: { aggregation: 'count', order: 'desc' } }],
      },
    });
    const buckets = res.data?.buckets ?? [];
    expect(buckets.map((b) => b.by?.['@flow_name']).sort()).toEqual(['Query Flow A', 'Query Flow B']);
    for (const b of buckets) {
      expect(b.computes?.c0).toBe(3);
      expect(b.computes?.c1).toBe(200);
      expect(b.computes?.c2).toBe(300);
      const series = b.computes?.c3 as v2.LogsAggregateBucketValueTimeseriesPoint[];
      expect(series.reduce((n, p) => n + (p.value ?? 0), 0)).toBe(3);
    }
    const card = await logs.aggregateLogs({
      body: {
        compute: [
          { aggregation: 'cardinality', metric: '@execution_id' },
          { aggregation: 'pc90', metric: '@duration' },
        ],
        filter: { query: '@flow_name:Query*', from: 'now-1h', to: 'now' },
      },
    });
    expect(card.data?.buckets?.[0]?.computes).toEqual({ c0: 6, c1: 300 });
  });
});
