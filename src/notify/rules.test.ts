// Notification rule matching: the scope language, filters on monitor ∪ group tags, conditional recipients
// (transition types, priority, one-tag scopes, fallback), merging with the message's @-handles; the routing
// table of Datadog's docs (notification_rules.md, "Example: Notification Rule Matching"); validation.
import { describe, expect, it } from 'vitest';
import { type NotificationRule, parseRuleAttributes, RuleValidationError } from './rule-model.ts';
import { matchingRules, type RuleEvent, recipientsFor, toHandle } from './rules.ts';
import { evalScope, parseScope, ScopeSyntaxError, TagSet } from './scope.ts';

let n = 0;
function rule(over: Partial<NotificationRule>): NotificationRule {
  n++;
  return { id: `r${n}`, name: `rule ${n}`, created_at: n, modified_at: n, ...over };
}

const alert: RuleEvent = {
  transition: 'Triggered',
  from: 'OK',
  to: 'Alert',
  cause: 'value',
  monitor: { tags: ['service:okta', 'team:iam'], priority: 2 },
  group: { '@flow_name': 'Sync Users', env: 'prod' },
  handles: ['@slack-okta-alerts'],
};
const ev = (over: Partial<RuleEvent>): RuleEvent => ({ ...alert, ...over });
const recovered = ev({ transition: 'Recovered', from: 'Alert', to: 'OK' });
const warnEv = ev({ transition: 'Warn', from: 'OK', to: 'Warn' });
const alertToWarn = ev({ transition: 'Warn', from: 'Alert', to: 'Warn' });
const noData = ev({ transition: 'No Data', from: 'OK', to: 'No Data', cause: 'missing_data' });
const renotify = ev({ transition: 'Re-Triggered', from: 'Alert', to: 'Alert', cause: 'renotify' });

describe('scope language', () => {
  const tags = new TagSet(['service:okta', 'team:data platform', 'env:prod', 'env:eu', 'critical']);
  const cases: [string, boolean][] = [
    ['service:okta', true],
    ['SERVICE:Okta', true],
    ['service:okta team:"data platform"', true],
    ['service:okta AND env:staging', false],
    ['service:(foo OR okta)', true],
    ['service:(foo OR bar) OR env:eu', true],
    ['service:okta NOT env:staging', true],
    ['service:okta -env:prod', false],
    ['NOT (env:prod AND env:eu)', false],
    ['env:prod env:eu', true],
    ['team:*', true],
    ['owner:*', false],
    ['service:(foo OR bar) AND team:test NOT environment:staging', false],
    ['(service:foo OR service:okta) AND NOT team:x', true],
  ];
  it.each(cases)('%s → %s', (src, want) => {
    expect(evalScope(parseScope(src), tags)).toBe(want);
  });

  const errors: [string, RegExp][] = [
    ['prod', /keyless tags are not supported/],
    ['prod AND service:a', /keyless/],
    ['service:web-*', /wildcards are only supported alone/],
    ['service:auth?', /wildcards/],
    ['service:a and env:b', /"and" is not an operator: write AND/],
    ['service:(a', /expected OR or "\)"/],
    ['(service:a', /expected "\)"/],
    ['service:', /value of "service" is missing/],
    [':a', /key is missing/],
    ['', /empty/],
    ['x'.repeat(3001), /longer than 3000/],
  ];
  it.each(errors)('rejects %j', (src, re) => {
    expect(() => parseScope(src)).toThrow(ScopeSyntaxError);
    expect(() => parseScope(src)).toThrow(re);
  });

  it('reports the column', () => {
    try {
      parseScope('service:a prod');
      expect.unreachable();
    } catch (err) {
      expect((err as ScopeSyntaxError).column).toBe(11);
    }
  });
});

describe('rule matching (table)', () => {
  const R = {
    scopeOkta: rule({ filter: { scope: 'service:okta' }, recipients: ['slack-okta'] }),
    tagsBoth: rule({ filter: { tags: ['service:okta', 'env:prod'] }, recipients: ['pagerduty-okta'] }),
    groupAttr: rule({ filter: { scope: '@flow_name:"Sync Users"' }, recipients: ['webhook-sync'] }),
    groupAttrNoAt: rule({ filter: { tags: ['flow_name:sync users'] }, recipients: ['webhook-sync2'] }),
    notStaging: rule({ filter: { scope: 'team:iam NOT env:staging' }, recipients: ['slack-iam'] }),
    cond: rule({
      filter: { tags: ['team:iam'] },
      conditional_recipients: {
        conditions: [
          { scope: 'transition_type:is_alert', recipients: ['pagerduty-iam'] },
          { scope: 'transition_type:warning', recipients: ['slack-iam-warn'] },
          { scope: 'priority:p1', recipients: ['oncall-iam'] },
          { scope: 'env:staging', recipients: ['slack-staging'] },
        ],
        fallback_recipients: ['slack-iam-fallback'],
      },
    }),
    noFallback: rule({
      filter: { scope: 'service:okta' },
      conditional_recipients: {
        conditions: [{ scope: 'transition_type:is_no_data', recipients: ['slack-nodata'] }],
      },
    }),
    recovery: rule({
      filter: { scope: 'service:okta' },
      conditional_recipients: {
        conditions: [
          { scope: 'transition_type:is_recovery', recipients: ['slack-recovered'] },
          { scope: 'transition_type:is_alert_recovery', recipients: ['slack-alert-recovered'] },
          { scope: 'transition_type:is_alert_to_warning', recipients: ['slack-downgraded'] },
          { scope: 'transition_type:is_renotify', recipients: ['slack-escalation'] },
        ],
      },
    }),
    incidents: rule({
      filter: { scope: 'service:okta' },
      conditional_recipients: {
        conditions: [
          { scope: 'transition_type:is_alert', recipients: ['pagerduty-iam', 'slack-iam-alert'] },
          { scope: 'transition_type:is_renotify', recipients: ['opsgenie-iam'] },
          { scope: 'transition_type:is_recovery', recipients: ['slack-recovered'] },
        ],
      },
    }),
    unfiltered: rule({ recipients: ['user@example.com'] }),
    other: rule({ filter: { tags: ['service:billing'] }, recipients: ['slack-billing'] }),
    dup: rule({ filter: { scope: 'env:prod' }, recipients: ['slack-okta-alerts', 'slack-okta'] }),
  };
  type Case = [string, RuleEvent, NotificationRule[], string[]];
  const cases: Case[] = [
    ['no rules: the message handles', alert, [], ['@slack-okta-alerts']],
    ['scope on a monitor tag', alert, [R.scopeOkta], ['@slack-okta-alerts', '@slack-okta']],
    [
      'tags: one from the monitor, one from the group',
      alert,
      [R.tagsBoth],
      ['@slack-okta-alerts', '@pagerduty-okta'],
    ],
    ['tags: group tag absent', ev({ group: { env: 'dev' } }), [R.tagsBoth], ['@slack-okta-alerts']],
    ['tags: ungrouped monitor has only its tags', ev({ group: {} }), [R.tagsBoth], ['@slack-okta-alerts']],
    ['group attribute with @ key', alert, [R.groupAttr], ['@slack-okta-alerts', '@webhook-sync']],
    [
      'group attribute without @, ignoring case',
      alert,
      [R.groupAttrNoAt],
      ['@slack-okta-alerts', '@webhook-sync2'],
    ],
    [
      'group attribute of another group',
      ev({ group: { '@flow_name': 'Other' } }),
      [R.groupAttr],
      ['@slack-okta-alerts'],
    ],
    ['NOT on the group tag: matches prod', alert, [R.notStaging], ['@slack-okta-alerts', '@slack-iam']],
    [
      'NOT on the group tag: staging excluded',
      ev({ group: { env: 'staging' } }),
      [R.notStaging],
      ['@slack-okta-alerts'],
    ],
    [
      'NOT on a monitor tag',
      ev({ monitor: { tags: ['team:iam', 'env:staging'] }, group: {} }),
      [R.notStaging],
      ['@slack-okta-alerts'],
    ],
    ['filter does not match', alert, [R.other], ['@slack-okta-alerts']],
    ['rule without filter matches all', alert, [R.unfiltered], ['@slack-okta-alerts', '@user@example.com']],
    ['conditional: alert', alert, [R.cond], ['@slack-okta-alerts', '@pagerduty-iam']],
    [
      'conditional: renotify of an alert is still is_alert',
      renotify,
      [R.cond],
      ['@slack-okta-alerts', '@pagerduty-iam'],
    ],
    ['conditional: warn (bare form)', warnEv, [R.cond], ['@slack-okta-alerts', '@slack-iam-warn']],
    [
      // The PagerDuty service the rule gave the trigger gets the recovery too: else its incident stays open.
      'conditional: recovery → fallback, and the incident recipient of the trigger',
      recovered,
      [R.cond],
      ['@slack-okta-alerts', '@slack-iam-fallback', '@pagerduty-iam'],
    ],
    [
      'conditional: recovery from warn after an alert (Alert → Warn → OK) still resolves',
      ev({ transition: 'Recovered', from: 'Warn', to: 'OK' }),
      [R.incidents],
      ['@slack-okta-alerts', '@slack-recovered', '@pagerduty-iam', '@opsgenie-iam'],
    ],
    [
      'conditional: a recovery adds no chat recipient of the trigger conditions',
      recovered,
      [R.incidents],
      ['@slack-okta-alerts', '@slack-recovered', '@pagerduty-iam', '@opsgenie-iam'],
    ],
    [
      'conditional: a trigger is unchanged',
      alert,
      [R.incidents],
      ['@slack-okta-alerts', '@pagerduty-iam', '@slack-iam-alert'],
    ],
    ['conditional: no data → fallback', noData, [R.cond], ['@slack-okta-alerts', '@slack-iam-fallback']],
    [
      'conditional: priority p1 and alert both apply',
      ev({ monitor: { tags: ['team:iam'], priority: 1 } }),
      [R.cond],
      ['@slack-okta-alerts', '@pagerduty-iam', '@oncall-iam'],
    ],
    [
      'conditional: priority as a P1 tag',
      ev({ to: 'OK', from: 'Alert', monitor: { tags: ['team:iam', 'priority:p1'], priority: null } }),
      [R.cond],
      ['@slack-okta-alerts', '@oncall-iam', '@pagerduty-iam'],
    ],
    [
      'conditional: one-tag scope on the group',
      ev({ to: 'OK', from: 'Warn', group: { env: 'staging' } }),
      [R.cond],
      ['@slack-okta-alerts', '@slack-staging', '@pagerduty-iam'],
    ],
    ['conditional: no match and no fallback → nothing', alert, [R.noFallback], ['@slack-okta-alerts']],
    ['conditional: no data', noData, [R.noFallback], ['@slack-okta-alerts', '@slack-nodata']],
    [
      'recovery from alert: is_recovery and is_alert_recovery',
      recovered,
      [R.recovery],
      ['@slack-okta-alerts', '@slack-recovered', '@slack-alert-recovered'],
    ],
    [
      'recovery from warn: not is_alert_recovery',
      ev({ transition: 'Recovered', from: 'Warn', to: 'OK' }),
      [R.recovery],
      ['@slack-okta-alerts', '@slack-recovered'],
    ],
    ['alert to warning', alertToWarn, [R.recovery], ['@slack-okta-alerts', '@slack-downgraded']],
    ['renotify', renotify, [R.recovery], ['@slack-okta-alerts', '@slack-escalation']],
    [
      'dedup with the message handles and across rules',
      alert,
      [R.scopeOkta, R.dup],
      ['@slack-okta-alerts', '@slack-okta'],
    ],
    [
      'several rules merge in rule order',
      alert,
      [R.other, R.tagsBoth, R.scopeOkta, R.unfiltered],
      ['@slack-okta-alerts', '@pagerduty-okta', '@slack-okta', '@user@example.com'],
    ],
    ['dedup ignores case', ev({ handles: ['@Slack-Okta'] }), [R.scopeOkta], ['@Slack-Okta']],
    ['no handles in the event', ev({ handles: undefined }), [R.scopeOkta], ['@slack-okta']],
    [
      'a workflow handle is kept whole',
      ev({ handles: ['@workflow-fix(flow=a, b=c)'] }),
      [],
      ['@workflow-fix(flow=a, b=c)'],
    ],
  ];
  it.each(cases)('%s', (_name, e, rules, want) => {
    expect(recipientsFor(e as Record<string, unknown>, rules)).toEqual(want);
  });

  it('matchingRules lists the rules that apply', () => {
    expect(matchingRules(alert, [R.scopeOkta, R.other, R.unfiltered]).map((r) => r.id)).toEqual([
      R.scopeOkta.id,
      R.unfiltered.id,
    ]);
  });

  it('a stored rule that no longer parses matches nothing instead of throwing', () => {
    const broken = rule({ filter: { scope: 'prod' }, recipients: ['x'] });
    expect(recipientsFor(alert, [broken, R.scopeOkta])).toEqual(['@slack-okta-alerts', '@slack-okta']);
  });

  it('works on the event body as describe.ts stores it', () => {
    const body: Record<string, unknown> = {
      transition: 'Triggered',
      from: 'OK',
      to: 'Alert',
      cause: 'value',
      notify: true,
      monitor: { id: 7, name: 'Okta flow failures', priority: 2, tags: ['team:iam'] },
      group: { '@flow_name': 'Sync Users' },
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      message: 'failed @slack-okta-alerts',
      handles: ['@slack-okta-alerts'],
    };
    expect(recipientsFor(body, [R.cond, R.groupAttr])).toEqual([
      '@slack-okta-alerts',
      '@pagerduty-iam',
      '@webhook-sync',
    ]);
  });
});

describe("Datadog's routing example (notification_rules.md)", () => {
  // Rules (columns) and the monitors (rows) of the documented table, with the handles it says are notified.
  const rules = [
    rule({
      filter: { tags: ['team:shopist', 'service:web-store'] },
      recipients: ['slack-channel1', 'jira-project'],
    }),
    rule({ filter: { tags: ['team:shopist'] }, recipients: ['jira-project'] }),
    rule({ filter: { tags: ['service:web-store'] }, recipients: ['jira-project'] }),
    rule({ filter: { tags: ['service:web-store', 'env:prod'] }, recipients: ['user@datadoghq.com'] }),
    rule({ filter: { tags: ['service:web-store', 'env:dev'] }, recipients: ['jira-project'] }),
  ];
  const rows: [string[], string[], string[]][] = [
    [
      ['team:shopist', 'service:web-store'],
      ['@user@datadoghq.com'],
      ['@user@datadoghq.com', '@slack-channel1', '@jira-project'],
    ],
    [['team:shopist'], [], ['@jira-project']],
    [['service:web-store'], [], ['@jira-project']],
    [['service:web-store', 'env:prod'], [], ['@jira-project', '@user@datadoghq.com']],
    [['service:web-store', 'env:dev'], [], ['@jira-project']],
  ];
  it.each(rows)('monitor %j', (tags, handles, want) => {
    const got = recipientsFor({ to: 'Alert', from: 'OK', monitor: { tags }, group: {}, handles }, rules);
    expect(new Set(got)).toEqual(new Set(want));
    expect(got).toHaveLength(want.length);
  });
});

describe('handles', () => {
  it('normalises recipients to handle form', () => {
    expect(toHandle('slack-ops')).toBe('@slack-ops');
    expect(toHandle('@slack-ops')).toBe('@slack-ops');
    expect(toHandle('user@example.com')).toBe('@user@example.com');
  });
});

describe('rule validation', () => {
  const ok = { name: 'r', filter: { tags: ['team:iam'] }, recipients: ['slack-a'] };
  const problems = (body: unknown) => {
    try {
      parseRuleAttributes(body);
      return [];
    } catch (err) {
      if (err instanceof RuleValidationError) return err.problems;
      throw err;
    }
  };
  it('accepts the documented shapes', () => {
    expect(problems(ok)).toEqual([]);
    expect(
      problems({ ...ok, filter: { scope: 'service:(foo OR bar) AND team:test NOT environment:staging' } }),
    ).toEqual([]);
    expect(
      problems({
        name: 'c',
        filter: { tags: ['team:product', 'host:abc'] },
        conditional_recipients: {
          conditions: [
            { scope: 'transition_type:is_alert', recipients: ['slack-test-channel', 'jira-test'] },
            { scope: 'priority:p5', recipients: ['slack-payment'] },
            { scope: 'transition_type:"no data"', recipients: ['slack-payment'] },
            { scope: 'env:(prod OR staging)', recipients: ['slack-payment'] },
          ],
          fallback_recipients: ['slack-payment'],
        },
        bundle_config: { duration: 3600 },
      }),
    ).toEqual([]);
  });
  const bad: [string, unknown, RegExp][] = [
    [
      'recipients with conditional_recipients',
      {
        ...ok,
        conditional_recipients: { conditions: [{ scope: 'transition_type:is_alert', recipients: ['a'] }] },
      },
      /cannot be used with `conditional_recipients`/,
    ],
    [
      'neither recipients list',
      { name: 'r', filter: ok.filter },
      /one of `recipients` or `conditional_recipients` is required/,
    ],
    [
      'a leading @',
      { ...ok, recipients: ['@slack-a'] },
      /'data\.attributes\.recipients\.0' is invalid: "@slack-a" must not start with an '@'/,
    ],
    ['duplicate recipients', { ...ok, recipients: ['a', 'a'] }, /must be unique/],
    [
      '21 recipients',
      { ...ok, recipients: Array.from({ length: 21 }, (_, i) => `r${i}`) },
      /'data\.attributes\.recipients' is invalid: must have at most 20/,
    ],
    ['empty recipients', { ...ok, recipients: [] }, /at least 1/],
    ['name missing', { filter: ok.filter, recipients: ['a'] }, /'data\.attributes\.name' is invalid/],
    ['name too long', { ...ok, name: 'x'.repeat(1001) }, /at most 1000 character/],
    ['unknown attribute', { ...ok, color: 'red' }, /unknown field\(s\) color/],
    [
      'filter with both',
      { ...ok, filter: { tags: ['a:b'], scope: 'a:b' } },
      /'data\.attributes\.filter' is invalid/,
    ],
    [
      '21 filter tags',
      { ...ok, filter: { tags: Array.from({ length: 21 }, (_, i) => `k:${i}`) } },
      /at most 20/,
    ],
    [
      'keyless scope',
      { ...ok, filter: { scope: 'prod' } },
      /'data\.attributes\.filter\.scope' is invalid: keyless tags/,
    ],
    ['partial wildcard', { ...ok, filter: { scope: 'service:web-*' } }, /wildcards are only supported alone/],
    [
      'unknown transition type',
      {
        name: 'r',
        conditional_recipients: { conditions: [{ scope: 'transition_type:is_exploded', recipients: ['a'] }] },
      },
      /unknown transition_type "is_exploded"/,
    ],
    [
      'two keys in a condition',
      {
        name: 'r',
        conditional_recipients: { conditions: [{ scope: 'env:prod team:a', recipients: ['a'] }] },
      },
      /single tag key/,
    ],
    [
      'bad priority',
      { name: 'r', conditional_recipients: { conditions: [{ scope: 'priority:p9', recipients: ['a'] }] } },
      /unknown priority "p9"/,
    ],
    [
      '11 conditions',
      {
        name: 'r',
        conditional_recipients: {
          conditions: Array.from({ length: 11 }, () => ({ scope: 'env:a', recipients: ['a'] })),
        },
      },
      /at most 10/,
    ],
  ];
  it.each(bad)('rejects %s', (_name, body, re) => {
    const p = problems(body);
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(re);
  });
});
