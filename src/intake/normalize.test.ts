import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NormalizeContext, normalize } from './normalize.ts';

const FIX = path.resolve(import.meta.dirname, '../../test/fixtures/els');
const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(FIX, name), 'utf8')) as Record<string, unknown>;
const NOW = Date.parse('2026-11-27T03:10:00.000Z');
const ctx: NormalizeContext = { now: NOW, outOfWindow: 'keep', checkSize: true };
const okta = (event: unknown, asString = true) => ({
  ddtags: 'env:production,service:okta',
  ddsource: 'okta-workflows-els',
  hostname: 'acme.workflows.okta.com',
  message: asString ? JSON.stringify(event) : event,
  service: 'okta',
});

describe('normalize: ELS in the Okta Datadog template', () => {
  it('merges an escaped-JSON message into attributes and sets the official fields', () => {
    const ev = fixture('flow_fail.json');
    const { event } = normalize(okta(ev), {}, ctx);
    expect(event).toBeDefined();
    const e = event!;
    expect(e.source).toBe('okta-workflows-els');
    expect(e.service).toBe('okta');
    expect(e.host).toBe('acme.workflows.okta.com');
    expect(e.tags).toEqual(['env:production', 'service:okta']);
    expect(e.timestamp).toBe(Date.parse('2026-11-27T03:02:11.120Z'));
    expect(e.attributes.event_type).toBe('FLOW_FAIL');
    expect(e.attributes.error_message).toBe('Workday: 503 Service Unavailable');
    // the readable message is the Okta pipeline's work (pipelines/okta-pipeline.ts)
    expect(e.message).toBe('');
    // Every key of the event is an attribute, so no separate raw copy is needed.
    expect(e.raw).toBeNull();
    expect(e.attributes).toEqual(ev);
    expect(e.dedup_key).toBe(
      JSON.stringify([
        '2026-11-27T03:02:11.120Z',
        '01J29TH3XHECT79M257GG2QTKJ',
        'b3c1d2e4-1111-4c57-9b5f-c17528470001',
        'FLOW_FAIL',
        '0c2f5a7e9d1b4c3a8e6f2d1c0b9a8e7f',
      ]),
    );
    expect(e.status).toBe('info');
  });

  it.each(['flow_start', 'flow_complete', 'flow_fail', 'flow_cancel', 'flow_throttle'])(
    'keeps every field of %s exactly, and fields Okta may add later',
    (name) => {
      const ev = {
        ...fixture(`${name}.json`),
        timestamp: '2026-11-27T03:00:00.000Z',
        field_added_in_2027: { nested: [1, 'two'] },
      };
      const { event } = normalize(okta(ev), {}, ctx);
      expect(event!.attributes).toEqual(ev);
    },
  );

  it('accepts the event substituted as a raw object too', () => {
    const ev = fixture('flow_throttle.json');
    const { event } = normalize(okta(ev, false), {}, ctx);
    expect(event!.attributes.throttled).toBe(true);
    expect(event!.attributes.flow_name).toBe('Bulk Import Contractors');
    expect(event!.message).toBe(''); // the Okta pipeline writes the readable message
  });

  it('falls back to execution_id + event_type + timestamp when idempotency_key is missing', () => {
    const { idempotency_key: _k, ...ev } = fixture('flow_cancel.json');
    const { event } = normalize(okta(ev), {}, ctx);
    expect(event!.dedup_key).toBe(
      JSON.stringify([
        '2026-11-27T03:05:00.000Z',
        '01J29TH3XHECT79M257GG2QTKJ',
        'c0ffee00-2222-4c57-9b5f-c17528470002',
        'FLOW_CANCEL',
        '',
      ]),
    );
  });

  it('never de-duplicates ordinary logs that carry event_type and execution_id, or ELS events without a timestamp', () => {
    const a = normalize({ message: 'step 1', execution_id: 'ex-1', event_type: 'debug' }, {}, ctx).event!;
    const b = normalize({ message: 'step 2', execution_id: 'ex-1', event_type: 'debug' }, {}, ctx).event!;
    expect(a.dedup_key).toBeNull();
    expect(b.dedup_key).toBeNull();
    const { timestamp: _t, ...noTime } = fixture('flow_fail.json');
    expect(normalize(okta(noTime), {}, ctx).event!.dedup_key).toBeNull();
    // A FLOW_* type or the ELS source makes it an ELS event.
    expect(
      normalize(
        { execution_id: 'x', event_type: 'custom', timestamp: NOW, ddsource: 'okta-workflows-els' },
        {},
        ctx,
      ).event!.dedup_key,
    ).not.toBeNull();
  });

  it('keeps a __proto__ key as an attribute and never lets it change the log', () => {
    const item = JSON.parse(
      '{"message":"m","__proto__":{"host":"evil","event_type":"FLOW_FAIL","execution_id":"z"},"x":1}',
    );
    const { event } = normalize(item, {}, ctx);
    expect(event!.host).toBeNull();
    expect(event!.dedup_key).toBeNull();
    expect(Object.getPrototypeOf(event!.attributes)).toBe(Object.prototype);
    expect(Object.keys(event!.attributes).sort()).toEqual(['__proto__', 'x']);
    expect(JSON.stringify(event!.attributes)).toBe(
      '{"__proto__":{"host":"evil","event_type":"FLOW_FAIL","execution_id":"z"},"x":1}',
    );
  });

  it('lets the top-level intake keys win over the embedded event, and embedded keys win over other extras', () => {
    const { event } = normalize(
      {
        service: 'okta',
        extra: 'top',
        message: JSON.stringify({ service: 'inner', extra: 'inner', event_type: 'X' }),
      },
      {},
      ctx,
    );
    expect(event!.service).toBe('okta');
    expect(event!.attributes.extra).toBe('inner');
    // The top-level value was overwritten, so the event as received is kept too.
    expect(event!.raw).toContain('"extra":"inner"');
  });

  it('keeps loose field types as sent (throttled "false", folder_name array)', () => {
    const ev = { ...fixture('flow_start.json'), timestamp: '2026-11-27T03:00:00.000Z' };
    const { event } = normalize(okta(ev), {}, ctx);
    expect(event!.attributes.throttled).toBe('false');
    expect(event!.attributes.folder_name).toEqual(['My parent folder', 'My child folder']);
  });
});

describe('normalize: Datadog preprocessing', () => {
  it('applies query parameter defaults, body values winning, ddtags as a union', () => {
    const { event } = normalize(
      { message: 'hi', ddtags: 'Team:Ops', service: 'body' },
      { ddsource: 'qsrc', ddtags: 'env:prod', service: 'q', host: 'qhost' },
      ctx,
    );
    expect(event!.source).toBe('qsrc');
    expect(event!.service).toBe('body');
    expect(event!.host).toBe('qhost');
    expect(event!.tags).toEqual(['env:prod', 'team:ops']);
  });

  it.each([
    [{ status: 'ERROR' }, 'error'],
    [{ level: 'warning' }, 'warn'],
    [{ severity: 3 }, 'error'],
    [{ syslog: { severity: 'crit' } }, 'critical'],
    [{ status: 'fatal' }, 'emergency'],
    [{ status: 'OK' }, 'ok'],
    [{}, 'info'],
  ])('status from %j is %s', (attrs, status) => {
    expect(normalize({ message: 'x', ...attrs }, {}, ctx).event!.status).toBe(status);
  });

  it.each([
    [{ '@timestamp': '2026-11-27T03:00:00Z' }, Date.parse('2026-11-27T03:00:00Z')],
    [{ date: NOW - 60_000 }, NOW - 60_000],
    [{ eventTime: (NOW - 60_000) / 1000 }, NOW - 60_000],
    [{ message: 'no date' }, NOW],
  ])('date from %j', (attrs, ts) => {
    expect(normalize({ message: 'x', ...attrs }, {}, ctx).event!.timestamp).toBe(ts);
  });

  it('reads host from host, hostname or syslog.hostname and the trace id from dd.trace_id', () => {
    expect(normalize({ message: '{"host":"h1"}' }, {}, ctx).event!.host).toBe('h1');
    expect(normalize({ message: 'x', syslog: { hostname: 'h2' } }, {}, ctx).event!.host).toBe('h2');
    expect(normalize({ message: 'x', dd: { trace_id: '123' } }, {}, ctx).event!.trace_id).toBe('123');
    expect(normalize({ message: 'x', 'dd.trace_id': '456' }, {}, ctx).event!.trace_id).toBe('456');
  });

  it('uses msg/log of an embedded JSON object as the message', () => {
    const { event } = normalize({ message: '{"msg":"hello","a":1}' }, {}, ctx);
    expect(event!.message).toBe('hello');
    expect(event!.attributes.a).toBe(1);
  });

  it('keeps a non-JSON message as is, and a string item as a message', () => {
    expect(normalize({ message: '{not json' }, {}, ctx).event!.message).toBe('{not json');
    expect(normalize('plain line', {}, ctx).event!.message).toBe('plain line');
  });
});

describe('normalize: timestamps outside the window', () => {
  it('keeps an old log, dated at receipt, flagged with the original date', () => {
    const old = '2024-08-20T19:46:09.590Z';
    const { event, notes } = normalize({ message: 'x', timestamp: old }, {}, ctx);
    expect(notes.outOfWindow).toBe('past');
    expect(event!.timestamp).toBe(NOW);
    expect(event!.attributes._flowwatch).toEqual({ out_of_window: 'past', original_date: old });
    expect(event!.attributes.timestamp).toBe(old);
  });

  it('flags a log more than 2 h ahead, and drops it when the policy says drop', () => {
    const future = new Date(NOW + 3 * 3_600_000).toISOString();
    expect(normalize({ message: 'x', timestamp: future }, {}, ctx).notes.outOfWindow).toBe('future');
    const dropped = normalize({ message: 'x', timestamp: future }, {}, { ...ctx, outOfWindow: 'drop' });
    expect(dropped.event).toBeUndefined();
    expect(dropped.notes.dropped).toBe(true);
  });

  it('accepts dates just inside the window unchanged', () => {
    const t = NOW - 17 * 3_600_000;
    expect(normalize({ message: 'x', timestamp: t }, {}, ctx).event!.timestamp).toBe(t);
  });
});

describe('normalize: limits', () => {
  it('truncates a log over 1 MB, keeping a flag', () => {
    const big = 'é'.repeat(700_000);
    const { event, notes } = normalize({ message: big }, {}, ctx);
    expect(notes.truncated).toBe(true);
    expect(Buffer.byteLength(event!.message)).toBeLessThanOrEqual(1024 * 1024);
    expect(event!.message.endsWith('é')).toBe(true);
    expect((event!.attributes._flowwatch as Record<string, unknown>).truncated).toBe(true);
  });

  it('trims excess tags, attributes, long keys and deep nesting, and keeps the raw item', () => {
    const tags = Array.from({ length: 150 }, (_, i) => `t${i}`).join(',');
    const attrs: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) attrs[`a${i}`] = i;
    attrs['k'.repeat(80)] = 1;
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 15; i++) deep = { d: deep };
    const { event, notes } = normalize({ message: 'x', ddtags: tags, deep, ...attrs }, {}, ctx);
    expect(event!.tags).toHaveLength(100);
    expect(notes.trimmed.tags).toBe(50);
    expect(notes.trimmed.attributes).toBeGreaterThan(0);
    expect(notes.trimmed.depth).toBe(1);
    expect(Object.keys(event!.attributes).length).toBeLessThanOrEqual(257);
    let node = event!.attributes.deep as Record<string, unknown>;
    for (let i = 0; i < 8; i++) node = node.d as Record<string, unknown>;
    expect(typeof node.d).toBe('string');
    expect(event!.raw).toContain('"leaf":1');
    expect(event!.attributes._flowwatch).toMatchObject({ trimmed_tags: 50 });
  });

  it('cuts keys longer than 50 characters', () => {
    const { event, notes } = normalize({ message: 'x', ['k'.repeat(80)]: 1 }, {}, ctx);
    expect(notes.trimmed.keys).toBe(1);
    expect(event!.attributes['k'.repeat(50)]).toBe(1);
  });
});

describe('normalize: a log whose attributes alone pass 1 MB', () => {
  it('cuts long string attributes to 1 KB and flags the log', () => {
    const { event, notes } = normalize(
      { message: 'm', blob: 'b'.repeat(1_500_000), nested: { more: 'c'.repeat(2000) } },
      {},
      ctx,
    );
    expect(notes.truncated).toBe(true);
    expect(
      Buffer.byteLength(JSON.stringify(event!.attributes)) + Buffer.byteLength(event!.message),
    ).toBeLessThanOrEqual(1024 * 1024);
    expect((event!.attributes.blob as string).length).toBe(1024);
    expect(((event!.attributes.nested as any).more as string).length).toBe(1024);
    expect(event!.message).toBe('m');
  });
});
