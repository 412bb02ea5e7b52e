import { describe, expect, it } from 'vitest';
import type { Json } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import type { PipelineLog } from '../processor.ts';
import { stringBuilderProcessor } from './string-builder-processor.ts';

function run(def: Record<string, unknown>, attributes: Record<string, Json>, message = ''): PipelineLog {
  const l: PipelineLog = { event: makeLog({ attributes, message }), remapped: new Set(), now: 0 };
  stringBuilderProcessor.compile(
    stringBuilderProcessor.schema.parse({ type: 'string-builder-processor', target: 't', ...def }),
  )(l);
  return l;
}

describe('string-builder-processor', () => {
  it("Datadog's example: %{user.first_name} and a spaced placeholder", () => {
    const l = run(
      { template: 'Hello %{user.first_name} %{ user.last_name }, from %{city}' },
      { user: { first_name: 'John', last_name: 'Doe' }, city: 'Paris' },
    );
    expect(l.event.attributes.t).toBe('Hello John Doe, from Paris');
  });

  it('skips on a missing attribute unless is_replace_missing; joins arrays of values; refuses objects', () => {
    expect(run({ template: 'a %{x} b' }, {}).event.attributes.t).toBeUndefined();
    expect(run({ template: 'a %{x} b', is_replace_missing: true }, {}).event.attributes.t).toBe('a  b');
    expect(run({ template: '%{xs}' }, { xs: [1, 'two', true, null] }).event.attributes.t).toBe('1,two,true,');
    expect(run({ template: '%{o}' }, { o: { a: 1 } }).event.attributes.t).toBeUndefined();
    expect(run({ template: '%{message}!' }, {}, 'the message').event.attributes.t).toBe('the message!');
  });

  it('cuts the result at 256 characters, counting code points (an emoji is one, never split)', () => {
    expect(run({ template: '%{s}' }, { s: 'x'.repeat(256) }).event.attributes.t).toBe('x'.repeat(256));
    expect(run({ template: '%{s}' }, { s: 'x'.repeat(300) }).event.attributes.t).toBe('x'.repeat(256));
    // 200 emoji are 400 UTF-16 units but 200 characters: kept whole
    const emoji = '🔥'.repeat(200);
    expect(run({ template: '%{s}' }, { s: emoji }).event.attributes.t).toBe(emoji);
    const long = run({ template: '%{s}' }, { s: '🔥'.repeat(300) }).event.attributes.t as string;
    expect([...long]).toHaveLength(256);
    expect(long).toBe('🔥'.repeat(256));
  });
});
