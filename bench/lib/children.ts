// Child processes for the benchmarks: free ports, health waits, orderly stops, RSS sampling, and a guarantee
// that no child outlives the benchmark (exit, signals, uncaught errors).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

function cleanUp(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** A fresh temporary directory, removed when this process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Installs handlers that SIGKILL every tracked child (and remove temp dirs) when this process ends. */
export function killChildrenOnExit(): void {
  process.on('exit', cleanUp);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => process.exit(128 + constants.signals[sig]));
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}

/** A port that was free a moment ago: listen on 127.0.0.1:0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A spawned, tracked child with its combined output. */
export interface Child {
  proc: ChildProcess;
  pid: number;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns `node args…` in `cwd` and tracks it; `url` is where it will listen. */
export function spawnNode(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; url: string }): Child {
  const proc = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) =>
    proc.on('exit', (code) => {
      live.delete(proc);
      r(code);
    }),
  );
  return { proc, pid: proc.pid ?? -1, url: opts.url, output: () => out, exited };
}

/** Waits until GET `url` answers 200; rejects if the child exits first or the deadline passes. */
export async function waitHealthy(child: Child, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null)
      throw new Error(`exited with code ${child.proc.exitCode}: ${child.output().trim()}`);
    try {
      const res = await fetch(`${child.url}${path}`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not healthy after ${timeoutMs} ms: ${child.output().trim()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `signal` and waits for the exit code; SIGKILLs after `timeoutMs`. */
export async function stopChild(
  child: Child,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<number | null> {
  if (child.proc.exitCode !== null) return child.proc.exitCode;
  child.proc.kill(signal);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, all threads) a process has used, in seconds, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  // fields after "pid (comm) ": state is the first, utime and stime the 12th and 13th, in clock ticks (100/s)
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every `intervalMs` and keeps the maximum. */
export class RssSampler {
  max = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Starts sampling `pid` (stops sampling any previous one). */
  watch(pid: number, intervalMs = 250): void {
    this.stop();
    const sample = () => {
      const v = rssBytes(pid);
      if (v !== undefined && v > this.max) this.max = v;
    };
    sample();
    this.timer = setInterval(sample, intervalMs);
  }

  /** Stops sampling; the maximum stays. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
