// Live tail over server-sent events: GET /api/flowwatch/v1/logs/live?query=Q streams every log stored from
// now on (or after `Last-Event-ID`) that matches the query, judged by the in-memory predicate. Commits only
// wake the streams up; each stream reads the store from its own position, so a slow or reconnecting client
// loses nothing and a fast one never waits for a slow one.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { StoredLog } from '../domain/log-event.ts';
import type { Matcher } from '../search/match.ts';
import { compileMatcher } from '../search/match.ts';
import { appKeyHook } from './auth.ts';
import { HttpError } from './errors.ts';
import { parseFilter, toDatadogLog } from './logs-search.ts';
import type { ServerDeps } from './server.ts';

/** Logs read from the store at once. */
const PAGE = 1000;
/** Bytes waiting in a stream's socket buffer above which it stops reading until the client catches up. */
const MAX_BUFFERED = 1024 * 1024;
/** Reconnection delay suggested to EventSource clients. */
const RETRY_MS = 2000;

/** A position is the id of the last log a client saw: a non-negative integer. */
function readPosition(v: unknown, what: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v.trim()))
    throw new HttpError(400, `${what}: expected the id of a log, got ${JSON.stringify(v).slice(0, 60)}`);
  return String(Number(v.trim()));
}

/** One client's stream: its own store position, its filter and its socket. */
class LiveStream {
  private pumping = false;
  private again = false;
  private waitingDrain = false;
  /** the position last announced to the client in an `id:` line */
  private announced: string | undefined;
  closed = false;

  constructor(
    private readonly hub: LiveTail,
    private readonly res: ServerResponse,
    private readonly match: Matcher,
    /** every log up to here has been read and, when it matched, written */
    private position: string,
  ) {}

  start(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    // The position goes first, so a client that drops before any match still resumes from here.
    this.res.write(`retry: ${RETRY_MS}\nid: ${this.position}\n\n`);
    this.announced = this.position;
    this.wake();
  }

  /** Reads and sends what was stored since the position, unless already doing so or waiting for drain. */
  wake(): void {
    if (this.closed) return;
    if (this.pumping || this.waitingDrain) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((err: unknown) => {
        this.hub.logger.error({ err }, 'live tail stream failed; closing it');
        this.close(true);
      })
      .finally(() => {
        this.pumping = false;
      });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        if (this.closed) return;
        if (this.res.writableLength > MAX_BUFFERED) return this.pauseUntilDrain();
        const page = await this.hub.store.readLogsAfter(this.position, PAGE);
        if (this.closed) return;
        if (this.send(page.logs, page.next)) return this.pauseUntilDrain();
        if (page.logs.length < PAGE) break;
        // A long catch-up yields to the event loop between pages.
        await new Promise((r) => setImmediate(r));
      }
    } while (this.again);
  }

  /**
   * Writes the matching logs of a page and moves the position; true when the socket buffer filled up first.
   * A log's id is the store position just after it, so a page can stop part-way and resume there.
   */
  private send(logs: StoredLog[], next: string): boolean {
    let out = '';
    let position = next;
    let full = false;
    for (const l of logs) {
      if (this.match(l)) {
        out += `id: ${l.id}\nevent: log\ndata: ${JSON.stringify(toDatadogLog(l))}\n\n`;
        this.announced = l.id;
      }
      if (this.res.writableLength + out.length > MAX_BUFFERED) {
        position = l.id;
        full = true;
        break;
      }
    }
    if (out) this.res.write(out);
    this.position = position;
    return full;
  }

  private pauseUntilDrain(): void {
    this.waitingDrain = true;
    this.res.once('drain', () => {
      this.waitingDrain = false;
      this.wake();
    });
  }

  /** A comment that keeps proxies from closing the stream; also announces how far the scan got. */
  heartbeat(): void {
    if (this.closed || this.res.writableLength > MAX_BUFFERED) return;
    // Safe mid-pump too: the position moves only after its page has been written.
    const id = this.announced !== this.position ? `id: ${this.position}\n\n` : '';
    if (id) this.announced = this.position;
    this.res.write(`: heartbeat\n\n${id}`);
    this.wake();
  }

  /** Ends the stream; `force` drops the connection instead of waiting to flush (server close). */
  close(force = false): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
    if (force) this.res.destroy();
    else this.res.end();
  }
}

/** Every open live-tail stream of one server: wakes them on commits and heartbeats, stops them on close. */
export class LiveTail {
  private readonly streams = new Set<LiveStream>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly store: ServerDeps['store'],
    readonly logger: Logger,
    private readonly opts: { heartbeatMs: number; maxStreams: number; onCount: (n: number) => void },
  ) {
    this.timer = setInterval(() => {
      for (const s of this.streams) s.heartbeat();
    }, opts.heartbeatMs);
    this.timer.unref();
  }

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  /** A commit happened: every stream reads what is new. */
  wakeAll(): void {
    for (const s of this.streams) s.wake();
  }

  /** True when another stream would exceed the limit. */
  get full(): boolean {
    return this.streams.size >= this.opts.maxStreams;
  }

  /** Starts a stream on a hijacked reply. */
  open(res: ServerResponse, match: Matcher, position: string): void {
    const s = new LiveStream(this, res, match, position);
    this.streams.add(s);
    this.opts.onCount(this.streams.size);
    res.once('close', () => s.close());
    s.start();
  }

  forget(s: LiveStream): void {
    if (this.streams.delete(s)) this.opts.onCount(this.streams.size);
  }

  /** Ends every stream and stops the heartbeat (server close must not wait for endless responses). */
  closeAll(): void {
    clearInterval(this.timer);
    for (const s of [...this.streams]) s.close(true);
  }
}

/** Registers the live-tail route (API and application keys, as headers or `dd-api-key`/`dd-application-key`). */
export function registerLogsLive(app: FastifyInstance, deps: ServerDeps): LiveTail {
  const hub = new LiveTail(deps.store, deps.logger, {
    heartbeatMs: deps.settings.live_tail_heartbeat_ms,
    maxStreams: deps.settings.live_tail_max_streams,
    onCount: (n) => deps.metrics.liveStreams.set(n),
  });
  deps.writer.onCommit(() => hub.wakeAll());
  app.addHook('preClose', (done) => {
    hub.closeAll();
    done();
  });
  const onRequest = appKeyHook(deps.keys);
  app.get('/api/flowwatch/v1/logs/live', { onRequest, exposeHeadRoute: false }, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const match = compileMatcher(parseFilter(q.query === '' ? undefined : q.query, 'query'));
    const header = req.headers['last-event-id'];
    const position =
      readPosition(Array.isArray(header) ? header[0] : header, 'Last-Event-ID') ??
      readPosition(q.after, 'after') ??
      (await deps.store.readLogsAfter(undefined, 1)).next;
    if (hub.full) {
      const max = deps.settings.live_tail_max_streams;
      throw new HttpError(503, `Service Unavailable: ${max} live-tail streams are open, retry later`, 5);
    }
    reply.hijack();
    hub.open(reply.raw, match, position);
  });
  return hub;
}
