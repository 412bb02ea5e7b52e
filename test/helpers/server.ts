// Test helpers: an in-process server on a fresh data directory, and running the CLI as a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { loadSettings, type Settings } from '../../src/config/settings.ts';
import { type Running, startServer } from '../../src/main.ts';
import type { Store } from '../../src/store/store.ts';

/** Keys every test server accepts. */
export const API_KEY = 'test-api-key-0123456789abcdef0000';
export const APP_KEY = 'test-app-key-0123456789abcdef00000000000';

/** A fresh temporary directory. */
export function tempDir(prefix = 'flowwatch-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Starts an in-process server on 127.0.0.1:0 with the test keys. */
export async function startTestServer(
  overrides: Partial<Settings> = {},
  store?: Store,
): Promise<Running & { dataDir: string }> {
  const dataDir = overrides.data_dir ?? tempDir();
  const settings = {
    ...loadSettings({ flags: { data_dir: dataDir, port: 0 }, env: {} }),
    ...overrides,
    data_dir: dataDir,
  };
  const running = await startServer(settings, {
    env: { FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY },
    logger: pino({ level: 'silent' }),
    store,
  });
  return { ...running, dataDir };
}

/** Headers for the management and search APIs. */
export const appHeaders = {
  'dd-api-key': API_KEY,
  'dd-application-key': APP_KEY,
  'content-type': 'application/json',
};

/** Path of the CLI entry run through tsx (no build needed in tests). */
export const CLI = path.resolve(import.meta.dirname, '../../src/cli/run.ts');
// One process per child (`node --import tsx`), so that a signal reaches the server itself, not a wrapper.
const TSX_LOADER = pathToFileURL(
  path.resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs'),
).href;
const NODE_ARGS = ['--import', TSX_LOADER];

/** Runs `flowwatch <args>` to completion and returns its output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
