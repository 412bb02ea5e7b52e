import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.ts';

/** Feeds `text` in chunks of `size` characters and collects the events. */
function parse(text: string, size = text.length) {
  const p = new SseParser();
  const events = [];
  for (let i = 0; i < text.length; i += size) events.push(...p.push(text.slice(i, i + size)));
  return { events, p };
}

describe('SseParser', () => {
  const stream =
    'retry: 2000\nid: 7\n\n: heartbeat\n\nid: 9\nevent: log\ndata: {"a":1}\n\n' +
    'data: first\r\ndata:second\r\rid: 12\n\n';

  it('parses events, comments, retry and id-only messages whatever the chunking', () => {
    for (const size of [1, 2, 3, 7, stream.length]) {
      const { events, p } = parse(stream, size);
      expect(events).toEqual([
        { event: 'log', data: '{"a":1}', id: '9' },
        { event: 'message', data: 'first\nsecond', id: '9' },
      ]);
      expect(p.retryMs).toBe(2000);
      // an id without data still moves the resume point
      expect(p.lastEventId).toBe('12');
    }
  });

  it('keeps an incomplete event until its blank line, and reset drops it but keeps the id', () => {
    const p = new SseParser();
    expect(p.push('id: 3\ndata: x\n\n')).toHaveLength(1);
    expect(p.push('id: 4\ndata: half')).toEqual([]);
    p.reset();
    expect(p.lastEventId).toBe('3');
    expect(p.push('\n\n')).toEqual([]);
    expect(p.push('data: y\n\n')).toEqual([{ event: 'message', data: 'y', id: '3' }]);
  });

  it('a field without a colon has an empty value; unknown fields are ignored', () => {
    expect(parse('data\nfoo: bar\n\n').events).toEqual([{ event: 'message', data: '', id: '' }]);
  });
});
