import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ElsEvent, ElsSimulator, oktaDatadogBody } from './simulator.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/els/${name}`, import.meta.url), 'utf8'));

const START = Date.parse('2026-11-27T03:00:00.000Z');
const MIN = 60_000;
const TERMINAL = new Set(['FLOW_COMPLETE', 'FLOW_FAIL', 'FLOW_CANCEL', 'FLOW_THROTTLE', 'FLOW_PAUSE']);

function sim(over: Partial<ConstructorParameters<typeof ElsSimulator>[0]> = {}): ElsSimulator {
  return new ElsSimulator({ seed: 7, flows: 20, failureRatio: 0.05, startMs: START, ...over });
}

/** Events of executions started in the first `minutes`, with enough tail for their terminal events. */
function run(s: ElsSimulator, minutes: number): { events: ElsEvent[]; starts: ElsEvent[] } {
  const events = s.next(START + minutes * MIN + 5 * MIN).filter((e) => !s.isRedelivery(e));
  const starts = events.filter(
    (e) => e.event_type === 'FLOW_START' && Date.parse(e.timestamp) <= START + minutes * MIN,
  );
  return { events, starts };
}

describe('ElsSimulator', () => {
  it('is deterministic for a seed and a clock, however the clock is stepped', () => {
    const whole = sim().next(START + 10 * MIN);
    const stepped: ElsEvent[] = [];
    const s = sim();
    for (let t = START; t <= START + 10 * MIN; t += 7_333) stepped.push(...s.next(t));
    stepped.push(...s.next(START + 10 * MIN));
    expect(whole.length).toBeGreaterThan(1000);
    expect(stepped).toEqual(whole);
    expect(sim().take(whole.length)).toEqual(whole);
    expect(sim({ seed: 8 }).next(START + 10 * MIN)).not.toEqual(whole);
    expect(sim().next(START - 1)).toEqual([]);
  });

  it('yields events in delivery order and roughly at the requested rate', () => {
    const s = sim({ eventsPerSecond: 20 });
    const events = s.next(START + 10 * MIN);
    const originals = events.filter((e) => !s.isRedelivery(e)).map((e) => Date.parse(e.timestamp));
    expect(originals).toEqual([...originals].sort((a, b) => a - b));
    expect(originals[0]).toBeGreaterThanOrEqual(START);
    expect(events.length / 600).toBeGreaterThan(14);
    expect(events.length / 600).toBeLessThan(26);
  });

  it('produces the shapes and types of the fixtures', () => {
    const { events } = run(sim({ failureRatio: 0.2 }), 20);
    const complete = fixture('flow_complete.json');
    const fail = fixture('flow_fail.json');
    const org = events[0]!;
    for (const e of events) {
      expect(e.execution_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.flow_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(e.idempotency_key).toMatch(/^[0-9a-f]{32}$/);
      expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
      expect([e.org_id, e.org_name, e.org_hostname]).toEqual([org.org_id, org.org_name, org.org_hostname]);
      expect(e.org_hostname).toBe(`${e.org_name}.workflows.okta.com`);
      expect(e.engine_mode).toBe('regular');
      expect(Number.isInteger(e.depth) && e.depth >= 1).toBe(true);
      expect(e.throttled).toBe(e.event_type === 'FLOW_THROTTLE');
      expect(e.folder_id_path.split('/').at(-1)).toBe(e.folder_id);
      const model =
        e.event_type === 'FLOW_COMPLETE' ? complete : e.event_type === 'FLOW_FAIL' ? fail : undefined;
      for (const [key, value] of Object.entries(model ?? {})) {
        if (key === 'user_email' || key.startsWith('root_')) continue;
        expect(typeof (e as unknown as Record<string, unknown>)[key], `${e.event_type}.${key}`).toBe(
          typeof value,
        );
      }
    }
    const types = new Set(events.map((e) => e.event_type));
    expect([...types].sort()).toEqual([...TERMINAL, 'FLOW_START'].sort());
    expect(events.some((e) => e.user_email !== undefined)).toBe(true);
    expect(events.some((e) => e.user_email === undefined)).toBe(true);
    const errors = new Set(events.filter((e) => e.event_type === 'FLOW_FAIL').map((e) => e.error_message));
    expect(errors).toContain('Okta: 429 Too Many Requests');
    expect([...errors].some((m) => m?.endsWith(': 503 Service Unavailable'))).toBe(true);
  });

  it('names flows like an IT team would, suffixing when it runs out of names', () => {
    const names = new Set(run(sim(), 30).events.map((e) => e.flow_name));
    expect(names).toContain('Sync Workday Users');
    expect(names).toContain('Deprovision Terminated Users');
    const many = new Set(run(sim({ flows: 60, eventsPerSecond: 40 }), 30).events.map((e) => e.flow_name));
    expect(many.size).toBe(60);
    expect(many).toContain('Sync Workday Users 2');
  });

  it('runs scheduled flows on a regular cadence', () => {
    const runs = run(sim(), 60)
      .starts.filter((e) => e.flow_name === 'Sync Workday Users')
      .map((e) => Date.parse(e.timestamp));
    const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
    expect(gaps.length).toBeGreaterThan(5);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    for (const g of gaps) expect(Math.abs(g - mean)).toBeLessThan(500);
  });

  it('follows every FLOW_START with exactly one terminal event of the same execution, later', () => {
    const { events, starts } = run(sim(), 30);
    const terminals = new Map<string, ElsEvent[]>();
    for (const e of events) {
      if (TERMINAL.has(e.event_type))
        terminals.set(e.execution_id, [...(terminals.get(e.execution_id) ?? []), e]);
    }
    expect(starts.length).toBeGreaterThan(500);
    for (const start of starts) {
      const ends = terminals.get(start.execution_id) ?? [];
      expect(ends).toHaveLength(1);
      expect(Date.parse(ends[0]!.timestamp)).toBeGreaterThanOrEqual(Date.parse(start.timestamp));
      expect(ends[0]!.flow_id).toBe(start.flow_id);
      if (ends[0]!.event_type === 'FLOW_COMPLETE' || ends[0]!.event_type === 'FLOW_FAIL') {
        expect(ends[0]!.duration).toBe(Date.parse(ends[0]!.timestamp) - Date.parse(start.timestamp));
      }
    }
  });

  it('makes helper executions point at their real parent and root', () => {
    const { events } = run(sim(), 30);
    const startsById = new Map(
      events.filter((e) => e.event_type === 'FLOW_START').map((e) => [e.execution_id, e]),
    );
    const children = events.filter((e) => e.parent_execution_id !== undefined);
    expect(children.length).toBeGreaterThan(100);
    expect(Math.max(...children.map((e) => e.depth))).toBeGreaterThanOrEqual(3);
    for (const child of children) {
      const parent = startsById.get(child.parent_execution_id!)!;
      expect(parent).toBeDefined();
      expect(Date.parse(parent.timestamp)).toBeLessThan(Date.parse(child.timestamp));
      expect([child.parent_flow_id, child.parent_flow_name]).toEqual([parent.flow_id, parent.flow_name]);
      expect(child.depth).toBe(parent.depth + 1);
      expect([child.root_execution_id, child.root_flow_id, child.root_flow_name]).toEqual([
        parent.root_execution_id,
        parent.root_flow_id,
        parent.root_flow_name,
      ]);
    }
    for (const top of events.filter((e) => e.depth === 1)) {
      expect(top.parent_execution_id).toBeUndefined();
      expect([top.root_execution_id, top.root_flow_id]).toEqual([top.execution_id, top.flow_id]);
    }
  });

  it('honours failureRatio over 5000 executions', () => {
    for (const ratio of [0, 0.1, 0.3]) {
      const s = sim({ failureRatio: ratio, eventsPerSecond: 50, seed: 99 });
      const { events, starts } = run(s, 5);
      expect(starts.length).toBeGreaterThanOrEqual(5000);
      const ids = new Set(starts.map((e) => e.execution_id));
      const failed = events.filter((e) => e.event_type === 'FLOW_FAIL' && ids.has(e.execution_id)).length;
      expect(Math.abs(failed / starts.length - ratio)).toBeLessThan(0.02);
      expect(failed === 0).toBe(ratio === 0);
    }
  });

  it('redelivers about 0.5% of events as exact copies with the same idempotency_key', () => {
    const s = sim({ eventsPerSecond: 50 });
    const events = s.next(START + 10 * MIN);
    const copies = events.filter((e) => s.isRedelivery(e));
    expect(copies.length / events.length).toBeGreaterThan(0.002);
    expect(copies.length / events.length).toBeLessThan(0.01);
    const byKey = new Map(events.filter((e) => !s.isRedelivery(e)).map((e) => [e.idempotency_key, e]));
    expect(byKey.size).toBe(events.length - copies.length);
    for (const copy of copies) {
      const original = byKey.get(copy.idempotency_key)!;
      expect(copy).not.toBe(original);
      expect(copy).toEqual(original);
      expect(events.indexOf(copy)).toBeGreaterThan(events.indexOf(original));
    }
  });

  it('rejects impossible options', () => {
    expect(() => sim({ flows: 0 })).toThrow(/flows/);
    expect(() => sim({ failureRatio: 1.5 })).toThrow(/failureRatio/);
  });
});

describe('oktaDatadogBody', () => {
  it('fills the Datadog template with the event as an escaped JSON string', () => {
    const event = sim({ failureRatio: 1 }).take(2)[1]!;
    const body = JSON.parse(oktaDatadogBody(event));
    const template = fixture('okta_datadog_body.json');
    expect(Object.keys(body)).toEqual(['ddtags', 'ddsource', 'hostname', 'message', 'service']);
    expect({ ...body, hostname: '', message: '' }).toEqual({ ...template, hostname: '', message: '' });
    expect(body.hostname).toBe(event.org_hostname);
    expect(typeof body.message).toBe('string');
    expect(JSON.parse(body.message)).toEqual(event);
  });

  it('escapes fixtures exactly as string substitution into the template would', () => {
    const event = fixture('flow_fail.json');
    const template = JSON.stringify({ ...fixture('okta_datadog_body.json'), hostname: event.org_hostname });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Okta's placeholder, not a template literal
    const substituted = template.replace('${event}', JSON.stringify(JSON.stringify(event)).slice(1, -1));
    expect(oktaDatadogBody(event)).toBe(substituted);
  });
});
