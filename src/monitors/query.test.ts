import { describe, expect, it } from 'vitest';
import { MonitorQueryError, parseMonitorQuery } from './query.ts';

describe('log alert query', () => {
  it('reads the full form', () => {
    const q = parseMonitorQuery(
      'logs("service:okta status:error").index("*").rollup("count").by("@flow_name,env").last("5m") > 5',
    );
    expect(q).toMatchObject({
      search: 'service:okta status:error',
      index: '*',
      rollup: 'count',
      measure: null,
      groupBy: ['@flow_name', 'env'],
      windowMs: 300_000,
      comparator: '>',
      threshold: 5,
    });
    expect(q.filter.kind).toBe('and');
  });

  it.each([
    [
      'logs("*").last("1h") >= 1.5',
      { rollup: 'count', windowMs: 3_600_000, comparator: '>=', threshold: 1.5 },
    ],
    ['logs("*").rollup("avg", "@duration").last("15m") < 100', { rollup: 'avg', measure: '@duration' }],
    [
      'logs("*").rollup("cardinality", "@usr.id").last("2d") != 0',
      { rollup: 'cardinality', windowMs: 172_800_000 },
    ],
    ['  logs( "a" ) . by( "source" ) . last( "10m" )  ==  3 ', { groupBy: ['source'], comparator: '==' }],
    ['logs("@flow_name:\\"Sync Users\\"").last("5m") > 0', { search: '@flow_name:"Sync Users"' }],
    ['logs("@url:a\\:b").last("5m") > 0', { search: '@url:a\\:b' }],
  ])('%s', (text, expected) => {
    expect(parseMonitorQuery(text)).toMatchObject(expected);
  });

  it.each([
    ['metrics("x").last("5m") > 1', 1, /must start with logs/],
    ['logs("a AND (").last("5m") > 1', 14, /search query: unexpected end of query/],
    ['logs("*").rollup("p99").last("5m") > 1', 18, /unknown rollup "p99"/],
    ['logs("*").rollup("avg").last("5m") > 1', 18, /needs a measure/],
    ['logs("*").last("3d") > 1', 16, /window from 1m to 2d/],
    ['logs("*").last("5m")', 21, /expected a comparison/],
    ['logs("*").last("5m") > ', 24, /expected a number/],
    ['logs("*").last("5m") > 1 extra', 26, /unexpected text/],
    ['logs("*").by("a,b,c,d,e").last("5m") > 1', 14, /at most 4/],
    ['logs("*").foo("x").last("5m") > 1', 11, /unknown ".foo\(\)"/],
    ['logs("*).last("5m") > 1', 16, /expected "\)"/],
    ['logs("*").by("a").by("b").last("5m") > 1', 19, /appears twice/],
    ['logs("*") > 1', 11, /expected .last/],
  ])('refuses %s at column %i', (text, column, message) => {
    let err: unknown;
    try {
      parseMonitorQuery(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MonitorQueryError);
    expect((err as MonitorQueryError).message).toMatch(message);
    expect((err as MonitorQueryError).column).toBe(column);
  });
});
