// Load generation with autocannon: a fixed-duration run whose every request gets a fresh body.
import autocannon from 'autocannon';
import { cpuSeconds } from './children.ts';

/** What one run measured. */
export interface RunResult {
  seconds: number;
  /** 2xx responses per second over the run */
  okPerSec: number;
  ok: number;
  non2xx: number;
  /** connection errors, timeouts included */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the server process used per answered request, in microseconds */
  serverCpuUs: number;
  /** CPU the server process used, in percent of one core */
  serverCpuPct: number;
}

/** Options of one run. */
export interface RunOptions {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  /** called once per request; must return a body never sent before */
  nextBody: () => string | Buffer;
  /** the server's pid, to measure its CPU use */
  serverPid: number;
}

/** POSTs to `url` for `seconds` with `connections` keep-alive connections. */
export async function run(o: RunOptions): Promise<RunResult> {
  const cpu0 = cpuSeconds(o.serverPid);
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: o.headers,
        setupRequest: (req) => ({ ...req, body: o.nextBody() }),
      },
    ],
  });
  const cpu = cpuSeconds(o.serverPid) - cpu0;
  const ok = r['2xx'];
  return {
    seconds: r.duration,
    okPerSec: ok / r.duration,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverCpuUs: (cpu * 1e6) / Math.max(1, ok + r.non2xx),
    serverCpuPct: (cpu / r.duration) * 100,
  };
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
