// `flowwatch serve` as a supervised process: orderly stop on SIGTERM/SIGINT, key bootstrap, settings from
// the environment, config file errors and HTTPS.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { API_KEY, appHeaders, runCli, tempDir } from '../helpers/server.ts';
import {
  cleanEnv,
  countByExecution,
  elsBody,
  elsEvent,
  freePort,
  KEY_ENV,
  loadGenerator,
  type Proc,
  postEvent,
  searchAll,
  serve,
  sleep,
  spawnFlowwatch,
  stop,
  tempDirsPerTest,
  waitHealthy,
} from './helpers.ts';

const dir = tempDirsPerTest();

/** Waits until `check` passes or throws its last error after `ms`. */
async function eventually<T>(check: () => T | Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

describe('serve: orderly stop', () => {
  it('SIGTERM during a trickle of requests exits 0, keeps every acknowledged event and checkpoints the WAL', async () => {
    const dataDir = dir('flowwatch-sigterm-');
    const server = await serve(['--data-dir', dataDir]);
    const load = loadGenerator(server.url, 3, 5);
    await eventually(() => expect(load.acked.length).toBeGreaterThan(50), 15_000);

    const exit = await stop(server, 'SIGTERM');
    await load.stop();
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });

    const wal = path.join(dataDir, 'flowwatch.db-wal');
    if (existsSync(wal)) expect(statSync(wal).size, 'the WAL is checkpointed at stop').toBe(0);
    for (const status of load.statuses.keys()) expect(['202', '503', 'TypeError']).toContain(status);

    const again = await serve(['--data-dir', dataDir]);
    const found = countByExecution(await searchAll(again.url, appHeaders));
    const missing = load.acked.filter((id) => !found.has(id));
    expect(missing, `${missing.length} of ${load.acked.length} acknowledged events lost`).toEqual([]);
    expect([...found.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it('SIGINT also stops it with exit code 0', async () => {
    const dataDir = dir('flowwatch-sigint-');
    const server = await serve(['--data-dir', dataDir]);
    expect(await postEvent(server.url, elsEvent())).toBe(202);
    const exit = await stop(server, 'SIGINT');
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    const wal = path.join(dataDir, 'flowwatch.db-wal');
    if (existsSync(wal)) expect(statSync(wal).size).toBe(0);
  }, 60_000);
});

describe('serve: bootstrap keys', () => {
  it('generates keys on first start without FLOWWATCH_API_KEY/APP_KEY, prints them once and stores only hashes', async () => {
    const dataDir = dir('flowwatch-bootstrap-');
    const env = cleanEnv({ FLOWWATCH_API_KEY: '', FLOWWATCH_APP_KEY: '' });
    const first = await serve(['--data-dir', dataDir], env);
    const { apiKey, appKey } = await eventually(() => {
      const api = /API key[^\n]*?:\s*([0-9a-f]{32})\s*$/m.exec(first.stdout());
      const app = /Application key[^\n]*?:\s*([0-9a-f]{40})\s*$/m.exec(first.stdout());
      expect(api, first.stdout()).not.toBeNull();
      expect(app, first.stdout()).not.toBeNull();
      return { apiKey: api![1]!, appKey: app![1]! };
    });
    expect(first.stdout().split(apiKey).length - 1, 'the API key is printed once').toBe(1);
    expect(first.stdout().split(appKey).length - 1, 'the application key is printed once').toBe(1);

    const event = elsEvent();
    expect(await postEvent(first.url, event, apiKey)).toBe(202);
    expect(await postEvent(first.url, elsEvent(), API_KEY), 'the test key is not accepted').toBe(403);
    const headers = {
      'dd-api-key': apiKey,
      'dd-application-key': appKey,
      'content-type': 'application/json',
    };
    const logs = await searchAll(first.url, headers);
    expect(countByExecution(logs).get(event.execution_id)).toBe(1);
    expect((await stop(first)).code).toBe(0);

    const second = await serve(['--data-dir', dataDir], env);
    expect(await postEvent(second.url, elsEvent(), apiKey), 'generated keys survive a restart').toBe(202);
    await sleep(500);
    expect((await stop(second)).code).toBe(0);
    expect(second.stdout()).not.toMatch(/[0-9a-f]{32}/);
    expect(second.stdout()).not.toMatch(/generated/i);

    const db = new Database(path.join(dataDir, 'flowwatch.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM keys').all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) {
        for (const value of Object.values(row)) {
          const s = String(value);
          expect(s.includes(apiKey) || s.includes(appKey), `keys column holds a secret: ${s}`).toBe(false);
        }
      }
    } finally {
      db.close();
    }
    const file = readFileSync(path.join(dataDir, 'flowwatch.db'));
    expect(file.includes(apiKey), 'the API key is nowhere in the database file').toBe(false);
    expect(file.includes(appKey), 'the application key is nowhere in the database file').toBe(false);
  }, 60_000);
});

describe('serve: settings', () => {
  it('honours FLOWWATCH_HOST, FLOWWATCH_PORT and FLOWWATCH_DATA_DIR without flags', async () => {
    const dataDir = path.join(dir('flowwatch-envdir-'), 'nested', 'data');
    const cwd = dir('flowwatch-cwd-');
    const port = await freePort();
    // 127.0.0.2 is loopback on Linux too: listening there proves the host came from the environment
    const env = cleanEnv({
      ...KEY_ENV,
      FLOWWATCH_HOST: '127.0.0.2',
      FLOWWATCH_PORT: String(port),
      FLOWWATCH_DATA_DIR: dataDir,
    });
    const p = spawnFlowwatch(['serve'], env, cwd);
    const url = `http://127.0.0.2:${port}`;
    await waitHealthy(p, url);
    expect(await postEvent(url, elsEvent())).toBe(202);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect((await stop(p)).code).toBe(0);
    expect(existsSync(path.join(dataDir, 'flowwatch.db'))).toBe(true);
    expect(existsSync(path.join(cwd, 'data')), 'the default ./data is not used').toBe(false);
  }, 60_000);

  it.each([
    ['top-level settings', 'host: 127.0.0.1\nport: nope\n'],
    ['settings under a `settings:` key', 'settings:\n  port: nope\n'],
  ])(
    'refuses a bad config file (%s) with a message naming the file and the line',
    async (_, yaml) => {
      const d = dir('flowwatch-config-');
      const file = path.join(d, 'flowwatch.yaml');
      writeFileSync(file, yaml);
      const p = spawnFlowwatch(['serve', '--config', file, '--data-dir', path.join(d, 'data')]);
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
      const exit = await p.exited;
      clearTimeout(timer);
      expect(exit.signal, 'it exits by itself').toBeNull();
      expect(exit.code).not.toBe(0);
      const message = p.stderr() + p.stdout();
      expect(message).toContain(file);
      expect(message).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2(:|\\b)|line 2`));
      expect(message).toMatch(/port/);
    },
    60_000,
  );
});

/** A request over HTTPS to a self-signed server. */
function httpsRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('serve: TLS', () => {
  it('serves HTTPS with --tls-cert/--tls-key', async () => {
    const d = dir('flowwatch-tls-');
    const cert = path.join(d, 'cert.pem');
    const key = path.join(d, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    const port = await freePort();
    const p: Proc = spawnFlowwatch(
      [
        'serve',
        '--port',
        String(port),
        '--data-dir',
        path.join(d, 'data'),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
      ],
      cleanEnv(KEY_ENV),
    );
    const url = `https://127.0.0.1:${port}`;
    await waitHealthy(p, url, 30_000, async (u) => (await httpsRequest(u, 'GET', {})).status);

    const event = elsEvent();
    const res = await httpsRequest(
      `${url}/api/v2/logs`,
      'POST',
      { 'content-type': 'application/json', 'dd-api-key': API_KEY },
      elsBody(event),
    );
    expect(res.status, res.body).toBe(202);
    const search = await httpsRequest(
      `${url}/api/v2/logs/events/search`,
      'POST',
      appHeaders,
      JSON.stringify({ filter: { from: 'now-1h', to: 'now+1h' }, page: { limit: 10 } }),
    );
    expect(search.status, search.body).toBe(200);
    expect(search.body).toContain(event.execution_id);
    // plain HTTP on the same port is not served
    await expect(
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status),
    ).rejects.toThrow();
    expect((await stop(p)).code).toBe(0);
  }, 60_000);
});

describe('serve: a port already in use', () => {
  it('exits 1 with a message naming the address and what to do', async () => {
    const blocker = (await import('node:net')).createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--port', String(port), '--data-dir', tempDir()], {
        FLOWWATCH_API_KEY: 'k',
        FLOWWATCH_APP_KEY: 'a',
        FLOWWATCH_LOG_LEVEL: 'silent',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--port`));
    } finally {
      blocker.close();
    }
  }, 30_000);
});
