import { describe, expect, it } from 'vitest';
import type { Json } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import { PipelineEngine } from '../engine.ts';
import { type Pipeline, parsePipelineInput } from '../model.ts';
import type { PipelineLog } from '../processor.ts';
import { spanIdRemapper } from './span-id-remapper.ts';

function run(def: Record<string, unknown>, attributes: Record<string, Json>, log?: PipelineLog): PipelineLog {
  const l = log ?? { event: makeLog({ attributes }), remapped: new Set(), now: 0 };
  spanIdRemapper.compile(spanIdRemapper.schema.parse({ type: 'span-id-remapper', ...def }))(l);
  return l;
}

describe('span-id-remapper', () => {
  it('defaults to dd.span_id and stores the official span id as the top-level attribute span_id', () => {
    const l = run({}, { dd: { trace_id: '123', span_id: '7353' } });
    expect(l.event.attributes.span_id).toBe('7353');
    expect(l.remapped.has('span_id')).toBe(true);
    // the source stays, the trace id is untouched
    expect(l.event.attributes.dd).toEqual({ trace_id: '123', span_id: '7353' });
    expect(l.event.trace_id).toBeNull();
  });

  it('reads a literal dotted key and numbers (printed), trimming spaces', () => {
    expect(run({}, { 'dd.span_id': ' 42 ' }).event.attributes.span_id).toBe('42');
    expect(run({}, { dd: { span_id: 1234567890 } }).event.attributes.span_id).toBe('1234567890');
  });

  it('takes the first source present', () => {
    const l = run({ sources: ['a', 'b', 'c'] }, { b: 'from-b', c: 'from-c' });
    expect(l.event.attributes.span_id).toBe('from-b');
  });

  it('skips missing, empty, null and object sources', () => {
    for (const attrs of [{}, { x: '' }, { x: '   ' }, { x: null }, { x: { y: 1 } }, { x: ['1'] }] as Record<
      string,
      Json
    >[]) {
      const l = run({ sources: ['x'] }, attrs);
      expect(l.event.attributes.span_id).toBeUndefined();
      expect(l.remapped.has('span_id')).toBe(false);
    }
  });

  it('is first-wins: a later span id remapper does nothing', () => {
    const l = run({ sources: ['a'] }, { a: 'first', b: 'second' });
    run({ sources: ['b'] }, {}, l);
    expect(l.event.attributes.span_id).toBe('first');
  });

  it('overwrites a span_id attribute the log came with', () => {
    expect(run({}, { span_id: 'sent', dd: { span_id: '9' } }).event.attributes.span_id).toBe('9');
  });

  it('refuses an empty sources list and empty source names', () => {
    expect(spanIdRemapper.schema.safeParse({ type: 'span-id-remapper', sources: [] }).success).toBe(false);
    expect(spanIdRemapper.schema.safeParse({ type: 'span-id-remapper', sources: [''] }).success).toBe(false);
  });

  it('is first-wins across pipelines in the engine', () => {
    const mk = (source: string): Pipeline => ({
      ...parsePipelineInput({
        name: source,
        is_enabled: true,
        processors: [{ type: 'span-id-remapper', is_enabled: true, sources: [source] }],
      }),
      id: source,
      type: 'pipeline',
      is_read_only: false,
    });
    const e = makeLog({ attributes: { one: '1', two: '2' } });
    new PipelineEngine([mk('missing'), mk('one'), mk('two')]).process([e]);
    expect(e.attributes.span_id).toBe('1');
  });
});
