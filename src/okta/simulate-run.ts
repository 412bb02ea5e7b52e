// The I/O half of `flowwatch simulate`: posts simulated ELS events to an intake the way Okta does (one event
// per POST, Datadog body template, DD-API-KEY header), paced, with bounded concurrency and retries.
import { type ElsEvent, ElsSimulator, oktaDatadogBody } from './simulator.ts';

/** Live counters, reported once a second while a run goes on. */
export interface Progress {
  sent: number;
  accepted: number;
  failed: number;
  inFlight: number;
  elapsedS: number;
  rate: number;
}

/** What a run did. `byStatus` counts every attempt's outcome (HTTP status, `timeout` or `network`). */
export interface Summary {
  url: string;
  seed: number;
  sent: number;
  accepted: number;
  duplicatesSent: number;
  failed: number;
  aborted: number;
  retries: number;
  byStatus: Record<string, number>;
  byEventType: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number };
  elapsedS: number;
  achievedRate: number;
  stopped: boolean;
}

/** Options of runSimulation; `rate` is events per second, `concurrency` the most requests in flight (16). */
export interface RunOptions {
  url: string;
  apiKey: string;
  rate: number;
  durationS: number;
  flows: number;
  failureRatio: number;
  seed: number;
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

const MAX_TRIES = 5;
const TIMEOUT_MS = 10_000;
const MAX_WAIT_MS = 30_000;
const MAX_LEAD_MS = 5_000;

/** The intake URL to post to: a bare origin gets Datadog's log intake path, any other path is kept. */
export function intakeUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TypeError(`not an http(s) URL: ${url}`);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/api/v2/logs';
  return parsed.toString();
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), capped; undefined when absent. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - nowMs;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_WAIT_MS, Math.max(0, ms));
}

// Resolves true after ms, or false as soon as the signal aborts.
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const v = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return Math.round(v * 10) / 10;
}

interface Attempt {
  status: string;
  ok: boolean;
  retry: boolean;
  waitMs?: number;
  latencyMs?: number;
}

// One POST: its outcome (HTTP status, `timeout` or `network`), whether to retry, how long the intake asks to wait.
async function attempt(url: string, init: RequestInit, stop: AbortSignal): Promise<Attempt> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      ...init,
      signal: AbortSignal.any([stop, AbortSignal.timeout(TIMEOUT_MS)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    const waitMs = retryAfterMs(res.headers.get('retry-after'));
    return { status: String(res.status), ok: res.ok, retry, waitMs, latencyMs: performance.now() - started };
  } catch (err) {
    return { status: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network', ok: false, retry: true };
  }
}

/** Posts `rate` events a second for `durationS` seconds and says what happened; stops early on `signal`. */
export async function runSimulation(opts: RunOptions): Promise<Summary> {
  const url = intakeUrl(opts.url);
  if (!(opts.rate > 0 && Number.isFinite(opts.rate))) throw new RangeError('rate must be a positive number');
  if (!(opts.durationS >= 0 && Number.isFinite(opts.durationS)))
    throw new RangeError('durationS must be >= 0');
  const stop = opts.signal ?? new AbortController().signal;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 16));
  const sim = new ElsSimulator({
    seed: opts.seed,
    flows: opts.flows,
    failureRatio: opts.failureRatio,
    startMs: Date.now(),
    eventsPerSecond: opts.rate,
  });
  const headers = { 'Content-Type': 'application/json', 'DD-API-KEY': opts.apiKey };
  const s: Summary = {
    url,
    seed: opts.seed,
    sent: 0,
    accepted: 0,
    duplicatesSent: 0,
    failed: 0,
    aborted: 0,
    retries: 0,
    byStatus: {},
    byEventType: {},
    latencyMs: { p50: 0, p95: 0, p99: 0 },
    elapsedS: 0,
    achievedRate: 0,
    stopped: false,
  };
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  const count = (key: string): void => {
    s.byStatus[key] = (s.byStatus[key] ?? 0) + 1;
  };

  // One event: up to MAX_TRIES attempts; 408/429/5xx/network errors are retried, other statuses are final.
  const deliver = async (event: ElsEvent): Promise<void> => {
    const init = { method: 'POST', headers, body: oktaDatadogBody(event) };
    for (let n = 1; n <= MAX_TRIES && !stop.aborted; n++) {
      const a = await attempt(url, init, stop);
      if (a.latencyMs === undefined && stop.aborted) break;
      if (a.latencyMs !== undefined) latencies.push(a.latencyMs);
      count(a.status);
      if (a.ok) {
        s.accepted++;
        return;
      }
      if (!a.retry || n === MAX_TRIES) {
        s.failed++;
        return;
      }
      s.retries++;
      await sleep(a.waitMs ?? Math.min(8000, 250 * 2 ** (n - 1)) * (0.5 + Math.random() / 2), stop);
    }
    s.aborted++;
  };

  const progress = (): Progress => ({
    sent: s.sent,
    accepted: s.accepted,
    failed: s.failed,
    inFlight: inFlight.size,
    elapsedS: elapsedS(),
    rate: s.sent / Math.max(elapsedS(), 1e-3),
  });
  const ticker = opts.onProgress ? setInterval(() => opts.onProgress?.(progress()), 1000) : undefined;
  try {
    // Event k is due at k / rate seconds; a slow intake delays sending, it never grows the concurrency. The
    // generator's clock may not run more than MAX_LEAD_MS ahead of ours (no timestamps from the future).
    const end = t0 + opts.durationS * 1000;
    let shift = 0;
    for (let k = 0; t0 + shift + (k * 1000) / opts.rate < end && !stop.aborted; k++) {
      const wait = t0 + shift + (k * 1000) / opts.rate - performance.now();
      if (wait > 0 && !(await sleep(wait, stop))) break;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const [event] = sim.take(1) as [ElsEvent];
      const lead = Date.parse(event.timestamp) - Date.now() - MAX_LEAD_MS;
      if (lead > 0 && !(await sleep(lead, stop))) break;
      shift += Math.max(0, lead);
      if (stop.aborted) break;
      s.sent++;
      if (sim.isRedelivery(event)) s.duplicatesSent++;
      s.byEventType[event.event_type] = (s.byEventType[event.event_type] ?? 0) + 1;
      const p = deliver(event).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    const left = end - performance.now();
    if (left > 0) await sleep(left, stop);
  } finally {
    if (ticker) clearInterval(ticker);
  }
  latencies.sort((a, b) => a - b);
  s.latencyMs = {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
  s.elapsedS = Math.round(elapsedS() * 1000) / 1000;
  s.achievedRate = Math.round((s.sent / Math.max(s.elapsedS, 1e-3)) * 100) / 100;
  s.stopped = stop.aborted;
  return s;
}
