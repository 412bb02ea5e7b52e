import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../domain/log-event.ts';
import { makeLog } from '../store/conformance.ts';
import { PipelineEngine } from './engine.ts';
import { type Pipeline, type PipelineValidationError, parsePipelineInput } from './model.ts';
import { OKTA_PIPELINE, OKTA_PIPELINE_ID } from './okta-pipeline.ts';

const FIX = path.resolve(import.meta.dirname, '../../test/fixtures/els');
const okta: Pipeline = {
  ...parsePipelineInput(OKTA_PIPELINE),
  id: OKTA_PIPELINE_ID,
  type: 'pipeline',
  is_read_only: true,
};

function els(name: string): LogEvent {
  const attributes = JSON.parse(readFileSync(path.join(FIX, `${name}.json`), 'utf8'));
  return makeLog({ service: 'okta', source: 'okta-workflows-els', message: '', attributes, tags: [] });
}

function pipeline(over: Partial<Pipeline> & { processors: unknown[] }): Pipeline {
  return {
    ...parsePipelineInput({ name: 'p', is_enabled: true, ...over }),
    id: 'x',
    type: 'pipeline',
    is_read_only: false,
  };
}

describe('the built-in Okta pipeline', () => {
  it('turns FLOW_FAIL into an error with error.kind, error.message, trace id, date and a readable message', () => {
    const e = els('flow_fail');
    new PipelineEngine([okta]).process([e]);
    expect(e.status).toBe('error');
    expect(e.attributes.error).toEqual({ kind: 'HTTPError', message: 'Workday: 503 Service Unavailable' });
    expect(e.attributes.error_type).toBeUndefined();
    expect(e.attributes.error_message).toBeUndefined();
    expect(e.trace_id).toBe(e.attributes.root_execution_id);
    expect(e.timestamp).toBe(Date.parse('2026-11-27T03:02:11.120Z'));
    expect(e.message).toBe(
      'Flow failed: Deprovision Terminated Users (HTTPError: Workday: 503 Service Unavailable)',
    );
    expect(e.attributes.okta).toBeUndefined();
    expect(e.attributes._flowwatch).toBeUndefined();
  });

  it.each([
    ['flow_throttle', 'warn'],
    ['flow_complete', 'info'],
    ['flow_start', 'info'],
    ['flow_cancel', 'notice'],
  ])('%s gets status %s', (name, status) => {
    const e = els(name);
    new PipelineEngine([okta]).process([e]);
    expect(e.status).toBe(status);
    expect(e.message).toMatch(/^Flow \w+/);
  });

  it('leaves other services alone', () => {
    const e = els('flow_fail');
    e.service = 'web';
    new PipelineEngine([okta]).process([e]);
    expect(e.status).toBe('info');
    expect(e.attributes.error_type).toBe('HTTPError');
  });
});

describe('engine semantics', () => {
  it('applies every matching pipeline in order; status remappers are first-wins across pipelines', () => {
    const a = pipeline({
      filter: { query: 'service:okta' },
      processors: [
        { type: 'status-remapper', is_enabled: true, sources: ['lvl'] },
        { type: 'string-builder-processor', is_enabled: true, template: 'a', target: 'trail' },
      ],
    });
    const b = pipeline({
      filter: { query: '@trail:a' },
      processors: [
        { type: 'status-remapper', is_enabled: true, sources: ['other'] },
        { type: 'string-builder-processor', is_enabled: true, template: '%{trail}b', target: 'trail' },
      ],
    });
    const e = makeLog({ attributes: { lvl: 'warning', other: 'error' } });
    new PipelineEngine([a, b]).process([e]);
    expect(e.status).toBe('warn');
    expect(e.attributes.trail).toBe('ab');
  });

  it('skips disabled pipelines and processors (processors are disabled unless told)', () => {
    const p = pipeline({
      processors: [{ type: 'string-builder-processor', template: 'x', target: 't' } as never],
    });
    expect(p.processors[0]?.is_enabled).toBe(false);
    const off = {
      ...pipeline({
        processors: [{ type: 'string-builder-processor', is_enabled: true, template: 'x', target: 't' }],
      }),
      is_enabled: false,
    };
    const e = makeLog({ attributes: {} });
    new PipelineEngine([p, off]).process([e]);
    expect(e.attributes.t).toBeUndefined();
  });

  it('evaluates a filter before the pipeline runs, and nested pipelines with their own filter', () => {
    const p = pipeline({
      filter: { query: '@kind:a' },
      processors: [
        { type: 'string-builder-processor', is_enabled: true, template: 'b', target: 'kind' },
        {
          type: 'pipeline',
          is_enabled: true,
          filter: { query: '@kind:b' },
          processors: [
            { type: 'string-builder-processor', is_enabled: true, template: 'nested', target: 'n' },
          ],
        },
      ],
    });
    const later = pipeline({
      filter: { query: '@kind:a' },
      processors: [{ type: 'string-builder-processor', is_enabled: true, template: 'x', target: 'later' }],
    });
    const e = makeLog({ attributes: { kind: 'a' } });
    new PipelineEngine([p, later]).process([e]);
    expect(e.attributes).toMatchObject({ kind: 'b', n: 'nested' });
    expect(e.attributes.later).toBeUndefined();
  });

  it('records a failing processor on the log and keeps going', () => {
    const p = pipeline({
      processors: [
        {
          type: 'category-processor',
          is_enabled: true,
          target: 'c',
          categories: [{ filter: { query: '*' }, name: 'all' }],
        },
        { type: 'string-builder-processor', is_enabled: true, template: 'after', target: 'after' },
      ],
    });
    const e = makeLog({ attributes: {} });
    // a getter that throws stands for any processor bug
    Object.defineProperty(e.attributes, 'c', {
      set() {
        throw new Error('boom');
      },
      configurable: true,
    });
    const report = new PipelineEngine([p]).process([e]);
    expect(report.failures).toBe(1);
    expect(e.attributes.after).toBe('after');
    expect((e.attributes._flowwatch as { pipeline_errors: string[] }).pipeline_errors[0]).toMatch(
      /category-processor.*boom/,
    );
  });

  it('validates pipelines with precise paths', () => {
    const err = (body: unknown) => {
      try {
        parsePipelineInput(body);
      } catch (e) {
        return (e as PipelineValidationError).problems;
      }
      return [];
    };
    expect(err({})).toEqual([expect.stringMatching(/^name: /)]);
    expect(err({ name: 'x', filter: { query: 'a AND (' } })).toEqual([
      expect.stringMatching(/^filter\.query: .*column 8/),
    ]);
    expect(err({ name: 'x', filter: { query: '*:x' } })).toEqual([
      'filter.query: full-text search (*:) is not allowed in filters',
    ]);
    expect(err({ name: 'x', processors: [{ type: 'nope' }] })[0]).toMatch(
      /^processors\[0\]\.type: unknown processor type/,
    );
    expect(
      err({ name: 'x', processors: [{ type: 'attribute-remapper', sources: ['a'], target: 'status' }] })[0],
    ).toMatch(/^processors\[0\]\.target: "status" is reserved/);
    expect(
      err({ name: 'x', processors: [{ type: 'pipeline', processors: [{ type: 'pipeline' }] }] })[0],
    ).toMatch(/^processors\[0\]\.processors\[0\]/);
  });
});
