// Flowwatch under test: `flowwatch serve` as a child process (built dist preferred, then the CLI from source
// through tsx, then bench/serve-child.ts), on a temporary data directory with known keys.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Child, freePort, spawnNode, tempDir, waitHealthy } from './children.ts';

/** Repository root. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
/** Intake key the benchmark servers accept. */
export const API_KEY = 'bench-api-key-0123456789abcdef00000';
const APP_KEY = 'bench-app-key-0123456789abcdef000000000000';

/** One way of starting `flowwatch serve`. */
interface Launcher {
  name: string;
  args: (port: number, dataDir: string) => string[];
}

const LAUNCHERS: Launcher[] = [
  {
    name: 'dist (bin/flowwatch.js)',
    args: (p, d) => ['bin/flowwatch.js', 'serve', '--port', String(p), '--data-dir', d],
  },
  {
    name: 'source CLI (tsx src/cli/run.ts)',
    args: (p, d) => ['--import', 'tsx', 'src/cli/run.ts', 'serve', '--port', String(p), '--data-dir', d],
  },
  {
    name: 'bench/serve-child.ts (startServer, CLI bypassed)',
    args: (p, d) => ['--import', 'tsx', 'bench/serve-child.ts', String(p), d],
  },
];

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

const failures: string[] = [];

/** Launcher failures seen so far (for the report). */
export function launcherFailures(): string[] {
  return failures;
}

let preferred = 0;

/** Starts Flowwatch on a fresh data dir with the first launcher that becomes healthy. */
export async function startFlowwatch(): Promise<FlowwatchChild> {
  const dataDir = tempDir('flowwatch-bench-');
  const env = {
    ...process.env,
    FLOWWATCH_API_KEY: API_KEY,
    FLOWWATCH_APP_KEY: APP_KEY,
    FLOWWATCH_LOG_LEVEL: 'warn',
  };
  // e.g. BENCH_FLOWWATCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=bench/profiles" to profile the server
  const nodeArgs = (process.env.BENCH_FLOWWATCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  for (let i = preferred; i < LAUNCHERS.length; i++) {
    const l = LAUNCHERS[i]!;
    const port = await freePort();
    const child = spawnNode([...nodeArgs, ...l.args(port, dataDir)], {
      cwd: ROOT,
      env,
      url: `http://127.0.0.1:${port}`,
    });
    try {
      await waitHealthy(child, '/healthz', 30_000);
      preferred = i;
      return { ...child, dataDir, launcher: l.name };
    } catch (err) {
      child.proc.kill('SIGKILL');
      await child.exited;
      failures.push(`${l.name}: ${(err as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300)}`);
    }
  }
  throw new Error(`Flowwatch did not start:\n${failures.join('\n')}`);
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
