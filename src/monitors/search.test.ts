import { describe, expect, it } from 'vitest';
import {
  countBy,
  MonitorSearchError,
  matchesSearch,
  parseMonitorSearch,
  parseSearchSort,
  type SearchFacts,
} from './search.ts';

const okta: SearchFacts = {
  id: 1,
  name: 'Okta flow failures',
  status: 'Alert',
  tags: ['team:iam', 'env:prod'],
  priority: 1,
  muted: false,
  multi: true,
  notifications: ['slack-okta-alerts'],
  group: '@flow_name:Sync Users',
};
const payroll: SearchFacts = {
  id: 2,
  name: 'Payroll silence',
  status: 'No Data',
  tags: ['team:payroll'],
  priority: null,
  muted: true,
  multi: false,
  notifications: [],
  group: '*',
};

describe('monitor search query', () => {
  const rows: [string, boolean, boolean][] = [
    ['', true, true],
    ['status:alert', true, false],
    ['status:Alert', true, false],
    ['status:"no data"', false, true],
    ['status:nodata', false, true],
    ['status:(alert OR "no data")', true, true],
    ['-status:alert', false, true],
    ['NOT status:alert', false, true],
    ['type:log', true, true],
    ['type:metric', false, false],
    ['tag:team:iam', true, false],
    ['tag:team:*', true, true],
    ['team:payroll', false, true],
    ['env:prod status:alert', true, false],
    ['env:prod status:ok', false, false],
    ['env:prod OR team:payroll', true, true],
    ['priority:p1', true, false],
    ['priority:1', true, false],
    ['muted:true', false, true],
    ['multi:false', false, true],
    ['notification:slack-okta-alerts', true, false],
    ['notification:@slack-okta-*', true, false],
    ['id:2', false, true],
    ['okta', true, false],
    ['FLOW fail*', true, false],
    ['"Payroll silence"', false, true],
    ['title:silence', false, true],
    ['group:"Sync Users"', true, false],
    ['sync', true, false],
    ['creator:flowwatch', true, true],
  ];
  it.each(rows)('%j → okta %s, payroll %s', (q, a, b) => {
    const s = parseMonitorSearch(q);
    expect(matchesSearch(s, okta)).toBe(a);
    expect(matchesSearch(s, payroll)).toBe(b);
  });

  it.each([
    ['status:(alert', /unbalanced "\("/],
    ['status:alert)', /unbalanced "\)" at column 13/],
    ['name:"open', /unterminated quote/],
    ['status:', /no value after "status:"/],
    ['OR status:alert', /"OR" needs a term on each side/],
    ['status:alert OR', /"OR" needs a term on each side/],
    ['NOT', /"NOT" needs a term/],
  ])('%j is refused', (q, msg) => {
    expect(() => parseMonitorSearch(q)).toThrow(MonitorSearchError);
    expect(() => parseMonitorSearch(q)).toThrow(msg);
  });
});

describe('monitor search sort and counts', () => {
  it.each([
    ['name,asc', [1, 2]],
    ['name,desc', [2, 1]],
    ['status,desc', [1, 2]],
    ['status,asc', [2, 1]],
    ['priority,asc', [1, 2]],
    ['id,desc', [2, 1]],
    ['tags,asc', [1, 2]],
  ] as [string, number[]][])('%s', (sort, ids) => {
    const cmp = parseSearchSort(sort, ['name', 'status', 'tags', 'id', 'priority']);
    expect([payroll, okta].sort(cmp).map((f) => f.id)).toEqual(ids);
  });

  it('refuses an unknown field or direction, naming the choices', () => {
    expect(() => parseSearchSort('created,asc', ['name', 'status'])).toThrow(
      'sort must be "<field>,asc" or "<field>,desc" with a field among name, status; got "created,asc"',
    );
    expect(() => parseSearchSort('name,up', ['name'])).toThrow(MonitorSearchError);
    expect(parseSearchSort(undefined, ['name'])).toBeUndefined();
  });

  it('counts each name once per item, largest first', () => {
    expect(countBy([okta, payroll, okta], (f) => [...f.tags, ...f.tags])).toEqual([
      { name: 'env:prod', count: 2 },
      { name: 'team:iam', count: 2 },
      { name: 'team:payroll', count: 1 },
    ]);
    expect(countBy([okta, payroll], (f) => [f.muted])).toEqual([
      { name: false, count: 1 },
      { name: true, count: 1 },
    ]);
  });
});
