import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../domain/log-event.ts';
import { makeLog } from '../store/conformance.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import {
  type AggregateRequest,
  Aggregator,
  MAX_AGGREGATE_GROUPS,
  parseFacet,
  parseInterval,
  TooManyGroupsError,
} from './aggregate.ts';
import { compileMatcher } from './match.ts';
import { parseQuery } from './parse.ts';

const H = 3_600_000;
const T = Date.parse('2026-11-20T00:00:00Z');

describe('aggregate', () => {
  it('SQL pre-grouping gives what the log-by-log path gives', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-agg-'));
    const store = new SqliteStore({ dataDir: dir });
    const events: LogEvent[] = fc
      .sample(
        fc.record({
          t: fc.integer({ min: 0, max: 48 * H - 1 }),
          flow: fc.constantFrom('A', 'B', 'C', null, 5),
          d: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant('x')),
          status: fc.constantFrom('info', 'error'),
        }),
        { seed: 1, numRuns: 500 },
      )
      .map(({ t, flow, d, status }) =>
        makeLog({
          timestamp: T + t,
          status: status as 'info',
          attributes: { ...(flow === null ? {} : { flow_name: flow }), duration: d },
        }),
      );
    await store.appendLogs(events);
    const m = { kind: 'attr' as const, path: 'duration', name: '@duration' };
    const req: AggregateRequest = {
      from: T,
      to: T + 48 * H,
      computes: [
        { aggregation: 'count', type: 'total', interval: 0 },
        { aggregation: 'avg', metric: m, type: 'total', interval: 0 },
        { aggregation: 'min', metric: m, type: 'total', interval: 0 },
        { aggregation: 'max', metric: m, type: 'timeseries', interval: 6 * H },
        { aggregation: 'sum', metric: m, type: 'timeseries', interval: 6 * H },
      ],
      groupBy: [
        {
          facet: parseFacet('status'),
          limit: 5,
          sort: { aggregation: 'count', order: 'asc', type: 'measure' },
        },
        {
          facet: parseFacet('@flow_name'),
          limit: 3,
          sort: { aggregation: 'sum', metric: m, order: 'desc', type: 'measure' },
          missing: 'n/a',
          total: 'all',
        },
      ],
    };
    const filter = parseQuery('-@duration:x');
    const viaSql = await store.aggregateLogs(req, filter);
    const js = new Aggregator(req);
    const match = compileMatcher(filter);
    for (const e of events) if (match(e)) js.addLog(e);
    expect(viaSql).toEqual(js.buckets());
    expect(viaSql.length).toBe(2 * 4);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('count requests answered from hourly rollups (plus the edge hours) equal the log-by-log answer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-rollup-'));
    const store = new SqliteStore({ dataDir: dir });
    const events: LogEvent[] = fc
      .sample(
        fc.record({
          t: fc.integer({ min: 0, max: 30 * H - 1 }),
          flow: fc.constantFrom('A', 'B', 'C', null),
          type: fc.constantFrom('FLOW_FAIL', 'FLOW_COMPLETE'),
          service: fc.constantFrom('okta', 'Okta', 'web', null),
          status: fc.constantFrom('info', 'error', 'warn'),
        }),
        { seed: 2, numRuns: 2000 },
      )
      .map(({ t, flow, type, service, status }) =>
        makeLog({
          timestamp: T + t,
          service,
          status: status as 'info',
          attributes: { ...(flow === null ? {} : { flow_name: flow }), event_type: type },
        }),
      )
      .map((e, i) => ({ ...e, dedup_key: i % 3 === 0 ? `k${i}` : null }));
    // in several write transactions, with redeliveries the store skips (they must not be counted)
    for (let i = 0; i < events.length; i += 300) await store.appendLogs(events.slice(i, i + 300));
    expect((await store.appendLogs(events.slice(0, 90))).filter(Boolean)).toHaveLength(60);
    events.push(...events.slice(0, 90).filter((e) => e.dedup_key === null));
    const rolled = store.db.prepare('SELECT sum(n) AS n FROM rollup_hourly').get() as { n: number };
    expect(rolled.n).toBe(events.length);
    const req: AggregateRequest = {
      from: T + 90 * 60_000,
      to: T + 25 * H + 17 * 60_000,
      computes: [
        { aggregation: 'count', type: 'total', interval: 0 },
        { aggregation: 'count', type: 'timeseries', interval: 2 * H },
      ],
      groupBy: [
        {
          facet: parseFacet('@flow_name'),
          limit: 2,
          sort: { aggregation: 'count', order: 'desc', type: 'measure' },
          missing: 'none',
        },
        {
          facet: parseFacet('status'),
          limit: 5,
          sort: { aggregation: 'count', order: 'asc', type: 'alphabetical' },
          total: 'all',
        },
      ],
    };
    for (const q of [
      'service:okta',
      '*',
      '-@flow_name:C status:(error OR warn)',
      '@event_type:FLOW_F* -service:*',
    ]) {
      const filter = parseQuery(q);
      const js = new Aggregator(req);
      const match = compileMatcher(filter);
      for (const e of events) if (e.timestamp >= req.from && e.timestamp < req.to && match(e)) js.addLog(e);
      expect(await store.aggregateLogs(req, filter), q).toEqual(js.buckets());
    }
    // the answer above did come from the rollups: doubling them changes it
    const before = await store.aggregateLogs(req, parseQuery('*'));
    store.db.prepare('UPDATE rollup_hourly SET n = n * 2').run();
    expect(await store.aggregateLogs(req, parseQuery('*'))).not.toEqual(before);
    store.db.prepare('UPDATE rollup_hourly SET n = n / 2').run();
    // retention keeps the rollups in step
    await store.deleteLogsBefore(T + 10 * H, 100_000);
    const left = store.db.prepare('SELECT sum(n) AS n FROM rollup_hourly').get() as { n: number };
    expect(left.n).toBe(events.filter((e) => e.timestamp >= T + 10 * H).length);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to build more groups than MAX_AGGREGATE_GROUPS (a group-by on an id), keeping memory bounded', () => {
    const req: AggregateRequest = {
      from: T,
      to: T + H,
      computes: [{ aggregation: 'count', type: 'total', interval: 0 }],
      groupBy: [
        {
          facet: parseFacet('@execution_id'),
          limit: 10,
          sort: { aggregation: 'count', order: 'desc', type: 'measure' },
        },
      ],
    };
    const agg = new Aggregator(req);
    const log = (i: number) => makeLog({ timestamp: T, attributes: { execution_id: `e${i}` } });
    for (let i = 0; i < MAX_AGGREGATE_GROUPS; i++) agg.addLog(log(i));
    // an existing group still takes logs; a new one is refused with advice
    agg.addLog(log(7));
    expect(() => agg.addLog(log(MAX_AGGREGATE_GROUPS))).toThrow(TooManyGroupsError);
    expect(() => agg.addLog(log(MAX_AGGREGATE_GROUPS))).toThrow(/group by a facet with fewer values/);
  });

  it('groups arrays by element, tags by value, and computes percentiles and cardinality', () => {
    const req: AggregateRequest = {
      from: T,
      to: T + H,
      computes: [
        { aggregation: 'count', type: 'total', interval: 0 },
        { aggregation: 'pc90', metric: parseFacet('@d'), type: 'total', interval: 0 },
        { aggregation: 'median', metric: parseFacet('@d'), type: 'total', interval: 0 },
        { aggregation: 'cardinality', metric: parseFacet('@user'), type: 'total', interval: 0 },
      ],
      groupBy: [
        {
          facet: parseFacet('env'),
          limit: 10,
          sort: { aggregation: 'count', order: 'desc', type: 'measure' },
        },
      ],
    };
    const agg = new Aggregator(req);
    for (let i = 1; i <= 10; i++)
      agg.addLog(
        makeLog({
          timestamp: T,
          tags: i <= 7 ? ['env:prod'] : ['env:dev'],
          attributes: { d: i, user: `u${i % 3}` },
        }),
      );
    expect(agg.buckets()).toEqual([
      { by: { env: 'prod' }, computes: { c0: 7, c1: 7, c2: 4, c3: 3 } },
      { by: { env: 'dev' }, computes: { c0: 3, c1: 10, c2: 9, c3: 3 } },
    ]);
    const byArray = new Aggregator({
      ...req,
      groupBy: [{ ...req.groupBy[0]!, facet: parseFacet('@teams') }],
    });
    byArray.addLog(makeLog({ timestamp: T, attributes: { teams: ['a', 'b'], d: 1 } }));
    byArray.addLog(makeLog({ timestamp: T, attributes: { teams: ['a'], d: 2 } }));
    expect(byArray.buckets().map((b) => [b.by['@teams'], b.computes.c0])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('reads intervals and facets, refusing nonsense with a reason', () => {
    expect(parseInterval('1h', 0, 7 * 24 * H)).toBe(H);
    expect(parseInterval(undefined, 0, 7 * 24 * H)).toBe(3 * H);
    expect(() => parseInterval('1s', 0, 30 * 24 * H)).toThrow(/more than 10000 points/);
    expect(() => parseInterval('soon', 0, H)).toThrow(/like "1h"/);
    expect(parseFacet('@flow_name')).toEqual({ kind: 'attr', path: 'flow_name', name: '@flow_name' });
    expect(parseFacet('service').kind).toBe('reserved');
    expect(parseFacet('env').kind).toBe('tag');
    expect(() => parseFacet('@')).toThrow(/not an attribute path/);
    expect(() => parseFacet('a b')).toThrow(/not a facet/);
  });
});
