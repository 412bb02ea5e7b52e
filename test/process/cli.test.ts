// The `flowwatch` command line against real data directories and a running server: keys, backup and
// restore, search and tail.
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { API_KEY, APP_KEY, appHeaders } from '../helpers/server.ts';
import {
  cleanEnv,
  cli,
  countByExecution,
  elsEvent,
  loadGenerator,
  postEvent,
  searchAll,
  serve,
  sleep,
  spawnFlowwatch,
  stop,
  tempDirsPerTest,
} from './helpers.ts';

const dir = tempDirsPerTest();

/** The flags that point `search` and `tail` at a server with the test keys. */
const clientArgs = (url: string) => ['--url', url, '--api-key', API_KEY, '--app-key', APP_KEY];

/** Polls `probe` until it returns `want`; resolves with the elapsed milliseconds or throws after `ms`. */
async function until<T>(probe: () => Promise<T>, want: T, ms: number): Promise<number> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started <= ms) {
    last = await probe();
    if (last === want) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`still ${String(last)} instead of ${String(want)} after ${ms} ms`);
}

describe('keys', () => {
  it('creates, lists and revokes keys; a running server follows within ~2 s', async () => {
    const dataDir = dir('flowwatch-keys-');
    const server = await serve(['--data-dir', dataDir]);

    const created = await cli([
      'keys',
      'create',
      '--kind',
      'api',
      '--name',
      'ci',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const rec = JSON.parse(created.stdout) as { id: string; kind: string; name: string; key: string };
    expect(rec).toMatchObject({ kind: 'api', name: 'ci' });
    expect(rec.key).toMatch(/^[0-9a-f]{32}$/);
    const waited = await until(() => postEvent(server.url, elsEvent(), rec.key), 202, 2500);
    expect(waited).toBeLessThanOrEqual(2500);

    const list = await cli(['keys', 'list', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.includes(rec.id));
    expect(line, list.stdout).toBeDefined();
    expect(line).toMatch(/\bci\b/);
    expect(line).toMatch(/active/);
    expect(list.stdout).not.toContain(rec.key);
    const listJson = await cli(['keys', 'list', '--json', '--data-dir', dataDir]);
    expect(listJson.code).toBe(0);
    expect(listJson.stdout).not.toContain(rec.key);
    const listed = JSON.parse(listJson.stdout) as Record<string, unknown>[];
    expect(listed.find((k) => k.id === rec.id)).toMatchObject({ kind: 'api', name: 'ci', revoked_at: null });
    expect(listed.every((k) => !('hash' in k) && !('key' in k))).toBe(true);

    const revoked = await cli(['keys', 'revoke', 'ci', '--data-dir', dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until(() => postEvent(server.url, elsEvent(), rec.key), 403, 2500);
    // other keys are untouched
    expect(await postEvent(server.url, elsEvent(), API_KEY)).toBe(202);
    const after = await cli(['keys', 'list', '--data-dir', dataDir]);
    expect(after.stdout.split('\n').find((l) => l.includes(rec.id))).toMatch(/revoked/);
  }, 60_000);

  it('revoking an unknown name and an unknown --kind exit 1 with a message naming them', async () => {
    const dataDir = dir('flowwatch-keys-bad-');
    const unknown = await cli(['keys', 'revoke', 'no-such-key', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no-such-key');

    const bogus = await cli(['keys', 'create', '--kind', 'bogus', '--data-dir', dataDir]);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toContain('--kind');
    expect(bogus.stderr).toContain('bogus');
    expect(bogus.stdout).not.toMatch(/[0-9a-f]{32}/);
  }, 60_000);
});

describe('backup', () => {
  it('copies the database while the server writes; the copy restores into a working server', async () => {
    const dataDir = dir('flowwatch-backup-src-');
    const out = dir('flowwatch-backup-out-');
    const file = path.join(out, 'backup.db');
    const server = await serve(['--data-dir', dataDir]);
    // a database of a few thousand pages, so that the online copy takes many steps while writes go on
    for (let b = 0; b < 10; b++) {
      const logs = Array.from({ length: 1000 }, (_, i) => ({
        message: `seed ${b}-${i} ${'x'.repeat(900)}`,
        service: 'seed',
      }));
      const res = await fetch(`${server.url}/api/v2/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dd-api-key': API_KEY },
        body: JSON.stringify(logs),
      });
      expect(res.status).toBe(202);
    }

    const load = loadGenerator(server.url, 4);
    const deadline = Date.now() + 20_000;
    while (load.acked.length < 500 && Date.now() < deadline) await sleep(50);
    const ackedBefore = [...load.acked];
    const backup = await cli(['backup', file, '--data-dir', dataDir], cleanEnv(), 40_000);
    const sentAfter = new Set(load.sent);
    const ackedDuring = load.acked.length - ackedBefore.length;
    await load.stop();
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain(file);
    expect(ackedBefore.length).toBeGreaterThan(0);
    expect(ackedDuring, 'the server kept receiving writes during the backup').toBeGreaterThan(0);

    // an existing file is not overwritten without --force
    const again = await cli(['backup', file, '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(file);
    expect(again.stderr).toContain('--force');
    expect((await stop(server)).code).toBe(0);

    // restore: a fresh data directory whose flowwatch.db is the backup (no -wal or -shm next to it)
    const restored = dir('flowwatch-backup-restored-');
    copyFileSync(file, path.join(restored, 'flowwatch.db'));
    expect(existsSync(path.join(restored, 'flowwatch.db-wal'))).toBe(false);
    const second = await serve(['--data-dir', restored]);
    const logs = await searchAll(second.url, appHeaders);
    expect(logs.filter((l) => l.attributes.message.startsWith('seed ')).length, 'seeded logs').toBe(10_000);
    const found = countByExecution(logs);
    const missing = ackedBefore.filter((id) => !found.has(id));
    expect(
      missing,
      `${missing.length} of ${ackedBefore.length} logs acknowledged before the backup are missing`,
    ).toEqual([]);
    expect(
      [...found.keys()].filter((id) => !sentAfter.has(id)),
      'logs sent after the backup ended',
    ).toEqual([]);
    expect([...found.values()].every((n) => n === 1)).toBe(true);
    // the restored keys work: the test keys were stored in the copied database
    expect(await postEvent(second.url, elsEvent())).toBe(202);
  }, 60_000);

  it('--force overwrites an earlier backup', async () => {
    const dataDir = dir('flowwatch-backup-force-');
    const file = path.join(dataDir, 'existing.db');
    const server = await serve(['--data-dir', dataDir]);
    expect(await postEvent(server.url, elsEvent())).toBe(202);
    expect((await cli(['backup', file, '--data-dir', dataDir])).code).toBe(0);
    expect(await postEvent(server.url, elsEvent())).toBe(202);
    const res = await cli(['backup', file, '--force', '--data-dir', dataDir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Backed up 2 logs/);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM logs').get()).toEqual({ n: 2 });
    } finally {
      db.close();
    }
  }, 60_000);

  it('refuses a data directory that holds no database instead of backing up a new empty one', async () => {
    const parent = dir('flowwatch-backup-typo-');
    const missing = path.join(parent, 'no-such-data-dir');
    const file = path.join(parent, 'backup.db');
    const res = await cli(['backup', file, '--data-dir', missing]);
    expect(res.code, res.stdout).toBe(1);
    expect(res.stderr).toContain(missing);
    expect(existsSync(missing), 'backup does not create the data directory').toBe(false);
    expect(existsSync(file)).toBe(false);
  }, 60_000);

  it('--force overwrites a file that is not a database', async () => {
    const dataDir = dir('flowwatch-backup-force-junk-');
    const file = path.join(dataDir, 'notes.txt');
    writeFileSync(file, 'not a database, just some text that happens to sit where the backup should go\n');
    const server = await serve(['--data-dir', dataDir]);
    expect(await postEvent(server.url, elsEvent())).toBe(202);
    const res = await cli(['backup', file, '--force', '--data-dir', dataDir]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Backed up 1 log/);
  }, 60_000);
});

describe('search and tail', () => {
  it('search prints one JSON line per log; bad --limit and missing keys exit 1 saying what to fix', async () => {
    const dataDir = dir('flowwatch-search-');
    const server = await serve(['--data-dir', dataDir]);
    const events = [elsEvent(), elsEvent(), elsEvent()];
    for (const e of events) expect(await postEvent(server.url, e)).toBe(202);

    const res = await cli(['search', '*', '--from', 'now-1h', '--json', ...clientArgs(server.url)]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(3);
    const ids = lines.map(
      (l) =>
        (JSON.parse(l) as { attributes: { attributes: { execution_id: string } } }).attributes.attributes
          .execution_id,
    );
    expect(ids.sort()).toEqual(events.map((e) => e.execution_id).sort());

    const limited = await cli(['search', '*', '--json', '--limit', '2', ...clientArgs(server.url)]);
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2);

    const badLimit = await cli(['search', '*', '--limit', 'x', ...clientArgs(server.url)]);
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('--limit');

    const noKeys = await cli(['search', '*', '--url', server.url]);
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/--api-key/);
    expect(noKeys.stderr).toMatch(/--app-key/);
    expect(noKeys.stderr).toMatch(/FLOWWATCH_API_KEY/);
    expect(noKeys.stderr).toMatch(/FLOWWATCH_APP_KEY/);

    // keys from the environment work as well
    const fromEnv = await cli(
      ['search', '--json', '--url', server.url],
      cleanEnv({ FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY }),
    );
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout.split('\n').filter((l) => l !== '')).toHaveLength(3);
  }, 60_000);

  it('tail --json prints an event posted after it started', async () => {
    const dataDir = dir('flowwatch-tail-');
    const server = await serve(['--data-dir', dataDir]);
    const before = elsEvent();
    expect(await postEvent(server.url, before)).toBe(202);

    const tail = spawnFlowwatch(['tail', '--json', ...clientArgs(server.url)]);
    // it is running once it has printed the event from before it started
    const startDeadline = Date.now() + 20_000;
    while (!tail.stdout().includes(before.execution_id)) {
      if (tail.child.exitCode !== null) throw new Error(`tail exited: ${tail.stderr()}`);
      if (Date.now() > startDeadline)
        throw new Error(`tail printed nothing: ${tail.stdout()} ${tail.stderr()}`);
      await sleep(50);
    }
    const after = elsEvent();
    expect(await postEvent(server.url, after)).toBe(202);
    const deadline = Date.now() + 10_000;
    while (!tail.stdout().includes(after.execution_id)) {
      if (tail.child.exitCode !== null) throw new Error(`tail exited: ${tail.stderr()}`);
      if (Date.now() > deadline)
        throw new Error(`tail did not print the new event: ${tail.stdout()} ${tail.stderr()}`);
      await sleep(50);
    }
    tail.child.kill('SIGTERM');
    await tail.exited;
    const lines = tail
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    const ids = lines.map(
      (l) =>
        (JSON.parse(l) as { attributes: { attributes: { execution_id: string } } }).attributes.attributes
          .execution_id,
    );
    expect(ids.filter((id) => id === after.execution_id)).toHaveLength(1);
    expect(ids.filter((id) => id === before.execution_id)).toHaveLength(1);
  }, 60_000);
});
