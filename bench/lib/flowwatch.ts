// Flowwatch under test: `flowwatch serve` from the built dist (bin/flowwatch.js) as a child process, on a
// temporary data directory with known keys.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Child, freePort, spawnNode, tempDir, waitHealthy } from './children.ts';

/** Repository root. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The node flags of the `start` script in package.json (the server's heap cap). */
export const START_NODE_ARGS: string[] = (
  /^node ((?:--\S+ )*)bin\/flowwatch\.js serve$/.exec(
    (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start,
  )?.[1] ?? ''
)
  .split(' ')
  .filter(Boolean);
/** Intake key the benchmark servers accept. */
export const API_KEY = 'bench-api-key-0123456789abcdef00000';
export const APP_KEY = 'bench-app-key-0123456789abcdef000000000000';

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** Builds dist/ with `npm run build` when it is missing or older than src/; returns a note for the report. */
export function ensureBuilt(): string {
  const entry = path.join(ROOT, 'dist/cli/main.js');
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(path.join(ROOT, 'src')))
    return 'dist up to date';
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return 'built with npm run build';
  const firstError = `${r.stdout}${r.stderr}`.split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  return `npm run build failed (${firstError.trim()})`;
}

/** A running Flowwatch child. */
export interface FlowwatchChild extends Child {
  dataDir: string;
  launcher: string;
}

/** Starts Flowwatch (the built dist, as users run it) on a fresh data dir and waits until it is healthy. */
export async function startFlowwatch(): Promise<FlowwatchChild> {
  const dataDir = tempDir('flowwatch-bench-');
  const env = {
    ...process.env,
    FLOWWATCH_API_KEY: API_KEY,
    FLOWWATCH_APP_KEY: APP_KEY,
    FLOWWATCH_LOG_LEVEL: 'warn',
  };
  // As `npm start` runs it (package.json: the V8 heap capped, docs/operations.md), plus e.g.
  // BENCH_FLOWWATCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/profiles" to profile the server.
  const nodeArgs = [
    ...START_NODE_ARGS,
    ...(process.env.BENCH_FLOWWATCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const port = await freePort();
  const child = spawnNode(
    [...nodeArgs, 'bin/flowwatch.js', 'serve', '--port', String(port), '--data-dir', dataDir],
    {
      cwd: ROOT,
      env,
      url: `http://127.0.0.1:${port}`,
    },
  );
  try {
    await waitHealthy(child, '/healthz', 30_000);
  } catch (err) {
    child.proc.kill('SIGKILL');
    await child.exited;
    throw new Error(`Flowwatch did not start (run npm run build?): ${(err as Error).message}`);
  }
  return { ...child, dataDir, launcher: 'dist (bin/flowwatch.js)' };
}

/** Rows in the `logs` table of a (stopped) Flowwatch data directory. */
export function countStoredLogs(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'flowwatch.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Enables or disables the built-in Okta pipeline of a running Flowwatch through the pipeline API. */
export async function setOktaPipeline(url: string, enabled: boolean): Promise<void> {
  const headers = {
    'dd-api-key': API_KEY,
    'dd-application-key': APP_KEY,
    'content-type': 'application/json',
  };
  const at = `${url}/api/v1/logs/config/pipelines/okta-workflows-execution-logs`;
  const got = (await (await fetch(at, { headers })).json()) as Record<string, unknown>;
  const { id: _i, type: _t, is_read_only: _r, ...body } = got;
  const res = await fetch(at, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ ...body, is_enabled: enabled }),
  });
  if (res.status !== 200)
    throw new Error(`toggling the Okta pipeline: HTTP ${res.status} ${await res.text()}`);
}
