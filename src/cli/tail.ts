// `flowwatch tail QUERY`: prints matching logs as a running server stores them, until Ctrl-C. It listens to
// the live-tail stream (server-sent events), which follows stored order, so events that arrive late (an Okta
// retry dated minutes ago) are shown too; after a dropped connection it resumes where it stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { type ApiLog, formatLog } from './format.ts';
import {
  ApiError,
  apiErrorOf,
  apiRequest,
  type ClientOptions,
  clientHeaders,
  exitOnClosedStdout,
  rethrowQueryError,
  unreachable,
  withClientOptions,
} from './options.ts';
import { SseParser } from './sse.ts';

const LIVE_PATH = '/api/flowwatch/v1/logs/live';
/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 10_000;

interface TailOptions extends ClientOptions {
  lines: string;
  json?: boolean;
}

/** Prints the N newest matching logs (oldest of them first); returns the position to follow from. */
async function backlog(query: string, n: number, o: TailOptions, print: (l: ApiLog) => void) {
  const end = ((await apiRequest(o, '/api/flowwatch/v1/logs/tail')) as { meta: { after: string } }).meta
    .after;
  const page = (await apiRequest(o, '/api/v2/logs/events/search', {
    method: 'POST',
    body: { filter: { query, from: '0', to: 'now+1d' }, sort: '-timestamp', page: { limit: n } },
  }).catch((err: unknown) => rethrowQueryError(query, err))) as { data: ApiLog[] };
  const shown = new Set<string>();
  for (const l of page.data.reverse()) {
    print(l);
    shown.add(l.id);
  }
  return { end, shown };
}

/** Reads one connection until it ends; the parser keeps the resume point across connections. */
async function follow(
  res: Response,
  parser: SseParser,
  onLog: (id: string, data: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const e of parser.push(decoder.decode(chunk, { stream: true })))
      if (e.event === 'log') onLog(e.id, e.data);
  }
}

/** The live stream of one query: connects, reconnects with Last-Event-ID, and stops on abort. */
class LiveClient {
  readonly parser = new SseParser();
  private connected = false;

  constructor(
    private readonly query: string,
    private readonly o: TailOptions,
    private readonly headers: Record<string, string>,
    private readonly signal: AbortSignal,
  ) {}

  /** One connection, read until it ends; returns why it ended, throws when retrying cannot help. */
  async once(onLog: (id: string, data: string) => void): Promise<string> {
    const url = new URL(LIVE_PATH, this.o.url);
    url.searchParams.set('query', this.query);
    const id = this.parser.lastEventId;
    try {
      const res = await fetch(url, {
        headers: id ? { ...this.headers, 'last-event-id': id } : this.headers,
        signal: this.signal,
      });
      if (!res.ok) throw await apiErrorOf(res, url.pathname);
      if (this.connected) process.stderr.write('flowwatch: reconnected\n');
      this.connected = true;
      await follow(res, this.parser, onLog);
      return 'the server closed the stream';
    } catch (err) {
      if (this.signal.aborted) return 'stopped';
      if (err instanceof ApiError) {
        if (err.status < 500) rethrowQueryError(this.query, err);
        return err.message;
      }
      if (!this.connected) throw unreachable(this.o.url, err);
      return ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    } finally {
      this.parser.reset();
    }
  }

  /** Follows until aborted, waiting longer after each failed attempt (from the server's retry hint). */
  async run(onLog: (id: string, data: string) => void): Promise<void> {
    let delay = 0;
    while (!this.signal.aborted) {
      const before = this.parser.lastEventId;
      const reason = await this.once(onLog);
      if (this.signal.aborted) return;
      const progressed = this.parser.lastEventId !== before;
      delay = progressed || delay === 0 ? (this.parser.retryMs ?? 1000) : Math.min(MAX_BACKOFF_MS, delay * 2);
      process.stderr.write(`flowwatch: ${reason}; reconnecting in ${(delay / 1000).toFixed(1)} s\n`);
      await sleep(delay, undefined, { signal: this.signal }).catch(() => undefined);
    }
  }
}

async function tail(query: string, o: TailOptions): Promise<void> {
  const lines = Number(o.lines);
  if (!Number.isInteger(lines) || lines < 0 || lines > 1000)
    throw new Error(`--lines must be a whole number from 0 to 1000, got "${o.lines}"`);
  const headers = { ...clientHeaders(o), accept: 'text/event-stream' };
  exitOnClosedStdout();
  const write = (text: string) => process.stdout.write(`${text}\n`);
  const print = (l: ApiLog) => write(o.json ? JSON.stringify(l) : formatLog(l));

  const stopper = new AbortController();
  const stop = () => stopper.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const client = new LiveClient(query, o, headers, stopper.signal);
  try {
    let shown = new Set<string>();
    if (lines > 0) {
      const b = await backlog(query, lines, o, print);
      client.parser.resumeFrom(b.end);
      shown = b.shown;
    }
    await client.run((id, data) => {
      if (shown.delete(id)) return; // already printed as part of the backlog
      write(o.json ? data : formatLog(JSON.parse(data) as ApiLog));
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Registers `tail`. */
export function registerTail(program: Command): void {
  withClientOptions(program.command('tail'))
    .description('follow new logs of a running server that match a query, until Ctrl-C')
    .argument('[query]', 'Datadog log search query (docs/search.md)', '*')
    .option('-n, --lines <n>', 'first print the N newest matching logs', '10')
    .option('--json', 'print NDJSON')
    .action(tail);
}
