// Live tail over server-sent events, on a real server over loopback: filtering with the in-memory predicate,
// resume after a reconnection, errors, keys, heartbeats, slow clients, disconnects and server close.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../src/cli/sse.ts';
import type { Running } from '../src/main.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

type Server = Running & { dataDir: string };
let srv: Server;
beforeAll(async () => {
  srv = await startTestServer({ live_tail_heartbeat_ms: 100, live_tail_max_streams: 3 });
});
afterAll(async () => {
  await srv.close();
});

const LIVE = '/api/flowwatch/v1/logs/live';

/** Posts logs through the Datadog intake (answered after commit). */
async function ingest(s: Server, logs: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${s.url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': API_KEY },
    body: JSON.stringify(logs),
  });
  expect(res.status).toBe(202);
  await res.arrayBuffer();
}

/** GET over node:http without a pooled agent (a fetch aborted mid-stream leaves undici with a spare connection). */
function get(s: Server, path: string, headers: Record<string, string> = appHeaders) {
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${s.url}${path}`, { headers, agent: false }, resolve).on('error', reject);
  });
}

async function body(res: http.IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of res) text += chunk;
  return JSON.parse(text);
}

/** An open stream: its events as they arrive, and what it received in full. */
async function open(s: Server, query: string, headers: Record<string, string> = {}, extra = '') {
  const res = await get(s, `${LIVE}?query=${encodeURIComponent(query)}${extra}`, {
    ...appHeaders,
    ...headers,
  });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let raw = '';
  let ended = false;
  res.setEncoding('utf8');
  res.on('data', (text: string) => {
    raw += text;
    events.push(...parser.push(text));
  });
  const done = new Promise<void>((r) =>
    res.once('close', () => {
      ended = true;
      r();
    }),
  );
  const logs = () =>
    events
      .filter((e) => e.event === 'log')
      .map((e) => ({ id: e.id, ...(JSON.parse(e.data) as { attributes: Record<string, any> }) }));
  return {
    res,
    parser,
    logs,
    raw: () => raw,
    ended: () => ended,
    done,
    close: () => res.destroy(),
    /** waits until `probe` holds (10 s at most) */
    until: (probe: () => boolean, what: string) => waitFor(probe, what),
  };
}

async function waitFor(probe: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function openStreams(s: Server): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(/^flowwatch_live_tail_streams (\d+)$/m.exec(text)?.[1]);
}

describe('live tail', () => {
  it('delivers matching logs shortly after ingest and skips the others', async () => {
    const s = await open(srv, 'service:web status:error @flow_name:"Sync Users"');
    await ingest(srv, [
      { message: 'wrong service', service: 'api', status: 'error', flow_name: 'Sync Users' },
      { message: 'wrong status', service: 'web', status: 'info', flow_name: 'Sync Users' },
    ]);
    const posted = Date.now();
    await ingest(srv, [{ message: 'the one', service: 'web', status: 'error', flow_name: 'Sync Users' }]);
    await s.until(() => s.logs().length > 0, 'the matching log');
    const latency = Date.now() - posted;
    expect(s.logs().map((l) => l.attributes.message)).toEqual(['the one']);
    const log = s.logs()[0]!;
    expect(log).toMatchObject({
      type: 'log',
      attributes: { service: 'web', status: 'error', attributes: { flow_name: 'Sync Users' } },
    });
    expect(s.parser.lastEventId).toBe(log.id);
    expect(latency).toBeLessThan(5000);
    s.close();
    await s.done;
  });

  it('resumes after Last-Event-ID (or after=) with exactly the logs it missed', async () => {
    const q = '@batch:resume';
    const first = await open(srv, q);
    await ingest(srv, [{ message: 'one', batch: 'resume' }]);
    await first.until(() => first.logs().length === 1, 'the first log');
    const last = first.logs()[0]!.id;
    first.close();
    await first.done;

    await ingest(srv, [
      { message: 'two', batch: 'resume' },
      { message: 'other', batch: 'other' },
    ]);
    await ingest(srv, [{ message: 'three', batch: 'resume' }]);

    const again = await open(srv, q, { 'last-event-id': last });
    await ingest(srv, [{ message: 'four', batch: 'resume' }]);
    await again.until(() => again.logs().some((l) => l.attributes.message === 'four'), 'the new log');
    expect(again.logs().map((l) => l.attributes.message)).toEqual(['two', 'three', 'four']);
    again.close();

    const viaQuery = await open(srv, q, {}, `&after=${last}`);
    await viaQuery.until(() => viaQuery.logs().length >= 3, 'the logs after the position');
    expect(viaQuery.logs().map((l) => l.attributes.message)).toEqual(['two', 'three', 'four']);
    viaQuery.close();
    await Promise.all([again.done, viaQuery.done]);
  });

  it('without a position starts at the current end and announces it, then sends heartbeats and retry', async () => {
    await ingest(srv, [{ message: 'old', batch: 'end' }]);
    const s = await open(srv, '@batch:end');
    await s.until(() => s.parser.lastEventId !== '', 'the first id');
    await ingest(srv, [{ message: 'not matching', batch: 'x' }]);
    await ingest(srv, [{ message: 'new', batch: 'end' }]);
    await s.until(() => s.logs().length === 1, 'the new log');
    expect(s.logs()[0]!.attributes.message).toBe('new');
    // a heartbeat comment, and the scan position announced past the non-matching logs that follow
    const before = s.parser.lastEventId;
    await ingest(srv, [{ message: 'skipped', batch: 'x' }]);
    await s.until(() => Number(s.parser.lastEventId) > Number(before), 'the position past a skipped log');
    expect(s.raw()).toMatch(/^retry: \d+\n/);
    expect(s.raw()).toContain('\n: heartbeat\n');
    expect(s.logs()).toHaveLength(1);
    s.close();
    await s.done;
  });

  it('answers a syntax error with a 400 naming the column, before any stream', async () => {
    const res = await get(srv, `${LIVE}?query=${encodeURIComponent('status:error OR )')}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(await body(res)).toEqual({ errors: ['query: unexpected ")" at column 17: expected a term'] });
    const badId = await get(srv, LIVE, { ...appHeaders, 'last-event-id': 'abc' });
    expect(badId.statusCode).toBe(400);
    expect(((await body(badId)) as { errors: string[] }).errors[0]).toMatch(/^Last-Event-ID/);
  });

  it('needs both keys (401 missing, 403 wrong) and takes them as query parameters too', async () => {
    const none = await get(srv, LIVE, {});
    expect(none.statusCode).toBe(401);
    expect(await body(none)).toEqual({
      errors: [expect.stringMatching(/DD-API-KEY and DD-APPLICATION-KEY/)],
    });
    const wrong = await get(srv, LIVE, { 'dd-api-key': API_KEY, 'dd-application-key': 'nope' });
    expect(wrong.statusCode).toBe(403);
    expect(await body(wrong)).toEqual({ errors: ['Forbidden: invalid application key'] });
    const viaQuery = await get(srv, `${LIVE}?dd-api-key=${API_KEY}&dd-application-key=${APP_KEY}`, {});
    expect(viaQuery.statusCode).toBe(200);
    viaQuery.destroy();
  });

  it('frees a stream when its client disconnects, and answers 503 past the limit', async () => {
    await waitFor(async () => (await openStreams(srv)) === 0, 'no open streams');
    const streams = [await open(srv, '*'), await open(srv, '*'), await open(srv, '*')];
    expect(await openStreams(srv)).toBe(3);
    const over = await get(srv, LIVE);
    expect(over.statusCode).toBe(503);
    expect(over.headers['retry-after']).toBe('5');
    expect(await body(over)).toEqual({ errors: [expect.stringMatching(/3 live-tail streams are open/)] });
    for (const s of streams) s.close();
    await waitFor(async () => (await openStreams(srv)) === 0, 'the streams to be freed');
  });

  it('a client that stops reading holds the stream back, then gets every log in order', async () => {
    const other = await startTestServer({ live_tail_heartbeat_ms: 100 });
    try {
      const got: string[] = [];
      const parser = new SseParser();
      const res = await get(other, `${LIVE}?query=${encodeURIComponent('@slow:*')}`);
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        for (const e of parser.push(d)) if (e.event === 'log') got.push(e.id);
      });
      await waitFor(() => parser.lastEventId !== '', 'the stream to open');
      res.pause();
      // ~12 MB of matching logs while the client reads nothing
      const big = 'x'.repeat(4000);
      for (let b = 0; b < 4; b++)
        await ingest(
          other,
          Array.from({ length: 800 }, (_, i) => ({ message: `${b}-${i} ${big}`, slow: b * 1000 + i })),
        );
      await ingest(other, [{ message: 'last', slow: 'last' }]);
      res.resume();
      await waitFor(() => got.length === 3201, 'every log', 30_000);
      const ids = got.map(Number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(3201);
      res.destroy();
    } finally {
      await other.close();
    }
  }, 60_000);

  it('server close ends open streams promptly', async () => {
    const other = await startTestServer();
    const s = await open(other, '*');
    const started = Date.now();
    await other.close();
    await s.done;
    expect(s.ended()).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
