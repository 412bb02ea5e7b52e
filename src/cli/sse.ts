// A server-sent events parser (the WHATWG "event stream interpretation"), fed text chunks of any size.
// Small enough to own rather than add a dependency; `lastEventId` follows the spec, so an `id:` line without
// data (Flowwatch's position announcements) moves the resume point too.

/** One dispatched event. */
export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/** Incremental parser: `push` text as it arrives and get the events it completes. */
export class SseParser {
  /** the id a reconnection sends as Last-Event-ID */
  lastEventId = '';
  /** the server's `retry:` hint in milliseconds, if any */
  retryMs: number | undefined;
  private buf = '';
  private data: string[] = [];
  private type = '';
  private idBuffer = '';

  /** Parses what `chunk` completes; an incomplete last line waits for the next chunk. */
  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buf.indexOf('\r', start);
      const lf = this.buf.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (end === cr && end === this.buf.length - 1) break;
      const line = this.buf.slice(start, end);
      start = end + (end === cr && this.buf[end + 1] === '\n' ? 2 : 1);
      const e = this.line(line);
      if (e) out.push(e);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** Sets the resume point before the first connection. */
  resumeFrom(id: string): void {
    this.lastEventId = id;
    this.idBuffer = id;
  }

  /** Forgets a partial event (the connection dropped); the last event id stays. */
  reset(): void {
    this.buf = '';
    this.data = [];
    this.type = '';
    this.idBuffer = this.lastEventId;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    this.lastEventId = this.idBuffer;
    const data = this.data;
    const type = this.type;
    this.data = [];
    this.type = '';
    if (data.length === 0) return undefined;
    return { event: type || 'message', data: data.join('\n'), id: this.lastEventId };
  }
}
