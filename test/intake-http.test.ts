// The Datadog intake over real HTTP: auth, bodies, encodings, limits, hostile input, dedup and the answers.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent, oktaBody } from './helpers/els.ts';
import { API_KEY, APP_KEY, appHeaders, startTestServer } from './helpers/server.ts';

let srv: Running & { dataDir: string };
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});

const post = (path: string, body: string | Buffer | undefined, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': API_KEY, ...headers },
    body,
  });

async function search(query: Record<string, unknown> = {}) {
  const res = await fetch(`${srv.url}/api/v2/logs/events/search`, {
    method: 'POST',
    headers: appHeaders,
    body: JSON.stringify({ filter: { from: 'now-1h', to: 'now+3h' }, page: { limit: 1000 }, ...query }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    data: { id: string; attributes: Record<string, any> }[];
    meta: any;
    links?: any;
  };
}

async function findByExecution(id: string) {
  return (await search()).data.filter((l) => l.attributes.attributes.execution_id === id);
}

describe('auth', () => {
  it('answers 401 for a missing or empty key and 403 for a wrong one, in Datadog error shape', async () => {
    for (const headers of [{ 'dd-api-key': '' }, {}] as Record<string, string>[]) {
      const res = await fetch(`${srv.url}/api/v2/logs`, { method: 'POST', headers, body: '{"message":"x"}' });
      expect(res.status).toBe(401);
      const body: any = await res.json();
      expect(body).toEqual({
        errors: [{ status: '401', title: 'Unauthorized', detail: expect.stringMatching(/missing API key/) }],
      });
    }
    const bad = await post('/api/v2/logs', '{"message":"x"}', { 'dd-api-key': 'wrong' });
    expect(bad.status).toBe(403);
    expect(((await bad.json()) as any).errors[0]).toMatchObject({ status: '403', title: 'Forbidden' });
  });

  it('accepts the key as the dd-api-key query parameter and in the legacy /v1/input/KEY path', async () => {
    const q = await fetch(`${srv.url}/api/v2/logs?dd-api-key=${API_KEY}`, {
      method: 'POST',
      body: '{"message":"via query"}',
    });
    expect(q.status).toBe(202);
    const legacy = await fetch(`${srv.url}/v1/input/${API_KEY}`, {
      method: 'POST',
      body: '{"message":"via path"}',
    });
    expect(legacy.status).toBe(200);
    expect(await legacy.json()).toEqual({});
  });

  it('refuses an application key in place of an API key', async () => {
    expect((await post('/api/v2/logs', '{"message":"x"}', { 'dd-api-key': APP_KEY })).status).toBe(403);
  });

  it('validates API keys at /api/v1/validate', async () => {
    const ok = await fetch(`${srv.url}/api/v1/validate`, { headers: { 'dd-api-key': API_KEY } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ valid: true });
    expect((await fetch(`${srv.url}/api/v1/validate`)).status).toBe(401);
    expect((await fetch(`${srv.url}/api/v1/validate`, { headers: { 'dd-api-key': 'nope' } })).status).toBe(
      403,
    );
  });

  it('requires both keys on the search API', async () => {
    const url = `${srv.url}/api/v2/logs/events`;
    expect((await fetch(url, { headers: { 'dd-api-key': API_KEY } })).status).toBe(401);
    expect((await fetch(url, { headers: { 'dd-api-key': API_KEY, 'dd-application-key': 'x' } })).status).toBe(
      403,
    );
    expect(
      (await fetch(url, { headers: { 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY } })).status,
    ).toBe(200);
  });
});

describe('ELS events in the Okta body template', () => {
  it('stores the five fixtures with their attributes, official fields and readable messages', async () => {
    const names = ['flow_start', 'flow_complete', 'flow_fail', 'flow_cancel', 'flow_throttle'];
    const ids = names.map((n) => `exec-${n}-${Date.now()}`);
    for (const [i, n] of names.entries()) {
      const res = await post(
        '/api/v2/logs',
        oktaBody(elsEvent(n, { execution_id: ids[i], idempotency_key: ids[i] })),
      );
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({});
    }
    const [fail] = await findByExecution(ids[2]!);
    expect(fail).toBeDefined();
    const a = fail!.attributes;
    expect(a.service).toBe('okta');
    expect(a.host).toBe('acme.workflows.okta.com');
    expect(a.tags).toEqual(
      expect.arrayContaining(['env:production', 'service:okta', 'source:okta-workflows-els']),
    );
    expect(a.message).toMatch(
      /^Flow failed: Deprovision Terminated Users \(HTTPError: Workday: 503 Service Unavailable/,
    );
    // the built-in Okta pipeline ran: status, error.kind and error.message, trace id
    expect(a.status).toBe('error');
    expect(a.attributes).toMatchObject({
      event_type: 'FLOW_FAIL',
      error: { kind: 'HTTPError', message: 'Workday: 503 Service Unavailable' },
      flow_id: '01J29TGKQERR78AD3VN0P9DPSW',
    });
    const [start] = await findByExecution(ids[0]!);
    expect(start!.attributes.attributes.folder_name).toEqual(['My parent folder', 'My child folder']);
  });

  it('acknowledges a redelivered event and stores it once', async () => {
    const id = `dup-${Date.now()}`;
    const body = oktaBody(elsEvent('flow_complete', { execution_id: id, idempotency_key: `k-${id}` }));
    for (let i = 0; i < 3; i++) expect((await post('/api/v2/logs', body)).status).toBe(202);
    expect(await findByExecution(id)).toHaveLength(1);
    // Without an idempotency_key the key is execution_id + event_type + timestamp.
    const { idempotency_key: _k, ...noKey } = elsEvent('flow_fail', { execution_id: `${id}-nokey` });
    expect((await post('/api/v2/logs', oktaBody(noKey))).status).toBe(202);
    expect((await post('/api/v2/logs', oktaBody(noKey))).status).toBe(202);
    expect(await findByExecution(`${id}-nokey`)).toHaveLength(1);
  });

  it('keeps an event dated 2 years ago, dated at receipt and flagged', async () => {
    const id = `old-${Date.now()}`;
    expect(
      (
        await post(
          '/api/v2/logs',
          oktaBody(
            elsEvent(
              'flow_complete',
              { execution_id: id, idempotency_key: id },
              Date.parse('2024-08-20T19:46:09.590Z'),
            ),
          ),
        )
      ).status,
    ).toBe(202);
    const [log] = await findByExecution(id);
    expect(log!.attributes.attributes._flowwatch).toMatchObject({
      out_of_window: 'past',
      original_date: '2024-08-20T19:46:09.590Z',
    });
    expect(Date.parse(log!.attributes.timestamp)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('bodies and encodings', () => {
  it('accepts an array, gzip, deflate and raw deflate', async () => {
    const tag = `enc-${Date.now()}`;
    const arr = JSON.stringify([
      { message: 'one', execution_id: `${tag}-1` },
      { message: 'two', execution_id: `${tag}-2` },
    ]);
    expect((await post('/api/v2/logs', arr)).status).toBe(202);
    const zlib = await import('node:zlib');
    expect(
      (
        await post('/api/v2/logs', gzipSync(JSON.stringify({ message: 'gz', execution_id: `${tag}-3` })), {
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await post(
          '/api/v2/logs',
          zlib.deflateSync(JSON.stringify({ message: 'df', execution_id: `${tag}-4` })),
          { 'content-encoding': 'deflate' },
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await post(
          '/api/v2/logs',
          zlib.deflateRawSync(JSON.stringify({ message: 'raw', execution_id: `${tag}-5` })),
          { 'content-encoding': 'deflate' },
        )
      ).status,
    ).toBe(202);
    const found = (await search()).data.filter((l) =>
      String(l.attributes.attributes.execution_id ?? '').startsWith(tag),
    );
    expect(found.map((l) => l.attributes.message).sort()).toEqual(['df', 'gz', 'one', 'raw', 'two']);
  });

  it('accepts zstd where zlib has it (Node 22.15+) and answers 415 naming the fix elsewhere', async () => {
    const zlib = (await import('node:zlib')) as any;
    if (zlib.zstdCompressSync) {
      const res = await post('/api/v2/logs', zlib.zstdCompressSync(Buffer.from('{"message":"zstd-frame"}')), {
        'content-encoding': 'zstd',
      });
      expect(res.status).toBe(202);
      expect((await search()).data.some((l) => l.attributes.message === 'zstd-frame')).toBe(true);
    } else {
      // A zstd frame of '{"message":"zstd-frame"}' made with the zstd CLI.
      const frame = Buffer.from('KLUv/SAYwQAAeyJtZXNzYWdlIjoienN0ZC1mcmFtZSJ9', 'base64');
      const res = await post('/api/v2/logs', frame, { 'content-encoding': 'zstd' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as any).errors[0].detail).toMatch(/Node.js 22.15.*gzip/);
    }
    // The frame that stalled a pure-JS decoder: a huge declared window and tiny raw blocks.
    const bomb = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa7]), Buffer.alloc(4096, 0x08)]);
    const started = Date.now();
    const res = await post('/api/v2/logs', bomb, { 'content-encoding': 'zstd' });
    expect([400, 413, 415]).toContain(res.status);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('takes text/plain as one log per line with query-parameter attributes', async () => {
    const tag = `txt${Date.now()}`;
    const res = await fetch(
      `${srv.url}/api/v2/logs?ddsource=heroku&service=web&host=h1&ddtags=env:Prod,${tag}`,
      {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'dd-api-key': API_KEY },
        body: `line one ${tag}\n\nline two ${tag}\n{"msg":"json line ${tag}","k":1}\n`,
      },
    );
    expect(res.status).toBe(202);
    const logs = (await search()).data.filter((l) => l.attributes.tags.includes(tag));
    expect(logs.map((l) => l.attributes.message).sort()).toEqual([
      `json line ${tag}`,
      `line one ${tag}`,
      `line two ${tag}`,
    ]);
    for (const l of logs) {
      expect(l.attributes).toMatchObject({ service: 'web', host: 'h1' });
      expect(l.attributes.tags).toEqual(expect.arrayContaining(['env:prod', 'source:heroku']));
    }
  });
});

describe('hostile and malformed input: precise 4xx, earlier data intact, server alive', () => {
  let sentinel: string;
  beforeAll(async () => {
    sentinel = `sentinel-${Date.now()}`;
    expect((await post('/api/v2/logs', JSON.stringify({ message: sentinel }))).status).toBe(202);
  });
  afterAll(async () => {
    expect((await search()).data.some((l) => l.attributes.message === sentinel)).toBe(true);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it.each([
    ['truncated JSON', '{"message": "abc', 400, /invalid JSON/],
    ['a JSON scalar', '42', 400, /expected a JSON object/],
    ['an empty body', '', 400, /empty/],
    ['trailing garbage', '{"message":"x"} x', 400, /invalid JSON/],
  ])('%s → %i', async (_name, body, status, detail) => {
    const res = await post('/api/v2/logs', body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).errors[0].detail).toMatch(detail);
  });

  it('refuses invalid UTF-8 with 400', async () => {
    const res = await post(
      '/api/v2/logs',
      Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].detail).toMatch(/UTF-8/);
  });

  it('refuses unknown content types and encodings with 415', async () => {
    const ct = await post('/api/v2/logs', '<xml/>', { 'content-type': 'application/xml' });
    expect(ct.status).toBe(415);
    expect(((await ct.json()) as any).errors[0].detail).toMatch(/application\/xml/);
    const enc = await post('/api/v2/logs', '{}', { 'content-encoding': 'br' });
    expect(enc.status).toBe(415);
  });

  it('refuses a corrupt gzip body with 400', async () => {
    const res = await post('/api/v2/logs', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
  });

  it('stops a gzip bomb at 5 MB of output with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20)); // 200 MB of spaces in ~200 KB
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const res = await post('/api/v2/logs', bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].detail).toMatch(/5242880 bytes/);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('answers 413 over 5 MB uncompressed and over 1000 entries', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(5 * 1024 * 1024 + 10) });
    expect((await post('/api/v2/logs', big)).status).toBe(413);
    const many = JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ message: `m${i}` })));
    const res = await post('/api/v2/logs', many);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].detail).toMatch(/1001 entries/);
  });

  it('truncates a single log over 1 MB but accepts the request', async () => {
    const tag = `big-${Date.now()}`;
    const res = await post(
      '/api/v2/logs',
      JSON.stringify([
        { message: 'y'.repeat(1_500_000), tag },
        { message: 'small', tag },
      ]),
    );
    expect(res.status).toBe(202);
    const logs = (await search()).data.filter((l) => l.attributes.attributes.tag === tag);
    expect(logs).toHaveLength(2);
    const big = logs.find((l) => l.attributes.message !== 'small')!;
    expect(big.attributes.message.length).toBeLessThanOrEqual(1024 * 1024);
    expect(big.attributes.attributes._flowwatch).toMatchObject({ truncated: true });
  });

  it('survives pathologically deep nesting', async () => {
    const deep = `{"message":"deep","a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const res = await post('/api/v2/logs', deep);
    expect(res.status).toBe(202);
    const deepObj = `{"message":"deepobj","a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    expect((await post('/api/v2/logs', deepObj)).status).toBe(202);
  });

  it('answers 431 to oversized headers', async () => {
    const res = await post('/api/v2/logs', '{"message":"x"}', { 'x-huge': 'h'.repeat(64 * 1024) });
    expect(res.status).toBe(431);
  });

  it('answers 404 in Datadog shape for unknown paths', async () => {
    const res = await fetch(`${srv.url}/api/v2/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).errors[0]).toMatch(/Not found/);
  });
});

describe('search API paging and errors', () => {
  it('pages with cursors through every log exactly once', async () => {
    const tag = `page-${Date.now()}`;
    const batch = Array.from({ length: 1000 }, (_, i) => ({ message: `p${i}`, tag }));
    for (let i = 0; i < 3; i++) expect((await post('/api/v2/logs', JSON.stringify(batch))).status).toBe(202);
    const seen = new Set<string>();
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await search({ page: { limit: 700, cursor } });
      for (const l of page.data) {
        if (l.attributes.attributes.tag === tag) count++;
        seen.add(l.id);
      }
      cursor = page.meta.page?.after;
      if (cursor) expect(page.links.next).toContain('page%5Bcursor%5D=');
    } while (cursor);
    expect(count).toBe(3000);
    const total = await srv.store.countLogs();
    expect(seen.size).toBe(total);
  });

  it.each([
    [{ filter: { from: 'yesterday' } }, /filter.from/],
    [{ page: { limit: 5000 } }, /page.limit/],
    [{ sort: 'random' }, /sort/],
    [{ page: { cursor: 'garbage' } }, /cursor/],
    [{ filter: { from: 'now', to: 'now-1h' } }, /after/],
    [{ filter: { query: 5 } }, /filter.query must be a string/],
    [[1, 2], /JSON object/],
  ])('answers 400 to %j', async (body, detail) => {
    const res = await fetch(`${srv.url}/api/v2/logs/events/search`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0]).toMatch(detail);
  });
});

describe('search API hostile input', () => {
  it('answers 400 to repeated GET parameters and 401 before reading the body of a key-less request', async () => {
    const rep = await fetch(`${srv.url}/api/v2/logs/events?filter[query]=*&filter[query]=*`, {
      headers: appHeaders,
    });
    expect(rep.status).toBe(400);
    const noKeys = await fetch(`${srv.url}/api/v2/logs/events/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { query: 'x'.repeat(500_000) } }),
    });
    expect(noKeys.status).toBe(401);
  });
});

describe('metrics and health', () => {
  it('reports intake counters in Prometheus text', async () => {
    const res = await fetch(`${srv.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/flowwatch_intake_logs_total\{outcome="stored"\} \d+/);
    expect(text).toMatch(/flowwatch_intake_logs_total\{outcome="duplicate"\} \d+/);
    expect(text).toMatch(/flowwatch_intake_requests_total\{receiver="datadog",status="413"\} \d+/);
    expect(text).toMatch(/flowwatch_intake_out_of_window_total\{direction="past"\} \d+/);
    expect(text).toMatch(/flowwatch_intake_trimmed_total\{kind="truncated_logs"\} 1/);
  });

  it('answers /healthz with the store kind', async () => {
    const res = await fetch(`${srv.url}/healthz`);
    expect(await res.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
  });
});

describe('home page', () => {
  it('serves an HTML page at / with the intake URL to give Okta', async () => {
    const res = await fetch(`${srv.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain(`${srv.url}/api/v2/logs`);
    expect(html).toContain('DD-API-KEY');
  });
});

describe('entry limits on every body kind', () => {
  it('answers 413 to more than 1000 text lines and stores none of them', async () => {
    const before = await srv.store.countLogs();
    const res = await fetch(`${srv.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'dd-api-key': API_KEY },
      body: 'x\n'.repeat(1001),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].detail).toMatch(/1001 lines/);
    expect(await srv.store.countLogs()).toBe(before);
  });
});

describe('live-tail read', () => {
  it('follows stored order from the end, including an event dated 10 minutes ago', async () => {
    const tail = (q = '') =>
      fetch(`${srv.url}/api/flowwatch/v1/logs/tail${q}`, { headers: appHeaders }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const start = await tail();
    expect(start.body.data).toEqual([]);
    const id = `late-${Date.now()}`;
    expect(
      (
        await post(
          '/api/v2/logs',
          oktaBody(elsEvent('flow_fail', { execution_id: id, idempotency_key: id }, Date.now() - 600_000)),
        )
      ).status,
    ).toBe(202);
    const page = await tail(`?after=${start.body.meta.after}`);
    expect(page.body.data.map((l: any) => l.attributes.attributes.execution_id)).toEqual([id]);
    expect((await tail(`?after=${page.body.meta.after}`)).body.data).toEqual([]);
    expect((await tail('?after=garbage')).status).toBe(400);
    expect((await fetch(`${srv.url}/api/flowwatch/v1/logs/tail`)).status).toBe(401);
  });
});
