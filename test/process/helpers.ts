// Helpers for the process-level tests: `flowwatch` children that are always cleaned up, ELS bodies as Okta
// posts them, and a full read of the search API.
//
// Children run as `node --import tsx src/cli/run.ts …` (one process) rather than through the `tsx` binary
// used by test/helpers/server.ts: `tsx` forks the real program as a grandchild, so a SIGKILL sent to the
// `tsx` process would orphan the server (still holding the port and the database) instead of killing it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';
import { API_KEY, APP_KEY, CLI, tempDir } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** tsx's loader, as an absolute URL so that children may run in any directory. */
const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const TEMPLATE = JSON.parse(
  readFileSync(path.join(ROOT, 'test/fixtures/els/okta_datadog_body.json'), 'utf8'),
) as Record<string, string>;
const COMPLETE = JSON.parse(
  readFileSync(path.join(ROOT, 'test/fixtures/els/flow_complete.json'), 'utf8'),
) as Record<string, unknown>;

/** The test keys as bootstrap environment. */
export const KEY_ENV = { FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY };

/** The environment of the test runner without any FLOWWATCH_* variable, so that every test sets its own. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('FLOWWATCH_') && !k.startsWith('VITEST')) env[k] = v;
  return { ...env, FLOWWATCH_LOG_LEVEL: 'warn', ...extra };
}

const live = new Set<ChildProcess>();

/** Kills (SIGKILL) every child still running and waits until they are gone; call it in afterEach. */
export async function killAll(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) {
      waits.push(new Promise((r) => c.once('exit', r)));
      c.kill('SIGKILL');
    }
  }
  live.clear();
  await Promise.all(waits);
}

/** A running `flowwatch` child. */
export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** resolves when it has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `flowwatch ARGS` as one child process, tracked for killAll. */
export function spawnFlowwatch(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), cwd = ROOT): Proc {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      r({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs `flowwatch ARGS` to completion (killed after `timeoutMs`). */
export async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnFlowwatch(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  if (signal)
    throw new Error(
      `flowwatch ${args.join(' ')} was killed (${signal}) after ${timeoutMs} ms: ${p.stdout()} ${p.stderr()}`,
    );
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls GET /healthz until 200; throws with the child's output if it exits or takes too long. */
export async function waitHealthy(
  p: Proc,
  url: string,
  timeoutMs = 30_000,
  get: (u: string) => Promise<number> = fetchStatus,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(
        `server exited early (${p.child.exitCode ?? p.child.signalCode}): ${p.stdout()} ${p.stderr()}`,
      );
    }
    try {
      if ((await get(`${url}/healthz`)) === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`server did not become healthy in ${timeoutMs} ms: ${p.stdout()} ${p.stderr()}`);
    await sleep(50);
  }
}

async function fetchStatus(u: string): Promise<number> {
  const res = await fetch(u, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

/** A `flowwatch serve` child that answers /healthz. */
export interface Server extends Proc {
  url: string;
  port: number;
}

/** Starts `flowwatch serve --port P ARGS` with the test keys and waits until it is healthy. */
export async function serve(args: string[], env: NodeJS.ProcessEnv = cleanEnv(KEY_ENV)): Promise<Server> {
  const port = await freePort();
  const p = spawnFlowwatch(['serve', '--port', String(port), ...args], env);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(p, url);
  return { ...p, url, port };
}

/** Sends a signal and waits for the exit. */
export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) {
  p.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no exit ${timeoutMs} ms after ${signal}: ${p.stdout()} ${p.stderr()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** An ELS event (the published FLOW_COMPLETE sample) with a fresh execution_id, idempotency_key and timestamp. */
export function elsEvent(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> & { execution_id: string } {
  return {
    ...COMPLETE,
    execution_id: randomUUID(),
    idempotency_key: randomBytes(16).toString('hex'),
    timestamp: new Date().toISOString(),
    ...overrides,
  } as Record<string, unknown> & { execution_id: string };
}

/** The body Okta posts with the Datadog template: the event as an escaped JSON string in `message`. */
export function elsBody(event: Record<string, unknown>): string {
  return JSON.stringify({ ...TEMPLATE, message: JSON.stringify(event) });
}

/** POSTs one ELS event as Okta does; resolves with the HTTP status. */
export async function postEvent(
  url: string,
  event: Record<string, unknown>,
  apiKey = API_KEY,
): Promise<number> {
  const res = await fetch(`${url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': apiKey },
    body: elsBody(event),
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A log as the search API returns it. */
export interface ApiLog {
  id: string;
  attributes: { timestamp: string; message: string; attributes: Record<string, unknown> };
}

/** Every log dated in the last hour (or `from`), read page by page through POST /api/v2/logs/events/search. */
export async function searchAll(
  url: string,
  headers: Record<string, string>,
  from = 'now-1h',
): Promise<ApiLog[]> {
  const all: ApiLog[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const res = await fetch(`${url}/api/v2/logs/events/search`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        filter: { query: '*', from, to: 'now+1h' },
        sort: 'timestamp',
        page: { limit: 1000, ...(cursor ? { cursor } : {}) },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`search answered ${res.status}: ${text}`);
    const body = JSON.parse(text) as { data: ApiLog[]; meta?: { page?: { after?: string } } };
    all.push(...body.data);
    cursor = body.meta?.page?.after;
    if (!cursor) return all;
  }
  throw new Error('search did not stop paging');
}

/** Execution ids of logs, with how often each occurs. */
export function countByExecution(logs: ApiLog[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of logs) {
    const id = l.attributes.attributes.execution_id;
    if (typeof id === 'string') m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

/** ELS posters: `senders` concurrent loops posting fresh events until `stop()`; records what got 202. */
export function loadGenerator(url: string, senders: number, pauseMs = 0) {
  const acked: string[] = [];
  const sent = new Set<string>();
  const statuses = new Map<string, number>();
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const e = elsEvent();
      sent.add(e.execution_id);
      let key: string;
      try {
        const s = await postEvent(url, e);
        key = String(s);
        if (s === 202) acked.push(e.execution_id);
      } catch (err) {
        key = (err as Error).name;
      }
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (key !== '202' && key !== '503') await sleep(20);
      if (pauseMs) await sleep(pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: senders }, loop));
  return {
    acked,
    sent,
    statuses,
    /** stops the loops and waits until every request has answered or failed */
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/**
 * Temporary directories for one test file: `dir(prefix)` makes one; after each test every child process is
 * killed and the directories are removed.
 */
export function tempDirsPerTest(): (prefix: string) => string {
  const dirs: string[] = [];
  afterEach(async () => {
    await killAll();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return (prefix: string) => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
}
