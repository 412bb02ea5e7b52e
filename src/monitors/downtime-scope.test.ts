import { describe, expect, it } from 'vitest';
import { scopeCanMatch, scopeMatches } from './downtime-scope.ts';

describe('downtime scope over a group', () => {
  it.each([
    ['*', {}, true],
    ['*', { '@flow_name': 'Sync Users' }, true],
    ['@flow_name:"Sync Users"', { '@flow_name': 'Sync Users' }, true],
    ['@flow_name:"Sync Users"', { '@flow_name': 'Payroll' }, false],
    ['@flow_name:Sync*', { '@flow_name': 'Sync Users' }, true],
    ['env:prod', { env: 'prod', '@flow_name': 'x' }, true],
    ['env:prod', { env: 'staging' }, false],
    ['env:(prod OR staging)', { env: 'staging' }, true],
    ['-env:dev', { env: 'prod' }, true],
    ['-env:dev', { env: 'dev' }, false],
    ['env:prod @flow_name:"Sync Users"', { env: 'prod', '@flow_name': 'Payroll' }, false],
    ['service:okta', { service: 'okta' }, true],
    ['@http.status_code:503', { '@http.status_code': '503' }, true],
    // a key the monitor does not group by does not match; an ungrouped monitor is covered only by * or -x
    ['env:prod', { '@flow_name': 'Sync Users' }, false],
    ['env:prod', {}, false],
    ['-env:dev', {}, true],
  ])('%s over %j → %s', (scope, group, want) => {
    expect(scopeMatches(scope, group)).toBe(want);
  });
});

describe('downtime scope over a notification group (notify_by): the values of its sub-groups', () => {
  // notify_by ["@flow_name"] over .by("@flow_name,env"): the group "Sync Users" with a prod and a staging
  // sub-group. A term holds when one sub-group carries it (Datadog's scoping guide: a group showing
  // `service:synthesizer`, `service:web-store` is muted by `service:web-store`, not by `service:demo`).
  const sync = [
    { '@flow_name': 'Sync Users', env: 'prod' },
    { '@flow_name': 'Sync Users', env: 'staging' },
  ];
  it.each([
    ['*', true],
    ['env:staging', true],
    ['env:prod', true],
    ['env:dev', false],
    ['env:prod env:staging', true],
    ['env:staging @flow_name:"Sync Users"', true],
    ['env:staging @flow_name:Payroll', false],
    ['-env:staging', false],
    ['-env:dev', true],
    ['env:(dev OR staging)', true],
    ['host:web-1', false],
  ])('%s → %s', (scope, want) => {
    expect(scopeMatches(scope, sync)).toBe(want);
  });

  it('a group without live sub-groups is its own values; an empty list is an ungrouped group', () => {
    expect(scopeMatches('env:staging', [{ '@flow_name': 'Sync Users', env: 'staging' }])).toBe(true);
    expect(scopeMatches('env:staging', { '@flow_name': 'Sync Users' })).toBe(false);
    expect(scopeMatches('*', [])).toBe(true);
    expect(scopeMatches('env:staging', [])).toBe(false);
  });
});

describe('whether a scope can cover some group of a monitor (matching_downtimes, downtime_matches)', () => {
  it.each([
    ['*', [], true],
    ['*', ['@flow_name'], true],
    // a key the monitor does not group by: never
    ['env:staging', [], false],
    ['env:staging', ['@flow_name'], false],
    ['@flow_name:"Sync Users"', ['env'], false],
    ['flow_name:"Sync Users"', ['@flow_name'], false],
    ['service:okta', ['@flow_name'], false],
    // a grouped key: a group may have (or get) that value
    ['env:staging', ['@flow_name', 'env'], true],
    ['@flow_name:"Sync Users"', ['@flow_name'], true],
    ['service:okta', ['service'], true],
    ['ENV:staging', ['env'], true],
    // negations and combinations decided by the absent keys
    ['-env:staging', [], true],
    ['-env:staging', ['@flow_name'], true],
    ['env:staging @flow_name:x', ['@flow_name'], false],
    ['env:staging OR @flow_name:x', ['@flow_name'], true],
    ['-(env:staging @flow_name:x)', ['@flow_name'], true],
    ['env:(prod OR staging)', ['@flow_name'], false],
    // free text looks at every value: possible once the monitor is grouped
    ['okta', ['@flow_name'], true],
    ['okta', [], false],
  ])('%s grouped by %j → %s', (scope, groupBy, want) => {
    expect(scopeCanMatch(scope, groupBy)).toBe(want);
  });
});
