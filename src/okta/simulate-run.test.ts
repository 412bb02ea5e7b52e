import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { intakeUrl, retryAfterMs, runSimulation } from './simulate-run.ts';

interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Reply = (
  req: Received,
  index: number,
) => { status: number; headers?: Record<string, string>; delayMs?: number };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

/** A real loopback intake that records every request and answers as `reply` says (202 `{}` by default). */
async function intake(reply: Reply = () => ({ status: 202 })) {
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        at: Date.now(),
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(r);
      const { status, headers, delayMs } = reply(r, received.length - 1);
      setTimeout(() => {
        inFlight--;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{}');
      }, delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, received, maxInFlight: () => maxInFlight };
}

const defaults = { apiKey: 'test-key', flows: 10, failureRatio: 0.1, seed: 5 };

describe('runSimulation', () => {
  it('posts one event per request, in the Okta Datadog template, paced at the rate', async () => {
    const { base, received } = await intake();
    const started = Date.now();
    const summary = await runSimulation({ ...defaults, url: base, rate: 40, durationS: 1 });
    expect(summary.sent).toBe(40);
    expect(received).toHaveLength(40);
    expect(summary).toMatchObject({ accepted: 40, failed: 0, retries: 0, aborted: 0, stopped: false });
    expect(summary.url).toBe(`${base}/api/v2/logs`);
    expect(summary.byStatus).toEqual({ '202': 40 });
    expect(Object.values(summary.byEventType).reduce((a, b) => a + b, 0)).toBe(40);
    expect(summary.byEventType.FLOW_START).toBeGreaterThan(0);
    expect(summary.elapsedS).toBeGreaterThanOrEqual(0.99);
    expect(summary.achievedRate).toBeGreaterThan(20);
    expect(summary.latencyMs.p50).toBeLessThanOrEqual(summary.latencyMs.p99);
    // Paced, not sent in one burst: request k goes out k / rate seconds after the start.
    expect(received[20]!.at - started).toBeGreaterThanOrEqual(490);
    expect(received.at(-1)!.at - started).toBeGreaterThanOrEqual(960);
    const keys = new Map<string, number>();
    for (const r of received) {
      expect(r.path).toBe('/api/v2/logs');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['dd-api-key']).toBe('test-key');
      const body = JSON.parse(r.body);
      expect(Object.keys(body)).toEqual(['ddtags', 'ddsource', 'hostname', 'message', 'service']);
      expect(body).toMatchObject({
        ddtags: 'env:production,service:okta',
        ddsource: 'okta-workflows-els',
        service: 'okta',
      });
      const event = JSON.parse(body.message);
      expect(Array.isArray(event)).toBe(false);
      expect(event.org_hostname).toBe(body.hostname);
      expect(typeof event.event_type).toBe('string');
      // Timestamps track the wall clock: never from the past run-up, never far in the future.
      expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(started);
      expect(Date.parse(event.timestamp)).toBeLessThanOrEqual(r.at + 5000);
      keys.set(event.idempotency_key, (keys.get(event.idempotency_key) ?? 0) + 1);
    }
    const repeats = [...keys.values()].reduce((a, n) => a + n - 1, 0);
    expect(summary.duplicatesSent).toBe(repeats);
  });

  it('retries a 503 after the Retry-After delay, then counts the event accepted', async () => {
    const { base, received } = await intake((_r, i) =>
      i === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 202 },
    );
    const summary = await runSimulation({ ...defaults, url: base, rate: 10, durationS: 0.2 });
    expect(summary).toMatchObject({ sent: 2, accepted: 2, failed: 0, retries: 1 });
    expect(summary.byStatus).toEqual({ '503': 1, '202': 2 });
    expect(received).toHaveLength(3);
    const retried = received.slice(1).find((r) => r.body === received[0]!.body)!;
    expect(retried.at - received[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('counts a 401 as failed without retrying, and keeps a path given in the URL', async () => {
    const { base, received } = await intake(() => ({ status: 401 }));
    const summary = await runSimulation({ ...defaults, url: `${base}/v1/input`, rate: 20, durationS: 0.25 });
    expect(summary).toMatchObject({ sent: 5, accepted: 0, failed: 5, retries: 0 });
    expect(summary.byStatus).toEqual({ '401': 5 });
    expect(received.map((r) => r.path)).toEqual(Array(5).fill('/v1/input'));
  });

  it('never has more than `concurrency` requests in flight', async () => {
    const { base, maxInFlight } = await intake(() => ({ status: 202, delayMs: 150 }));
    const summary = await runSimulation({
      ...defaults,
      url: base,
      rate: 100,
      durationS: 0.1,
      concurrency: 2,
    });
    expect(summary).toMatchObject({ sent: 10, accepted: 10 });
    expect(maxInFlight()).toBe(2);
  });

  it('stops promptly on the signal and still returns a summary', async () => {
    const { base } = await intake(() => ({ status: 202, delayMs: 5000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const progress: number[] = [];
    const started = Date.now();
    const summary = await runSimulation({
      ...defaults,
      url: base,
      rate: 20,
      durationS: 30,
      signal: controller.signal,
      onProgress: (p) => progress.push(p.sent),
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(summary.stopped).toBe(true);
    expect(summary.sent).toBeGreaterThan(0);
    expect(summary.aborted).toBe(summary.sent);
    expect(summary.failed).toBe(0);
  });
});

describe('intake URL and Retry-After', () => {
  it('adds the Datadog path only to a bare origin', () => {
    expect(intakeUrl('http://localhost:8080')).toBe('http://localhost:8080/api/v2/logs');
    expect(intakeUrl('https://fw.example.com/')).toBe('https://fw.example.com/api/v2/logs');
    expect(intakeUrl('https://fw.example.com/v1/input?x=1')).toBe('https://fw.example.com/v1/input?x=1');
    expect(() => intakeUrl('ftp://x')).toThrow();
  });

  it('reads seconds and HTTP dates, and caps the wait', () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:05 GMT', Date.parse('2026-10-21T07:28:00Z'))).toBe(5000);
    expect(retryAfterMs('3600')).toBe(30_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
