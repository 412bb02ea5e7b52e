// Template engine tests, built from the examples in Datadog's docs (monitors/notify/variables,
// monitors/notify/_index, monitors/guide/template-variable-evaluation) plus hostile inputs.
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../domain/log-event.ts';
import {
  checkTemplate,
  extractHandles,
  formatGroup,
  renderMessage,
  renderMessageDetailed,
  renderTitle,
  type TemplateContext,
} from './template.ts';
import { parseEval, renderEval } from './template-eval.ts';
import { formatLocalTime, formatNumber, formatUtc, humanizeBytes } from './template-format.ts';

const A = Date.parse('2024-05-31T14:19:00Z');
const B = Date.parse('2024-05-31T14:27:00Z');

function log(over: Partial<LogEvent> = {}): LogEvent & { id?: string } {
  return {
    timestamp: Date.parse('2024-05-31T14:26:59.123Z'),
    received_at: Date.parse('2024-05-31T14:27:00Z'),
    status: 'error',
    service: 'okta',
    source: 'okta-workflows-els',
    host: 'acme.workflows.okta.com',
    message: 'Flow failed: Sync Users',
    tags: ['env:prod', 'team:iam', 'team:apps', 'dot.key.test:five'],
    trace_id: 'abc123',
    attributes: {
      flow_name: 'Sync Users',
      error: { message: 'HTTP 429 <Too Many> "Requests"', code: 429 },
      'error.kind': 'RateLimit',
      http: { status_code: 429 },
      duration: 1536,
      span_id: 'span-9',
      ok: true,
      list: [1, 2],
    },
    raw: null,
    dedup_key: null,
    id: 'log-1',
    ...over,
  };
}

type Over = Omit<Partial<TemplateContext>, 'transition'> & {
  transition?: Partial<TemplateContext['transition']>;
};

function ctx(over: Over = {}): TemplateContext {
  const { transition, ...rest } = over;
  return {
    transition: { name: 'Triggered', from: 'OK', to: 'Alert', ...transition },
    isRenotify: false,
    priority: null,
    monitor: { id: 42, name: 'Flow failures', query: 'logs("status:error").last("5m") > 2', tags: [] },
    value: 5,
    thresholds: { critical: 2, warning: 1, critical_recovery: 1.5, warning_recovery: 0.5 },
    comparator: '>',
    firstTriggeredAt: A,
    lastTriggeredAt: B,
    now: B,
    group: { '@flow_name': 'Sync Users', env: 'prod' },
    log: log(),
    logLink: 'https://flowwatch.example/logs?query=status%3Aerror&from_ts=1&to_ts=2',
    ...rest,
  };
}

const recovery: Over = { transition: { name: 'Recovered', from: 'Alert', to: 'OK' } };
const warn: Over = { transition: { name: 'Warn', from: 'OK', to: 'Warn' } };
const alertToWarn: Over = { transition: { name: 'Warn', from: 'Alert', to: 'Warn' } };
const warnRecovery: Over = { transition: { name: 'Recovered', from: 'Warn', to: 'OK' } };
const noData: Over = { transition: { name: 'No Data', from: 'Alert', to: 'No Data' }, log: undefined };
const noDataRecovery: Over = { transition: { name: 'Recovered', from: 'No Data', to: 'OK' }, log: undefined };
const renotify: Over = { transition: { name: 'Renotify', from: 'Alert', to: 'Alert' }, isRenotify: true };

const r = (t: string, over: Over = {}) => renderMessage(t, ctx(over));

describe('conditional variables (variables.md table)', () => {
  const cases: [string, Over, boolean][] = [
    ['is_alert', {}, true],
    ['is_alert', warn, false],
    ['is_alert', renotify, true],
    ['is_warning', warn, true],
    ['is_warning', {}, false],
    ['is_recovery', recovery, true],
    ['is_recovery', warnRecovery, true],
    ['is_recovery', noDataRecovery, true],
    ['is_recovery', {}, false],
    ['is_alert_recovery', recovery, true],
    ['is_alert_recovery', warnRecovery, false],
    ['is_warning_recovery', warnRecovery, true],
    ['is_warning_recovery', recovery, false],
    ['is_alert_to_warning', alertToWarn, true],
    ['is_alert_to_warning', warn, false],
    ['is_no_data', noData, true],
    ['is_no_data', {}, false],
    ['is_no_data_recovery', noDataRecovery, true],
    ['is_no_data_recovery', recovery, false],
    ['is_renotify', renotify, true],
    ['is_renotify', {}, false],
    ['is_unknown', {}, false],
  ];
  it.each(cases)('{{#%s}} (case %#)', (name, over, expected) => {
    expect(r(`{{#${name}}}yes{{/${name}}}`, over)).toBe(expected ? 'yes' : '');
    expect(r(`{{^${name}}}no{{/${name}}}`, over)).toBe(expected ? '' : 'no');
    expect(r(`{{#${name}}}yes{{else}}no{{/${name}}}`, over)).toBe(expected ? 'yes' : 'no');
  });

  it('is_alert example: text and @-notification only when alerting', () => {
    const t = '{{#is_alert}}\n  Flow failing @pagerduty-Okta\n{{/is_alert}}';
    expect(r(t)).toBe('Flow failing @pagerduty-Okta');
    expect(r(t, recovery)).toBe('');
  });

  it('text outside conditionals is sent on every transition', () => {
    const t = 'Always here.\n{{#is_alert}}alert{{/is_alert}}{{#is_recovery}}recovered{{/is_recovery}}';
    expect(r(t)).toBe('Always here.\nalert');
    expect(r(t, recovery)).toBe('Always here.\nrecovered');
  });

  it('is_priority compares with the monitor priority', () => {
    expect(r("{{#is_priority 'P1'}}page{{/is_priority}}", { priority: 1 })).toBe('page');
    expect(r("{{#is_priority 'P1'}}page{{/is_priority}}", { priority: 2 })).toBe('');
    expect(r("{{#is_priority 'P1'}}page{{/is_priority}}", { priority: null })).toBe('');
    expect(r("{{^is_priority 'P1'}}low{{/is_priority}}", { priority: 3 })).toBe('low');
    expect(r('{{#is_priority "p3"}}p3{{/is_priority}}', { priority: 3 })).toBe('p3');
  });
});

describe('is_match / is_exact_match (variables.md examples)', () => {
  const role = (v: string): Over => ({ group: { role: v } });
  it('substring match on a tag variable', () => {
    const t = '{{#is_match "role.name" "db"}}\n  DB host @db-team@company.com\n{{/is_match}}';
    expect(r(t, role('db_cassandra'))).toBe('DB host @db-team@company.com');
    expect(r(t, role('db_postgres'))).toBe('DB host @db-team@company.com');
    expect(r(t, role('web'))).toBe('');
  });
  it('matches any of several strings', () => {
    const t = '{{#is_match "role.name" "db" "database"}}yes{{/is_match}}';
    expect(r(t, role('main-database'))).toBe('yes');
    expect(r(t, role('cache'))).toBe('');
  });
  it('negation and else', () => {
    expect(r('{{^is_match "role.name" "db"}}not db @slack-example{{/is_match}}', role('web'))).toBe(
      'not db @slack-example',
    );
    const t = '{{#is_match "role.name" "db"}}db{{else}}other{{/is_match}}';
    expect(r(t, role('db1'))).toBe('db');
    expect(r(t, role('web'))).toBe('other');
  });
  it('an empty comparison string tests that the variable is not empty', () => {
    const t = '{{#is_match "role.name" ""}}has role{{else}}no role{{/is_match}}';
    expect(r(t, role('x'))).toBe('has role');
    expect(r(t, { group: {} })).toBe('no role');
  });
  it('a bare group key works as in the is_renotify example ("env")', () => {
    const t =
      '{{#is_renotify}}\n{{#is_match "env" "production"}}\n  escalation @dev-team@company.com\n{{/is_match}}\n{{/is_renotify}}';
    expect(r(t, { ...renotify, group: { env: 'production' } })).toBe('escalation @dev-team@company.com');
    expect(r(t, { ...renotify, group: { env: 'staging' } })).toBe('');
    expect(r(t, { group: { env: 'production' } })).toBe('');
  });
  it('facet group variables with @ and brackets', () => {
    expect(r('{{#is_match "@flow_name.name" "Sync"}}sync{{/is_match}}')).toBe('sync');
    const g: Over = { group: { '@network.client.ip': '10.0.0.1' } };
    expect(r('{{#is_match "[@network.client.ip].name" "10.0."}}private{{/is_match}}', g)).toBe('private');
  });
  it('matches log attributes too (with the docs caveat)', () => {
    expect(r('{{#is_match "log.attributes.error.message" "429"}}throttled{{/is_match}}')).toBe('throttled');
    expect(r('{{#is_match "log.attributes.error.message" "429"}}throttled{{/is_match}}', noData)).toBe('');
  });
  it('exact match on host.name', () => {
    const t = '{{#is_exact_match "host.name" "production"}}prod @dev-team@company.com{{/is_exact_match}}';
    expect(r(t, { group: { host: 'production' } })).toBe('prod @dev-team@company.com');
    expect(r(t, { group: { host: 'production-2' } })).toBe('');
  });
  it('exact match with several strings', () => {
    const t = '{{#is_exact_match "host.name" "production" "staging"}}known{{/is_exact_match}}';
    expect(r(t, { group: { host: 'staging' } })).toBe('known');
    expect(r(t, { group: { host: 'stag' } })).toBe('');
  });
  it('exact match on value compares numbers by value ("5" matches 5.0)', () => {
    const t = '{{#is_exact_match "value" "5"}}five @dev-team@company.com{{/is_exact_match}}';
    expect(r(t, { value: 5.0 })).toBe('five @dev-team@company.com');
    expect(r('{{#is_exact_match "value" "5.00"}}five{{/is_exact_match}}', { value: 5 })).toBe('five');
    expect(r(t, { value: 6 })).toBe('');
  });
  it('is_match on a number converts it to a string', () => {
    expect(r('{{#is_match "value" "12"}}yes{{/is_match}}', { value: 1234 })).toBe('yes');
  });
  it('is case-sensitive', () => {
    expect(r('{{#is_match "@flow_name.name" "sync"}}yes{{else}}no{{/is_match}}')).toBe('no');
  });
});

describe('nesting and whitespace', () => {
  it('nested blocks', () => {
    const t = '{{#is_alert}}A{{#is_priority "P1"}}-P1{{else}}-other{{/is_priority}}{{/is_alert}}';
    expect(r(t, { priority: 1 })).toBe('A-P1');
    expect(r(t, { priority: 2 })).toBe('A-other');
    expect(r(t, recovery)).toBe('');
  });
  it('the is_renotify escalation example renders only the generic part and the escalation', () => {
    const t = [
      '{{^is_renotify}}',
      'This monitor is alerting and sending a first message @dev-team@company.com',
      '',
      'To solve this monitor follow the steps:',
      '1. Go there',
      '2. Do this',
      '{{/is_renotify}}',
      '',
      'This part is generic and sent both for the first trigger and the escalation message.',
      '',
      '{{#is_renotify}}',
      '  This is the escalation message @dev-team@company.com',
      '{{/is_renotify}}',
      '',
    ].join('\n');
    expect(r(t, renotify)).toBe(
      'This part is generic and sent both for the first trigger and the escalation message.\n\n' +
        '  This is the escalation message @dev-team@company.com',
    );
    const first = r(t);
    expect(first).toContain('sending a first message');
    expect(first).not.toContain('escalation message @');
  });
  it('block tags alone on a line leave no blank line', () => {
    expect(r('a\n{{#is_alert}}\nb\n{{/is_alert}}\nc')).toBe('a\nb\nc');
    expect(r('a\n{{#is_recovery}}\nb\n{{/is_recovery}}\nc')).toBe('a\nc');
    expect(r('a\n  {{#is_alert}}  \nb\n{{else}}\nx\n{{/is_alert}}\nc')).toBe('a\nb\nc');
  });
  it('inline block tags keep surrounding text', () => {
    expect(r('x {{#is_alert}}y{{/is_alert}} z')).toBe('x y z');
  });
});

describe('template variables', () => {
  it('value, thresholds and comparator', () => {
    expect(r('{{value}} {{comparator}} {{threshold}} (warn {{warn_threshold}})')).toBe('5 > 2 (warn 1)');
    expect(r('{{alert_recovery_threshold}}/{{warn_recovery_threshold}}')).toBe('1.5/0.5');
  });
  it('numbers: 5.0 renders 5, float noise is removed, decimals kept', () => {
    expect(r('{{value}}', { value: 5.0 })).toBe('5');
    expect(r('{{value}}', { value: 0.1 + 0.2 })).toBe('0.3');
    expect(r('{{value}}', { value: 12.345 })).toBe('12.345');
    expect(r('{{value}}', { value: -3 })).toBe('-3');
  });
  it('missing values render empty', () => {
    expect(
      r('[{{value}}][{{warn_threshold}}][{{ok_threshold}}]', { value: null, thresholds: { critical: 2 } }),
    ).toBe('[][][]');
    expect(r('[{{nope}}][{{log.attributes.missing}}][{{foo.name}}]')).toBe('[][][]');
  });
  it('triggered times (UTC) and epochs', () => {
    expect(r('{{first_triggered_at}} | {{last_triggered_at}}')).toBe(
      '2024-05-31 14:19:00 UTC | 2024-05-31 14:27:00 UTC',
    );
    expect(r('{{first_triggered_at_epoch}} {{last_triggered_at_epoch}}')).toBe(`${A} ${B}`);
    expect(
      r('{{first_triggered_at}}{{last_triggered_at_epoch}}', {
        firstTriggeredAt: null,
        lastTriggeredAt: null,
      }),
    ).toBe('');
  });
  it('triggered_duration_sec follows the docs table (OK→WARN 0, WARN→ALERT B−A, NO DATA→OK D−A)', () => {
    expect(
      r('{{triggered_duration_sec}}', { ...warn, firstTriggeredAt: A, lastTriggeredAt: A, now: A }),
    ).toBe('0');
    expect(r('{{triggered_duration_sec}}', { firstTriggeredAt: A, lastTriggeredAt: B, now: B })).toBe('480');
    const D = B + 22 * 60_000 + 500;
    expect(r('{{triggered_duration_sec}}', { ...noDataRecovery, now: D })).toBe(
      String(Math.floor((D - A) / 1000)),
    );
    expect(r('{{triggered_duration_sec}}', { firstTriggeredAt: null })).toBe('');
  });
});

describe('group (multi alert) variables', () => {
  it('facet group-by uses @: {{@flow_name.name}}', () => {
    expect(r('Flow {{@flow_name.name}} in {{env.name}}')).toBe('Flow Sync Users in prod');
    expect(r('This alert was triggered on {{ @machine_id.name }}', { group: { '@machine_id': 'm-1' } })).toBe(
      'This alert was triggered on m-1',
    );
  });
  it('facets and tag keys with periods use brackets', () => {
    expect(r('{{ [@network.client.ip].name }}', { group: { '@network.client.ip': '1.2.3.4' } })).toBe(
      '1.2.3.4',
    );
    expect(r('{{[dot.key.test].name}}', { group: { 'dot.key.test': 'five' } })).toBe('five');
    expect(r('{{@http.status_code.name}}', { group: { '@http.status_code': '429' } })).toBe('429');
  });
  it('a facet is not found without its @', () => {
    expect(r('[{{flow_name.name}}]')).toBe('[]');
  });
  it('dynamic handles: @slack-{{service.name}}', () => {
    const out = r('@slack-{{service.name}} There is an ongoing issue with {{service.name}}.', {
      group: { service: 'ad-server' },
    });
    expect(out).toBe('@slack-ad-server There is an ongoing issue with ad-server.');
    expect(extractHandles(out)).toEqual(['@slack-ad-server']);
  });
  it('dynamic links', () => {
    expect(
      r('https://app.datadoghq.com/monitors/manage?q=scope:host:{{host.name}}', { group: { host: 'h1' } }),
    ).toBe('https://app.datadoghq.com/monitors/manage?q=scope:host:h1');
  });
});

describe('matching log variables', () => {
  it('reserved attributes', () => {
    expect(
      r('{{log.message}}|{{log.service}}|{{log.status}}|{{log.source}}|{{log.host}}|{{log.trace_id}}'),
    ).toBe('Flow failed: Sync Users|okta|error|okta-workflows-els|acme.workflows.okta.com|abc123');
    expect(r('{{log.timestamp}}')).toBe('2024-05-31T14:26:59.123Z');
    expect(r('{{log.span_id}} {{log.id}}')).toBe('span-9 log-1');
  });
  it('{{log.link}} is the explorer link, even without a log', () => {
    const link = ctx().logLink;
    expect(r('{{{log.link}}}')).toBe(link);
    expect(r('{{{log.link}}}', noData)).toBe(link);
  });
  it('attributes: plain, bracketed dotted key, nested walk, numbers, booleans, objects', () => {
    expect(r('{{log.attributes.flow_name}}')).toBe('Sync Users');
    expect(r('{{log.attributes.[error.kind]}}')).toBe('RateLimit');
    expect(r('{{{log.attributes.[error.message]}}}')).toBe('HTTP 429 <Too Many> "Requests"');
    expect(r('{{{log.attributes.error.message}}}')).toBe('HTTP 429 <Too Many> "Requests"');
    expect(r('{{log.attributes.http.status_code}} {{log.attributes.duration}} {{log.attributes.ok}}')).toBe(
      '429 1536 true',
    );
    expect(r('{{{log.attributes.list}}} {{{log.attributes.http}}}')).toBe('[1,2] {"status_code":429}');
  });
  it('a flat dotted attribute key is found with or without brackets', () => {
    const l = log({ attributes: { 'error.message': 'flat' } });
    expect(r('{{log.attributes.[error.message]}} {{log.attributes.error.message}}', { log: l })).toBe(
      'flat flat',
    );
  });
  it('log.tags.key renders the tag value (several values comma-separated, sorted)', () => {
    expect(r('{{ log.tags.env }}')).toBe('prod');
    expect(r('{{log.tags.team}}')).toBe('apps,iam');
    expect(r('{{log.tags.[dot.key.test]}}')).toBe('five');
    expect(r('[{{log.tags.missing}}]')).toBe('[]');
  });
  it('other log.x names are looked up as attributes (facets)', () => {
    expect(r('{{log.flow_name}}')).toBe('Sync Users');
  });
  it('no log (no-data): every log variable is empty', () => {
    expect(r('[{{log.message}}][{{log.attributes.flow_name}}][{{log.tags.env}}]', noData)).toBe('[][][]');
  });
  it('prototype names are not reachable', () => {
    expect(r('[{{log.attributes.__proto__}}][{{log.attributes.constructor}}][{{constructor.name}}]')).toBe(
      '[][][]',
    );
  });
});

describe('escaping', () => {
  it('variable content is HTML-escaped by default, not with triple braces', () => {
    expect(r('{{log.attributes.error.message}}')).toBe('HTTP 429 &lt;Too Many&gt; &quot;Requests&quot;');
    expect(r('{{{log.attributes.error.message}}}')).toBe('HTTP 429 <Too Many> "Requests"');
    expect(r('{{& log.attributes.error.message}}')).toBe('HTTP 429 <Too Many> "Requests"');
  });
  it("escapes & ' and ` too, never the template's own text", () => {
    expect(r('<b>{{@flow_name.name}}</b>', { group: { '@flow_name': "Tom & Jerry's `x`" } })).toBe(
      '<b>Tom &amp; Jerry&#x27;s &#x60;x&#x60;</b>',
    );
  });
  it('built-in variables are not escaped: {{comparator}} stays ">="', () => {
    expect(r('{{value}} {{comparator}} {{threshold}}', { comparator: '>=' })).toBe('5 >= 2');
  });
  it('{{log.link}} with double braces escapes & in the query string', () => {
    expect(r('{{log.link}}')).toBe(ctx().logLink.replaceAll('&', '&amp;'));
  });
});

describe('eval (template-variable-evaluation guide)', () => {
  it('last_triggered_at_epoch-15*60*1000', () => {
    expect(r('{{eval "last_triggered_at_epoch-15*60*1000"}}')).toBe(String(B - 15 * 60 * 1000));
  });
  it('time-scoped log explorer link', () => {
    const t =
      'https://app.datadoghq.com/logs?from_ts={{eval "last_triggered_at_epoch-10*60*1000"}}&to_ts={{eval "last_triggered_at_epoch+10*60*1000"}}&live=false';
    expect(r(t)).toBe(`https://app.datadoghq.com/logs?from_ts=${B - 600000}&to_ts=${B + 600000}&live=false`);
  });
  it('operators and precedence', () => {
    expect(r('{{eval "value+1-2*3/4"}}', { value: 5 })).toBe('4.5');
    expect(r('{{eval "2^10"}} {{eval "7%3"}} {{eval "-7%3"}} {{eval "(1+2)*3"}} {{eval "-2^2"}}')).toBe(
      '1024 1 2 9 -4',
    );
    expect(r('{{eval "2^3^2"}}')).toBe('512');
  });
  it('int, trunc, dec, float', () => {
    expect(r('{{eval "int(value)"}} {{eval "trunc(value)"}} {{eval "dec(value)"}}', { value: 12.345 })).toBe(
      '12 12 0.345',
    );
    expect(r('{{eval "float(value)"}}', { value: 5 })).toBe('5.0');
    expect(r('{{eval "float(value)"}}', { value: 5.25 })).toBe('5.25');
  });
  it('rounding and sign', () => {
    expect(r('{{eval "round(value)"}} {{eval "ceil(value)"}} {{eval "floor(value)"}}', { value: 2.5 })).toBe(
      '3 3 2',
    );
    expect(r('{{eval "round(value)"}}', { value: -2.5 })).toBe('-3');
    expect(r('{{eval "sgn(value)"}} {{eval "sgn(0)"}} {{eval "abs(value)"}}', { value: -4 })).toBe('-1 0 4');
    expect(r('{{eval "to_bool(1)"}} {{eval "to_bool(0)"}}')).toBe('true false');
  });
  it('math functions', () => {
    expect(r('{{eval "log10(1000)"}} {{eval "exp(0)"}} {{eval "atan2(1, 1)*4"}}')).toBe(
      `3.0 1.0 ${formatNumber(Math.PI)}`,
    );
    expect(r('{{eval "sin(0)"}} {{eval "cos(0)"}}')).toBe('0.0 1.0');
  });
  it('humanize_bytes / humanize_bits', () => {
    expect(r('{{eval "humanize_bytes(value)"}}', { value: 1536 })).toBe('1.5 KiB');
    expect(r('{{eval "humanize_bytes(value)"}}', { value: 3 * 1024 ** 3 })).toBe('3 GiB');
    expect(r('{{eval "humanize_bits(value)"}}', { value: 512 })).toBe('512 b');
    expect(humanizeBytes(1024 ** 7)).toBe('1024 EiB');
  });
  it('group and log values that are numbers can be used', () => {
    expect(r('{{eval "@http.status_code.name+1"}}', { group: { '@http.status_code': '429' } })).toBe('430');
    expect(r('{{eval "log.attributes.duration/1024"}}')).toBe('1.5');
  });
  it('invalid, missing or non-numeric → empty', () => {
    expect(r('[{{eval "value/0"}}][{{eval "nope+1"}}][{{eval "1+"}}][{{eval "foo(1)"}}]')).toBe('[][][][]');
    expect(r('[{{eval "log10(-1)"}}][{{eval "@flow_name.name*2"}}]')).toBe('[][]');
    expect(r('[{{eval "value"}}]', { value: null })).toBe('[]');
  });
  it('is its own parser: no JavaScript is evaluated', () => {
    expect(renderEval('constructor.constructor("return 1")()', () => undefined)).toBe('');
    expect(renderEval('process.exit(1)', () => undefined)).toBe('');
    expect(parseEval('1;2')).toHaveProperty('error');
  });
  it('deep parentheses do not overflow', () => {
    expect(renderEval(`${'('.repeat(500)}1${')'.repeat(500)}`, () => undefined)).toBe('');
    expect(renderEval(`${'('.repeat(20)}1${')'.repeat(20)}`, () => undefined)).toBe('1');
    expect(renderEval(`${'-'.repeat(1000)}1`, () => undefined)).toBe('');
  });
});

describe('local_time', () => {
  it("{{local_time 'last_triggered_at' 'Asia/Tokyo'}} → yyyy-MM-dd HH:mm:ss±HH:mm", () => {
    expect(
      r("{{local_time 'last_triggered_at' 'Asia/Tokyo'}}", {
        lastTriggeredAt: Date.parse('2021-05-31T14:43:27Z'),
      }),
    ).toBe('2021-05-31 23:43:27+09:00');
  });
  it('handles DST and negative offsets', () => {
    expect(r("{{local_time 'last_triggered_at' 'Europe/Paris'}}")).toBe('2024-05-31 16:27:00+02:00');
    expect(
      r("{{local_time 'first_triggered_at' 'Europe/Paris'}}", {
        firstTriggeredAt: Date.parse('2024-01-15T12:00:00Z'),
      }),
    ).toBe('2024-01-15 13:00:00+01:00');
    expect(formatLocalTime(Date.parse('2024-01-15T12:00:00Z'), 'America/New_York')).toBe(
      '2024-01-15 07:00:00-05:00',
    );
    expect(formatLocalTime(Date.parse('2024-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe(
      '2024-01-15 17:30:00+05:30',
    );
    expect(formatLocalTime(Date.parse('2024-01-15T00:30:00Z'), 'UTC')).toBe('2024-01-15 00:30:00+00:00');
  });
  it('unknown zone or missing time → empty', () => {
    expect(r("[{{local_time 'last_triggered_at' 'Mars/Olympus'}}]")).toBe('[]');
    expect(r("[{{local_time 'last_triggered_at' 'UTC'}}]", { lastTriggeredAt: null })).toBe('[]');
    expect(r("[{{local_time 'value' 'UTC'}}]")).toBe('[]');
  });
  it('log.timestamp works too', () => {
    expect(r("{{local_time 'log.timestamp' 'UTC'}}")).toBe('2024-05-31 14:26:59+00:00');
  });
});

describe('urlencode, comments, raw, override_priority', () => {
  it('urlencode a variable (Service Catalog example)', () => {
    expect(
      r('https://app.datadoghq.com/services/{{urlencode "service.name"}}', {
        group: { service: 'my svc/a&b' },
      }),
    ).toBe('https://app.datadoghq.com/services/my%20svc%2Fa%26b');
    expect(r('q={{ urlencode "@flow_name.name"}}')).toBe('q=Sync%20Users');
    expect(r('[{{urlencode "missing.name"}}]')).toBe('[]');
  });
  it('comments render nothing', () => {
    expect(r('a{{!-- this is a comment --}}b')).toBe('ab');
    expect(r('a{{!-- this is a comment }}b')).toBe('ab');
    expect(r('a{{! short }}b')).toBe('ab');
    expect(r('a{{!-- has }} inside --}}b')).toBe('ab');
    expect(r('line1\n{{!-- comment line --}}\nline2')).toBe('line1\nline2');
  });
  it('raw blocks output double braces verbatim', () => {
    expect(r('{{{{raw}}}}\n{{ <TEXT_1> }} {{ <TEXT_2> }}\n{{{{/raw}}}}')).toBe(
      '{{ <TEXT_1> }} {{ <TEXT_2> }}',
    );
    expect(r('x {{{{raw}}}}{{#is_alert}}{{{{/raw}}}} y')).toBe('x {{#is_alert}} y');
  });
  it('raw is_match block (docs example)', () => {
    const t = '{{{{is_match "host.name" "web"}}}}\n{{ .matched }} the host name\n{{{{/is_match}}}}';
    expect(r(t, { group: { host: 'web-1' } })).toBe('{{ .matched }} the host name');
    expect(r(t, { group: { host: 'db-1' } })).toBe('');
  });
  it('override_priority renders nothing and is reported', () => {
    const t =
      "{{#is_alert}}\n{{override_priority 'P1'}}\nalert\n{{/is_alert}}\n{{#is_warning}}\n{{override_priority 'P4'}}\nwarn\n{{/is_warning}}";
    expect(renderMessageDetailed(t, ctx())).toEqual({ text: 'alert', overridePriority: 1 });
    expect(renderMessageDetailed(t, ctx(warn))).toEqual({ text: 'warn', overridePriority: 4 });
    expect(renderMessageDetailed(t, ctx(recovery))).toEqual({ text: '', overridePriority: null });
  });
});

describe('titles (§4.7)', () => {
  it('priority, transition and sorted group', () => {
    expect(renderTitle('Flow failures', ctx({ priority: 1 }), true)).toBe(
      '[P1] [Triggered on {@flow_name:Sync Users,env:prod}] Flow failures',
    );
  });
  it('without priority, without tags, without groups', () => {
    expect(renderTitle('STOP', ctx(), false)).toBe('[Triggered] STOP');
    expect(renderTitle('STOP', ctx({ group: {} }), true)).toBe('[Triggered] STOP');
    expect(renderTitle('STOP', ctx({ group: { host: 'abc' }, priority: 1 }), true)).toBe(
      '[P1] [Triggered on {host:abc}] STOP',
    );
  });
  it('each transition word', () => {
    const t = (o: Over) => renderTitle('M', ctx({ group: { host: 'h1' }, ...o }), true);
    expect(t(recovery)).toBe('[Recovered on {host:h1}] M');
    expect(t(warn)).toBe('[Warn on {host:h1}] M');
    expect(t(noData)).toBe('[No Data on {host:h1}] M');
    expect(t({ transition: { name: 'Re-Triggered', from: 'Warn', to: 'Alert' } })).toBe(
      '[Re-Triggered on {host:h1}] M',
    );
    expect(t({ transition: { name: 'Re-Warn', from: 'Alert', to: 'Warn' } })).toBe(
      '[Re-Warn on {host:h1}] M',
    );
    expect(t(renotify)).toBe('[Re-Triggered on {host:h1}] M');
    expect(t({ ...renotify, transition: { name: 'Renotify', from: 'No Data', to: 'No Data' } })).toBe(
      '[Re-No Data on {host:h1}] M',
    );
  });
  it('the name is a template', () => {
    expect(
      renderTitle(
        '{{@flow_name.name}} failed {{value}} times{{#is_recovery}} (ok){{/is_recovery}}',
        ctx(),
        false,
      ),
    ).toBe('[Triggered] Sync Users failed 5 times');
    expect(renderTitle('a\n{{#is_alert}}\nb\n{{/is_alert}}', ctx(), false)).toBe('[Triggered] a b');
  });
  it('groups sort by key in code-point order (@ facets first)', () => {
    expect(formatGroup({ service: 's', '@flow_name': 'f', env: 'e', Zed: 'z' })).toBe(
      '{@flow_name:f,Zed:z,env:e,service:s}',
    );
  });
  it('ignores out-of-range priorities', () => {
    expect(renderTitle('M', ctx({ priority: 9, group: {} }), true)).toBe('[Triggered] M');
  });
});

describe('extractHandles (§4.6)', () => {
  it('finds every kind of handle, in order, deduplicated', () => {
    const text =
      '@slack-ops Disk low @pagerduty-Okta\n@webhook-x and @user@example.com, @teams-Alerts @opsgenie-IAM @slack-ops';
    expect(extractHandles(text)).toEqual([
      '@slack-ops',
      '@pagerduty-Okta',
      '@webhook-x',
      '@user@example.com',
      '@teams-Alerts',
      '@opsgenie-IAM',
    ]);
  });
  it('requires whitespace or line start before @', () => {
    expect(extractHandles('mail me:foo@example.com x@slack-no\n@slack-yes')).toEqual(['@slack-yes']);
    expect(extractHandles('Disk space is low @ops-team@company.com')).toEqual(['@ops-team@company.com']);
  });
  it('strips sentence punctuation; ignores parentheses except workflows', () => {
    expect(extractHandles('ping @slack-ops. then @webhook-x!')).toEqual(['@slack-ops', '@webhook-x']);
    expect(
      extractHandles('see @slack-a(b) and @workflow-my-workflow(hostname=host.name, env=prod) now'),
    ).toEqual(['@workflow-my-workflow(hostname=host.name, env=prod)']);
    expect(extractHandles('@ alone @@x @-x')).toEqual([]);
  });
  it('handles inside a rendered conditional only appear when the condition holds', () => {
    const t =
      '{{#is_alert}}@pagerduty-Okta{{/is_alert}}{{#is_recovery}}@pagerduty-Okta resolved{{/is_recovery}} @slack-ops';
    expect(extractHandles(r(t))).toEqual(['@pagerduty-Okta', '@slack-ops']);
    expect(extractHandles(r(t, warn))).toEqual(['@slack-ops']);
  });
});

describe('checkTemplate', () => {
  it('accepts every documented form', () => {
    const ok = [
      '{{#is_alert}}a @x{{else}}b{{/is_alert}}{{^is_warning}}c{{/is_warning}}',
      '{{#is_match "role.name" "db" "database"}}x{{/is_match}}',
      '{{#is_exact_match "value" "5"}}x{{/is_exact_match}}',
      "{{#is_priority 'P1'}}x{{/is_priority}}",
      '{{value}} {{@flow_name.name}} {{[@network.client.ip].name}} {{log.attributes.[error.message]}}',
      '{{eval "last_triggered_at_epoch-15*60*1000"}} {{eval "humanize_bytes(value)"}} {{eval "atan2(1, 2)"}}',
      "{{local_time 'last_triggered_at' 'Asia/Tokyo'}}",
      '{{urlencode "service.name"}} {{!-- c --}} {{! c }} {{{{raw}}}}{{x}}{{{{/raw}}}}',
      "{{#is_alert}}{{override_priority 'P1'}}{{/is_alert}}",
      '{{{{is_match "host.name" "h"}}}}{{ .matched }}{{{{/is_match}}}}',
      '{{#is_renotify}}\n{{#is_match "env" "production"}}x{{/is_match}}\n{{/is_renotify}}',
    ];
    for (const t of ok) expect(checkTemplate(t), t).toEqual([]);
  });
  it('reports unbalanced blocks', () => {
    expect(checkTemplate('{{#is_alert}}x')).toEqual(['{{#is_alert}} is never closed (line 1)']);
    expect(checkTemplate('x\n{{/is_alert}}')).toEqual(['{{/is_alert}} closes no open block (line 2)']);
    expect(checkTemplate('{{#is_alert}}{{#is_warning}}x{{/is_alert}}')).toEqual([
      '{{#is_warning}} is not closed before {{/is_alert}} (line 1)',
    ]);
    expect(checkTemplate('{{else}}')).toEqual(['{{else}} outside a block (line 1)']);
    expect(checkTemplate('{{#is_alert}}a{{else}}b{{else}}c{{/is_alert}}')).toHaveLength(1);
  });
  it('reports unknown blocks and helpers', () => {
    expect(checkTemplate('{{#each items}}x{{/each}}')).toEqual(['unknown block {{#each}} (line 1)']);
    expect(checkTemplate('{{#is_alrt}}x{{/is_alrt}}')).toEqual(['unknown block {{#is_alrt}} (line 1)']);
    expect(checkTemplate('{{lookup "a" "b"}}')[0]).toContain('unknown helper lookup');
    expect(checkTemplate('{{> partial}}')[0]).toContain('partials are not supported');
  });
  it('reports bad is_match / is_exact_match / is_priority arguments', () => {
    expect(checkTemplate('{{#is_match "role.name"}}x{{/is_match}}')[0]).toContain('at least one string');
    expect(checkTemplate('{{#is_match role.name "db"}}x{{/is_match}}')[0]).toContain('quoted strings');
    expect(checkTemplate('{{#is_match "" "db"}}x{{/is_match}}')[0]).toContain('names no variable');
    expect(checkTemplate('{{#is_exact_match "host.name" "a}}x{{/is_exact_match}}')[0]).toContain(
      'unterminated string',
    );
    expect(checkTemplate("{{#is_priority 'P9'}}x{{/is_priority}}")[0]).toContain("'P1' to 'P5'");
    expect(checkTemplate('{{#is_alert "x"}}x{{/is_alert}}')[0]).toContain('takes no arguments');
  });
  it('reports bad eval, local_time, urlencode, override_priority', () => {
    expect(checkTemplate('{{eval "value+"}}')[0]).toContain('unexpected end');
    expect(checkTemplate('{{eval "nope(value)"}}')[0]).toContain('unknown function nope()');
    expect(checkTemplate('{{eval "atan2(value)"}}')[0]).toContain('takes 2 arguments');
    expect(checkTemplate('{{eval value}}')[0]).toContain('one quoted expression');
    expect(checkTemplate("{{local_time 'last_triggered_at' 'Nowhere/City'}}")[0]).toContain(
      'unknown time zone',
    );
    expect(checkTemplate("{{local_time 'value' 'UTC'}}")[0]).toContain('not a time variable');
    expect(checkTemplate('{{urlencode}}')[0]).toContain('one variable name');
    expect(checkTemplate("{{override_priority 'high'}}")[0]).toContain("'P1' to 'P5'");
  });
  it('reports unterminated tags, comments and raw blocks', () => {
    expect(checkTemplate('a {{value')[0]).toContain('unterminated {{');
    expect(checkTemplate('a {{!-- no end')[0]).toContain('unterminated comment');
    expect(checkTemplate('{{{{raw}}}} x')[0]).toContain('never closed');
    expect(checkTemplate('{{}}')[0]).toContain('empty tag');
  });
  it('numbers lines', () => {
    expect(checkTemplate('a\nb\n\n{{#is_nope}}{{/is_nope}}')).toEqual([
      'unknown block {{#is_nope}} (line 4)',
    ]);
  });
});

describe('hostile templates', () => {
  it('degrades gracefully: unclosed blocks run to the end, stray closes are ignored', () => {
    expect(r('a{{#is_alert}}b')).toBe('ab');
    expect(r('a{{#is_recovery}}b')).toBe('a');
    expect(r('a{{/is_alert}}b')).toBe('ab');
    expect(r('a {{value')).toBe('a {{value');
    expect(r('{{#is_alert}}{{#is_warning}}x{{/is_alert}}y')).toBe('y');
  });
  it('deep nesting is bounded and never overflows the stack', () => {
    const n = 20_000;
    const t = `${'{{#is_alert}}'.repeat(n)}deep${'{{/is_alert}}'.repeat(n)}`;
    const started = Date.now();
    expect(r(t)).toBe('');
    expect(checkTemplate(t)[0]).toContain('nested deeper than 50');
    const shallow = `${'{{#is_alert}}'.repeat(50)}ok${'{{/is_alert}}'.repeat(50)}`;
    expect(r(shallow)).toBe('ok');
    expect(Date.now() - started).toBeLessThan(5000);
  });
  it('many stray closes and unclosed opens stay fast', () => {
    const started = Date.now();
    const t = `${'{{#is_alert}}'.repeat(20_000)}${'{{/nope}}'.repeat(20_000)}{{{{raw}}}}${'{{'.repeat(20_000)}`;
    expect(typeof r(t)).toBe('string');
    expect(checkTemplate(t).length).toBeLessThanOrEqual(51);
    expect(Date.now() - started).toBeLessThan(5000);
  });
  it('output is capped', () => {
    const big = 'x'.repeat(100_000);
    const out = r('{{{log.message}}}'.repeat(50), { log: log({ message: big }) });
    expect(out.length).toBe(1_000_000);
  });
  it('unknown blocks act as Mustache sections over a variable', () => {
    expect(r('{{#log.attributes.flow_name}}has flow{{/log.attributes.flow_name}}')).toBe('has flow');
    expect(r('{{#log.attributes.nope}}x{{else}}none{{/log.attributes.nope}}')).toBe('none');
  });
  it('garbage never throws', () => {
    const junk = [
      '{{',
      '}}',
      '{{{',
      '}}}}',
      '{{#',
      '{{/',
      '{{^}}',
      '{{else}}',
      '"',
      "'",
      '[',
      '{{!',
      '{{{{',
      '@',
      '\n',
    ];
    let seed = 7;
    for (let i = 0; i < 300; i++) {
      let t = '';
      for (let j = 0; j < 30; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        t += junk[seed % junk.length];
      }
      expect(() => renderMessage(t, ctx())).not.toThrow();
      expect(() => checkTemplate(t)).not.toThrow();
      expect(() => renderTitle(t, ctx(), true)).not.toThrow();
    }
  });
});

describe('format helpers', () => {
  it('formatUtc and formatNumber', () => {
    expect(formatUtc(Date.parse('2021-05-31T14:43:27.999Z'))).toBe('2021-05-31 14:43:27 UTC');
    expect(formatNumber(1e21)).toBe('1e+21');
    expect(formatNumber(Number.NaN)).toBe('');
    expect(formatNumber(-0)).toBe('0');
  });
});
