// Paced load: POSTs at a fixed rate over keep-alive connections (node:http), every request with a fresh body,
// as a steady background rather than as fast as possible. Also a single timed POST for probes.
import http from 'node:http';

/** What one paced run did. */
export interface PacedResult {
  seconds: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** requests that were due but not sent because `maxInFlight` were already waiting */
  behind: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Options of a paced run. */
export interface PacedOptions {
  url: string;
  /** requests per second */
  rate: number;
  seconds: number;
  headers: Record<string, string>;
  /** called once per request */
  nextBody: () => string | Buffer;
  agent: http.Agent;
  /** at most this many requests waiting for an answer (default 64) */
  maxInFlight?: number;
}

/** Nearest-rank percentile of a list (sorted in place); NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] as number;
}

/** A keep-alive agent for a load generator. */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** A POST; resolves with the status and the time the response headers arrived (Date.now()). */
export function post(
  url: URL,
  headers: Record<string, string>,
  body: string | Buffer,
  agent: http.Agent,
): Promise<{ status: number; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const at = Date.now();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, at }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `rate` requests per second for `seconds` (checked every 5 ms), then waits for the answers. */
export async function paced(o: PacedOptions): Promise<PacedResult> {
  const url = new URL(o.url);
  const maxInFlight = o.maxInFlight ?? 64;
  const lat: number[] = [];
  const r = { sent: 0, ok: 0, non2xx: 0, errors: 0, behind: 0 };
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const t0 = performance.now();
  const send = () => {
    const s = performance.now();
    inFlight++;
    r.sent++;
    post(url, o.headers, o.nextBody(), o.agent)
      .then(
        ({ status }) => {
          lat.push(performance.now() - s);
          if (status >= 200 && status < 300) r.ok++;
          else r.non2xx++;
        },
        () => {
          r.errors++;
        },
      )
      .finally(() => {
        inFlight--;
        if (inFlight === 0) drained?.();
      });
  };
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      const due = Math.floor(Math.min(elapsed, o.seconds) * o.rate) - r.sent - r.behind;
      for (let i = 0; i < due; i++) {
        if (inFlight >= maxInFlight) {
          r.behind += due - i;
          break;
        }
        send();
      }
      if (elapsed >= o.seconds) {
        clearInterval(timer);
        done();
      }
    }, 5);
  });
  const seconds = (performance.now() - t0) / 1000;
  if (inFlight > 0) await new Promise<void>((d) => (drained = d));
  return {
    seconds,
    ...r,
    p50Ms: percentile(lat, 50),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length ? (lat.at(-1) as number) : Number.NaN,
  };
}
