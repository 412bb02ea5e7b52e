import { describe, expect, it } from 'vitest';
import type { Json, LogEvent } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import { PipelineEngine } from '../engine.ts';
import { compileGrok } from '../grok/compile.ts';
import { type Pipeline, PipelineValidationError, parsePipelineInput } from '../model.ts';

const NOW = Date.UTC(2026, 10, 27, 3, 0, 0);

function pipeline(processor: Record<string, unknown>): Pipeline {
  return {
    ...parsePipelineInput({ name: 'p', is_enabled: true, processors: [processor] }),
    id: 'x',
    type: 'pipeline',
    is_read_only: false,
  };
}

/** Runs one grok parser over a message; returns the log's attributes. */
function parse(
  message: string,
  matchRules: string,
  opts: { support?: string; now?: number; source?: string; attributes?: Record<string, Json> } = {},
): Record<string, Json> {
  const e = makeLog({ message, attributes: opts.attributes ?? {} });
  const p = pipeline({
    type: 'grok-parser',
    is_enabled: true,
    source: opts.source ?? 'message',
    grok: { match_rules: matchRules, support_rules: opts.support ?? '' },
  });
  new PipelineEngine([p]).process([e], opts.now ?? NOW);
  return e.attributes;
}

/** Validation problems of a grok parser, or [] when it is valid. */
function problems(processor: Record<string, unknown>): string[] {
  try {
    parsePipelineInput({ name: 'p', processors: [{ type: 'grok-parser', ...processor }] });
    return [];
  } catch (e) {
    if (e instanceof PipelineValidationError) return e.problems;
    throw e;
  }
}

function ruleError(match: string, support = ''): string {
  const p = problems({ grok: { match_rules: match, support_rules: support } });
  expect(p).toHaveLength(1);
  return p[0] as string;
}

describe('grok-parser: Datadog documentation examples', () => {
  it('parses the introduction example', () => {
    expect(
      parse(
        'john connected on 11/08/2017',
        'MyParsingRule %{word:user} connected on %{date("MM/dd/yyyy"):date}',
      ),
    ).toEqual({ user: 'john', date: Date.UTC(2017, 10, 8) });
  });

  it('uses helper (support) rules', () => {
    const support = [
      'user %{word:user.name} id:%{integer:user.id}',
      'connection connected on %{date("MM/dd/yyyy"):connect_date}',
      'server on server %{notSpace:server.name} in %{notSpace:server.env}',
    ].join('\n');
    expect(
      parse(
        'john id:12345 connected on 11/08/2017 on server XYZ in production',
        'MyParsingRule %{user} %{connection} %{server}',
        { support },
      ),
    ).toEqual({
      user: { name: 'john', id: 12345 },
      connect_date: Date.UTC(2017, 10, 8),
      server: { name: 'XYZ', env: 'production' },
    });
  });

  it('parses key=value logs with %{data::keyvalue}, at the root or under an extract name', () => {
    const log = 'user=john connect_date=11/08/2017 id=123 action=click';
    expect(parse(log, 'rule %{data::keyvalue}')).toMatchObject({ user: 'john', id: 123, action: 'click' });
    expect(parse(log, 'rule %{data:my_attribute:keyvalue}')).toMatchObject({
      my_attribute: { user: 'john', id: 123, action: 'click' },
    });
  });

  it('takes another key/value separator', () => {
    expect(
      parse('user: john connect_date: 11/08/2017 id: 123 action: click', 'rule %{data::keyvalue(": ")}'),
    ).toMatchObject({ user: 'john', id: 123, action: 'click' });
  });

  it('keeps whitelisted characters in values', () => {
    expect(
      parse('url=https://app.datadoghq.com/event/stream user=john', 'rule %{data::keyvalue("=","/:")}'),
    ).toEqual({ url: 'https://app.datadoghq.com/event/stream', user: 'john' });
  });

  it.each([
    ['key=valueStr', '%{data::keyvalue}', { key: 'valueStr' }],
    ['key=<valueStr>', '%{data::keyvalue}', { key: 'valueStr' }],
    ['"key"="valueStr"', '%{data::keyvalue}', { key: 'valueStr' }],
    ['key:valueStr', '%{data::keyvalue(":")}', { key: 'valueStr' }],
    ['key:"/valueStr"', '%{data::keyvalue(":", "/")}', { key: '/valueStr' }],
    ['/key:/valueStr', '%{data::keyvalue(":", "/")}', { '/key': '/valueStr' }],
    ['key:={valueStr}', '%{data::keyvalue(":=", "", "{}")}', { key: 'valueStr' }],
    ['key1=value1|key2=value2', '%{data::keyvalue("=", "", "", "|")}', { key1: 'value1', key2: 'value2' }],
    [
      'key1="value1"|key2="value2"',
      '%{data::keyvalue("=", "", "", "|")}',
      { key1: 'value1', key2: 'value2' },
    ],
    [
      'key1:=valueStr key2:=</valueStr2> key3:="valueStr3"',
      '%{data::keyvalue(":=","","<>")}',
      { key1: 'valueStr', key2: '/valueStr2' },
    ],
    ['a= b=null c=ok', '%{data::keyvalue}', { c: 'ok' }],
    ['key:=valueStr', '%{data::keyvalue("=")}', {}],
  ])('keyvalue: %s with %s', (log, rule, expected) => {
    expect(parse(log, `rule ${rule}`)).toEqual(expected);
  });

  it.each([
    ['14:20:15', 'HH:mm:ss', undefined, 51615000],
    ['02:20:15 PM', 'hh:mm:ss a', undefined, 51615000],
    // the docs print 1412978400000, which is this date at midnight in Paris: we parse in UTC
    ['11/10/2014', 'dd/MM/yyyy', undefined, Date.UTC(2014, 9, 11)],
    ['Thu Jun 16 08:29:03 2016', 'EEE MMM dd HH:mm:ss yyyy', undefined, 1466065743000],
    // the docs repeat the June value for this row; this is 1 November 2016
    ['Tue Nov 1 08:29:03 2016', 'EEE MMM d HH:mm:ss yyyy', undefined, Date.UTC(2016, 10, 1, 8, 29, 3)],
    ['06/Mar/2013:01:36:30 +0900', 'dd/MMM/yyyy:HH:mm:ss Z', undefined, 1362501390000],
    ['2016-11-29T16:21:36.431+0000', "yyyy-MM-dd'T'HH:mm:ss.SSSZ", undefined, 1480436496431],
    ['2016-11-29T16:21:36.431+00:00', "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", undefined, 1480436496431],
    ['06/Feb/2009:12:14:14.655', 'dd/MMM/yyyy:HH:mm:ss.SSS', undefined, 1233922454655],
    ['2007-08-31 19:22:22.427 ADT', 'yyyy-MM-dd HH:mm:ss.SSS z', undefined, 1188598942427],
    ['Thu Jun 16 08:29:03 2016', 'EEE MMM dd HH:mm:ss yyyy', 'Europe/Paris', 1466058543000],
    ['Thu Jun 16 08:29:03 2016', 'EEE MMM dd HH:mm:ss yyyy', 'UTC+5', 1466047743000],
    ['Thu Jun 16 08:29:03 2016', 'EEE MMM dd HH:mm:ss yyyy', '+3', 1466054943000],
    [
      'Thu Jan 14 08:29:03 2016',
      'EEE MMM dd HH:mm:ss yyyy',
      'America/New_York',
      Date.UTC(2016, 0, 14, 13, 29, 3),
    ],
    ['2016-11-29 16:21:36', 'yyyy-MM-dd HH:mm:ss', '-03:30', Date.UTC(2016, 10, 29, 19, 51, 36)],
    ['20161129162136', 'yyyyMMddHHmmss', undefined, Date.UTC(2016, 10, 29, 16, 21, 36)],
  ])('date: %s with "%s" (zone %s)', (log, pattern, zone, expected) => {
    const args = zone ? `"${pattern}","${zone}"` : `"${pattern}"`;
    expect(parse(log, `rule %{date(${args}):date}`)).toEqual({ date: expected });
  });

  it('fills a missing year from the processing time', () => {
    expect(parse('Sep 06 09:13:38', 'rule %{date("MMM dd HH:mm:ss"):t}')).toEqual({
      t: Date.UTC(2026, 8, 6, 9, 13, 38),
    });
  });

  it('supports alternating patterns', () => {
    const rule =
      'MyParsingRule (%{integer:user.id}|%{word:user.firstname}) connected on %{date("MM/dd/yyyy"):connect_date}';
    expect(parse('john connected on 11/08/2017', rule)).toEqual({
      user: { firstname: 'john' },
      connect_date: Date.UTC(2017, 10, 8),
    });
    expect(parse('12345 connected on 11/08/2017', rule)).toEqual({
      user: { id: 12345 },
      connect_date: Date.UTC(2017, 10, 8),
    });
  });

  it('supports optional attributes', () => {
    const rule =
      'MyParsingRule %{word:user.firstname} (%{integer:user.id} )?connected on %{date("MM/dd/yyyy"):connect_date}';
    expect(parse('john 1234 connected on 11/08/2017', rule)).toEqual({
      user: { firstname: 'john', id: 1234 },
      connect_date: Date.UTC(2017, 10, 8),
    });
    expect(parse('john connected on 11/08/2017', rule)).toEqual({
      user: { firstname: 'john' },
      connect_date: Date.UTC(2017, 10, 8),
    });
    expect(parse('- connected', 'r (%{integer:user.id}|-) connected')).toEqual({});
  });

  it('parses nested JSON after a text prefix', () => {
    const log =
      'Sep 06 09:13:38 vagrant program[123]: server.1 {"method":"GET", "status_code":200, "url":"https://app.datadoghq.com/logs/pipelines", "duration":123456}';
    const rule =
      'parsing_rule %{date("MMM dd HH:mm:ss"):timestamp} %{word:vm} %{word:app}\\[%{number:logger.thread_id}\\]: %{notSpace:server} %{data::json}';
    expect(parse(log, rule)).toEqual({
      timestamp: Date.UTC(2026, 8, 6, 9, 13, 38),
      vm: 'vagrant',
      app: 'program',
      logger: { thread_id: 123 },
      server: 'server.1',
      method: 'GET',
      status_code: 200,
      url: 'https://app.datadoghq.com/logs/pipelines',
      duration: 123456,
    });
  });

  it('supports the regex matcher', () => {
    expect(
      parse(
        'john_1a2b3c4 connected on 11/08/2017',
        'MyParsingRule %{regex("[a-z]*"):user.firstname}_%{regex("[a-zA-Z0-9]*"):user.id} .*',
      ),
    ).toEqual({ user: { firstname: 'john', id: '1a2b3c4' } });
  });

  it('turns lists into arrays', () => {
    expect(
      parse(
        'Users [John, Oliver, Marc, Tom] have been added to the database',
        'myParsingRule Users %{data:users:array("[]",",")} have been added to the database',
      ),
    ).toEqual({ users: ['John', 'Oliver', 'Marc', 'Tom'] });
    expect(
      parse(
        'Users {John-Oliver-Marc-Tom} have been added to the database',
        'myParsingRule Users %{data:users:array("{}","-")} have been added to the database',
      ),
    ).toEqual({ users: ['John', 'Oliver', 'Marc', 'Tom'] });
  });

  it('parses the glog example (year from the processing time, microseconds cut to ms)', () => {
    const rule =
      'kube_scheduler %{regex("\\\\w"):level}%{date("MMdd HH:mm:ss.SSSSSS"):timestamp}\\s+%{number:logger.thread_id} %{notSpace:logger.name}:%{number:logger.lineno}\\] %{data:msg}';
    expect(
      parse('W0424 11:47:41.605188       1 authorization.go:47] Authorization is disabled', rule, {
        now: Date.UTC(2020, 5, 1),
      }),
    ).toEqual({
      level: 'W',
      timestamp: 1587728861605,
      logger: { thread_id: 1, name: 'authorization.go', lineno: 47 },
      msg: 'Authorization is disabled',
    });
  });

  it.each([
    [
      'John,Doe,120,Jefferson St.,Riverside',
      '%{data:user:csv("first_name,name,st_nb,st_name,city")}',
      {
        user: { first_name: 'John', name: 'Doe', st_nb: 120, st_name: 'Jefferson St.', city: 'Riverside' },
      },
    ],
    ['John,Doe', '%{data::csv("firstname,name")}', { firstname: 'John', name: 'Doe' }],
    ['"John ""Da Man""",Doe', '%{data::csv("firstname,name")}', { firstname: 'John "Da Man"', name: 'Doe' }],
    [
      "'John ''Da Man''',Doe",
      '%{data::csv("firstname,name",",","\'")}',
      { firstname: "John 'Da Man'", name: 'Doe' },
    ],
    ['John|Doe', '%{data::csv("firstname,name","|")}', { firstname: 'John', name: 'Doe' }],
    ['value1,value2,value3', '%{data::csv("key1,key2")}', { key1: 'value1', key2: 'value2' }],
    ['value1,value2', '%{data::csv("key1,key2,key3")}', { key1: 'value1', key2: 'value2' }],
    ['value1,,value3', '%{data::csv("key1,key2,key3")}', { key1: 'value1', key3: 'value3' }],
    ['a\tb', '%{data::csv("x,y","tab")}', { x: 'a', y: 'b' }],
  ])('csv: %s with %s', (log, rule, expected) => {
    expect(parse(log, `rule ${rule}`)).toEqual(expected);
  });
});

describe('grok-parser: rules', () => {
  it('tries rules in order; the first that matches the whole text wins', () => {
    const rules = ['first %{word:a} %{word:b}', 'second %{data:all}', 'third %{word:a} %{word:c}'].join('\n');
    expect(parse('x y', rules)).toEqual({ a: 'x', b: 'y' });
    expect(parse('x y z', rules)).toEqual({ all: 'x y z' });
  });

  it('anchors rules: a rule matching only part of the text does not apply', () => {
    expect(parse('hello world', 'r %{word:a}')).toEqual({});
    expect(parse('hello world', 'r %{word:a} %{word:b}')).toEqual({ a: 'hello', b: 'world' });
  });

  it('leaves the log unchanged when nothing matches', () => {
    const e = makeLog({ message: 'nothing here', attributes: { keep: 1 } });
    new PipelineEngine([
      pipeline({ type: 'grok-parser', is_enabled: true, grok: { match_rules: 'r %{integer:n}' } }),
    ]).process([e], NOW);
    expect(e.attributes).toEqual({ keep: 1 });
    expect(e.message).toBe('nothing here');
  });

  it('parses another attribute with source, and ignores non-string sources', () => {
    expect(
      parse('msg', 'r %{word:cmd.name} %{data:cmd.args}', {
        source: 'command.line',
        attributes: { command: { line: 'ls -la /tmp' } },
      }),
    ).toEqual({
      command: { line: 'ls -la /tmp' },
      cmd: { name: 'ls', args: '-la /tmp' },
    });
    expect(parse('msg', 'r %{data:x}', { source: 'n', attributes: { n: 5 } })).toEqual({ n: 5 });
  });

  it('parses the official message even when an attribute is called message', () => {
    expect(parse('official', 'r %{word:w}', { attributes: { message: 'attribute' } })).toEqual({
      message: 'attribute',
      w: 'official',
    });
  });

  it('lets a match rule use match rules above it, and support rules use each other in any order', () => {
    const support = ['_outer %{_inner} end', '_inner <%{word:inner}>'].join('\n');
    expect(parse('<x> end !', 'base %{_outer}\nlater %{base} %{notSpace:bang}', { support })).toEqual({
      inner: 'x',
      bang: '!',
    });
  });

  it('extracts the text of a referenced rule when the reference has an extract name', () => {
    expect(parse('a-b', 'r %{_pair:pair}', { support: '_pair %{word:left}-%{word:right}' })).toEqual({
      left: 'a',
      right: 'b',
      pair: 'a-b',
    });
  });

  it('uses a rule twice with separate captures', () => {
    expect(parse('1 2', 'r %{_n} %{_m}', { support: '_n %{integer:a}\n_m %{integer:b}' })).toEqual({
      a: 1,
      b: 2,
    });
    expect(parse('1 2', 'r (%{_n}) (%{_n})', { support: '_n %{integer:a}' })).toEqual({ a: 2 });
  });

  it('falls through to the next rule when a value is invalid (a date that does not exist)', () => {
    expect(parse('2017-02-30', 'd %{date("yyyy-MM-dd"):d}\nt %{notSpace:t}')).toEqual({ t: '2017-02-30' });
  });

  it('handles CRLF line ends, blank lines and regex escapes in literal text', () => {
    expect(parse('[a] (b) 1.5', '\r\n  r \\[%{word:a}\\] \\(%{word:b}\\) %{number:n}\r\n\r\n')).toEqual({
      a: 'a',
      b: 'b',
      n: 1.5,
    });
  });

  it('does not parse texts above 1 MB and records why', () => {
    const e = makeLog({ message: 'x'.repeat(1024 * 1024 + 1), attributes: {} });
    new PipelineEngine([
      pipeline({ type: 'grok-parser', is_enabled: true, grok: { match_rules: 'r %{data:d}' } }),
    ]).process([e], NOW);
    expect(e.attributes.d).toBeUndefined();
    expect(JSON.stringify(e.attributes._flowwatch)).toMatch(/longer than 1 MB/);
  });

  it('stays fast on a long line that almost matches', () => {
    const text = `${'a '.repeat(2500)}`;
    const started = Date.now();
    expect(parse(text, 'r %{data:a} %{data:b}x')).toEqual({});
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('grok-parser: matchers', () => {
  it.each([
    ['word', 'abc_9', 'abc_9'],
    ['notSpace', 'a/b:c', 'a/b:c'],
    ['integer', '-42', -42],
    ['integerStr', '007', '007'],
    ['integerExt', '1e3', 1000],
    ['integerExtStr', '1e3', '1e3'],
    ['number', '-3.25', -3.25],
    ['numberStr', '3.25', '3.25'],
    ['numberExt', '1.5e-3', 0.0015],
    ['numberExtStr', '1.5e-3', '1.5e-3'],
    ['boolean', 'TRUE', true],
    ['boolean', 'false', false],
    ['boolean("yes","no")', 'No', false],
    ['quotedString', '"say \\"hi\\""', 'say "hi"'],
    ['quotedString', "'single'", 'single'],
    ['doubleQuotedString', '"a b"', 'a b'],
    ['singleQuotedString', "'a b'", 'a b'],
    ['uuid', '123e4567-e89b-12d3-a456-426614174000', '123e4567-e89b-12d3-a456-426614174000'],
    ['mac', '00:1A:2b:3c:4d:5e', '00:1A:2b:3c:4d:5e'],
    ['mac', '001a.2b3c.4d5e', '001a.2b3c.4d5e'],
    ['ipv4', '192.168.0.255', '192.168.0.255'],
    ['ipv6', '2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
    ['ipv6', '::1', '::1'],
    ['ipv6', '::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['ip', 'fe80::1', 'fe80::1'],
    ['ip', '10.0.0.1', '10.0.0.1'],
    ['hostname', 'api-1.example.com', 'api-1.example.com'],
    ['ipOrHost', 'localhost', 'localhost'],
    ['port', '8080', 8080],
    ['data', 'any thing\nat all', 'any thing\nat all'],
    ['space', '   ', '   '],
  ])('%s matches %j', (matcher, text, expected) => {
    expect(parse(`<${text}>`, `r <%{${matcher}:v}>`)).toEqual({ v: expected });
  });

  it.each([
    ['ipv4', '256.1.1.1'],
    ['port', '70000'],
    ['word', 'a b'],
    ['integer', '1.5'],
    ['uuid', 'not-a-uuid'],
    ['boolean', 'yes'],
  ])('%s does not match %j', (matcher, text) => {
    expect(parse(`<${text}>`, `r <%{${matcher}:v}>`)).toEqual({});
  });
});

describe('grok-parser: filters', () => {
  it.each([
    ['%{notSpace:v:number}', '12.5', 12.5],
    ['%{notSpace:v:integer}', '12', 12],
    ['%{notSpace:v:boolean}', 'True', true],
    ['%{notSpace:v:lowercase}', 'MiXeD', 'mixed'],
    ['%{notSpace:v:uppercase}', 'MiXeD', 'MIXED'],
    ['%{notSpace:v:decodeuricomponent}', '%2Fservice%2Ftest', '/service/test'],
    ['%{integer:v:scale(1000)}', '3', 3000],
    ['%{notSpace:v:nullIf("-")}', 'x', 'x'],
    ['%{integer:v:nullIf("0")}', '7', 7],
    ['%{data:v:json}', '[1,{"a":true}]', [1, { a: true }]],
    [
      '%{notSpace:v:querystring}',
      '?productId=superproduct&promotionCode=superpromo',
      {
        productId: 'superproduct',
        promotionCode: 'superpromo',
      },
    ],
    [
      '%{notSpace:v:url}',
      'https://example.com:8443/api/v1/test?id=123&id=4#frag',
      {
        scheme: 'https',
        host: 'example.com',
        port: 8443,
        path: '/api/v1/test',
        queryString: { id: ['123', '4'] },
      },
    ],
    ['%{notSpace:v:url}', '/path/x?a=b', { path: '/path/x', queryString: { a: 'b' } }],
  ])('%s on %j', (token, text, expected) => {
    expect(parse(text, `r ${token}`)).toEqual({ v: expected });
  });

  it.each([
    ['%{notSpace:v:nullIf("-")}', '-'],
    ['%{notSpace:v:number}', 'abc'],
    ['%{notSpace:v:integer}', '1.5'],
    ['%{notSpace:v:boolean}', 'yes'],
    ['%{data:v:json}', '{not json'],
    ['%{notSpace:v:decodeuricomponent}', '%E0%A4%A'],
  ])('%s on %j writes nothing (the rule still matches)', (token, text) => {
    expect(parse(`${text} !`, `r ${token} %{notSpace:after}`)).toEqual({ after: '!' });
  });

  it('merges an object at the root only when the token has no extract name', () => {
    expect(parse('[1,2]', 'r %{data::json}')).toEqual({});
    expect(parse('{"a":{"b":1},"e":""}', 'r %{data::json}')).toEqual({ a: { b: 1 } });
  });
});

describe('grok-parser: validation', () => {
  it('accepts a valid parser and applies defaults', () => {
    const p = parsePipelineInput({
      name: 'p',
      processors: [{ type: 'grok-parser', grok: { match_rules: 'r %{data:x}' } }],
    });
    expect(p.processors[0]).toMatchObject({
      type: 'grok-parser',
      is_enabled: false,
      source: 'message',
      samples: [],
      grok: { match_rules: 'r %{data:x}', support_rules: '' },
    });
  });

  it('limits samples to five of at most 5000 characters', () => {
    const grok = { match_rules: 'r %{data:x}' };
    expect(problems({ grok, samples: ['a', 'b', 'c', 'd', 'e'] })).toEqual([]);
    expect(problems({ grok, samples: ['a', 'b', 'c', 'd', 'e', 'f'] })[0]).toMatch(
      /^processors\[0\]\.samples/,
    );
    expect(problems({ grok, samples: ['x'.repeat(5001)] })[0]).toMatch(
      /^processors\[0\]\.samples\[0\]: a sample is at most 5000 characters/,
    );
  });

  it('requires grok.match_rules', () => {
    expect(problems({})[0]).toMatch(/^processors\[0\]\.grok/);
    expect(ruleError('')).toMatch(/give at least one match rule/);
  });

  it.each([
    ['r %{nope:x}', '', /match_rules: rule "r": unknown matcher or rule "nope"/],
    ['r %{word:x:nofilter}', '', /rule "r": unknown filter "nofilter"/],
    ['r %{data:x:useragent}', '', /filter useragent is not supported/],
    ['r %{data:x:xml}', '', /filter xml is not supported/],
    ['r (%{word:x}', '', /rule "r": invalid regular expression/],
    ['r %{word:x', '', /rule "r": unterminated %\{ at column 8/],
    ['r %{regex("[a-"):x}', '', /regex\("\[a-"\) is not a valid regular expression/],
    ['r %{date("yyyy-MM-dd QQ"):x}', '', /unsupported letter "Q"/],
    ['r %{date("yyyy","Mars/Olympus"):x}', '', /unknown time zone "Mars\/Olympus"/],
    ['r %{date("yyyy","UTC","fr"):x}', '', /locale "fr" is not supported/],
    ['r %{date:x}', '', /matcher date takes a quoted pattern/],
    ['r %{word("a"):x}', '', /matcher word takes no arguments/],
    ['r %{data::keyvalue("=","","","",""):x}', '', /expected \} to close/],
    ['r %{data::keyvalue("=","","","","")}', '', /filter keyvalue takes 0 to 4 arguments/],
    ['r %{data::csv("1bad")}', '', /csv headers must be names/],
    ['r %{data::scale("x")}', '', /filter scale takes a number/],
    ['r %{word:a..b}', '', /"a\.\.b" is not a valid attribute path/],
    ['r a\nr b', '', /rule name "r" is used twice/],
    ['.bad %{word:x}', '', /a rule name has letters, digits, _ and \. only/],
    ['lonely', '', /match rule "lonely" has no pattern/],
    [
      'a %{b}\nb %{word:x}',
      '',
      /unknown matcher or rule "b" \(a match rule can only use support rules and match rules above it\)/,
    ],
    [
      'r %{_a}',
      '_a %{_b}\n_b %{_a}',
      /support_rules: rule "_a": rules reference each other in a cycle \(_a → _b → _a\)/,
    ],
    ['r %{_a}', '_a x%{_a}', /support_rules: rule "_a": rules reference each other in a cycle/],
    ['r %{word:x}', '_unused %{nope}', /support_rules: rule "_unused": unknown matcher or rule "nope"/],
    ['r %{_a}', '_a %{_b}\n_b %{_c}\n_c %{_d}\n_d %{_e}\n_e %{_f}\n_f %{_g}\n_g %{_h}\n_h x', null],
  ])('%j (support %j)', (match, support, expected) => {
    if (expected === null) {
      expect(problems({ grok: { match_rules: match, support_rules: support } })).toEqual([]);
      return;
    }
    expect(ruleError(match, support)).toMatch(expected);
  });

  it('names the field and the rule in the problem', () => {
    expect(ruleError('ok %{word:x}\nbroken %{word:x')).toMatch(
      /^processors\[0\]\.grok\.match_rules: rule "broken"/,
    );
    expect(ruleError('ok %{_h}', '_h %{word:x')).toMatch(/^processors\[0\]\.grok\.support_rules: rule "_h"/);
  });

  it('refuses rules whose expansion explodes', () => {
    const support = Array.from({ length: 40 }, (_, i) => `_r${i} %{_r${i + 1}}%{_r${i + 1}}`)
      .concat('_r40 x')
      .join('\n');
    expect(ruleError('r %{_r0}', support)).toMatch(/expands to more than/);
  });

  it('compiles each rule once to a RegExp (compileGrok reports the rule that matched)', () => {
    const g = compileGrok('a %{integer:n}\nb %{word:w}');
    expect(g.rules).toEqual(['a', 'b']);
    expect(g.parse('12', NOW)).toEqual({ rule: 'a', values: [['n', 12]] });
    expect(g.parse('ab', NOW)).toEqual({ rule: 'b', values: [['w', 'ab']] });
    expect(g.parse('a b', NOW)).toBeUndefined();
  });
});

describe('grok-parser: in a pipeline with other processors', () => {
  it('feeds a date remapper', () => {
    const e: LogEvent = makeLog({ message: '2016-11-29T16:21:36.431+0000 GET', attributes: {} });
    const p: Pipeline = {
      ...parsePipelineInput({
        name: 'p',
        is_enabled: true,
        processors: [
          {
            type: 'grok-parser',
            is_enabled: true,
            grok: { match_rules: `r %{date("yyyy-MM-dd'T'HH:mm:ss.SSSZ"):ts} %{word:http.method}` },
          },
          { type: 'date-remapper', is_enabled: true, sources: ['ts'] },
        ],
      }),
      id: 'x',
      type: 'pipeline',
      is_read_only: false,
    };
    new PipelineEngine([p]).process([e], NOW);
    expect(e.timestamp).toBe(1480436496431);
    expect(e.attributes.http).toEqual({ method: 'GET' });
  });
});
