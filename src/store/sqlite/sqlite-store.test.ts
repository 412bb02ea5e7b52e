import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { makeLog, storeConformance } from '../conformance.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { SqliteStore, sqlitePath } from './sqlite-store.ts';

const dir = () => mkdtempSync(path.join(tmpdir(), 'fw-sqlite-'));

storeConformance('sqlite', async () => new SqliteStore({ dataDir: dir() }), {
  fullStore: async () => {
    const s = new SqliteStore({ dataDir: dir(), maxSizeMb: 1 });
    await s.appendLogs([makeLog()]);
    return s;
  },
});

storeConformance(
  'sqlite, writes on a worker thread',
  async () => new SqliteStore({ dataDir: dir(), writer: 'worker' }),
  {
    fullStore: async () => {
      const s = new SqliteStore({ dataDir: dir(), maxSizeMb: 1, writer: 'worker' });
      await s.appendLogs([makeLog()]);
      return s;
    },
  },
);

describe('SqliteStore specifics', () => {
  it('starts a new writer thread after one dies, losing nothing that was committed', async () => {
    const s = new SqliteStore({ dataDir: dir(), writer: 'worker' });
    await s.appendLogs([makeLog({ message: 'before' })]);
    // Kill the writer thread as a crash would.
    await (s as any).worker.worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(await s.appendLogs([makeLog({ message: 'after' })])).toEqual([true]);
    const page = await s.readLogs({ from: 0, to: Number.MAX_SAFE_INTEGER, sort: 'asc', limit: 10 });
    expect(page.logs.map((l) => l.message)).toEqual(['before', 'after']);
    await s.close();
  });

  it('applies migrations once and records them', () => {
    const d = dir();
    new SqliteStore({ dataDir: d }).db.close();
    const db = new Database(sqlitePath(d));
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  it('refuses a database from a newer Flowwatch', () => {
    const d = dir();
    new SqliteStore({ dataDir: d }).db.close();
    const db = new Database(sqlitePath(d));
    db.prepare('INSERT INTO schema_migrations VALUES (999, ?, 0)').run('future');
    expect(() => migrate(db)).toThrow(
      /has version 999, which this Flowwatch .* does not know: upgrade Flowwatch/,
    );
    db.close();
  });

  it('applies a migration that landed below the highest recorded version', () => {
    const d = dir();
    new SqliteStore({ dataDir: d }).db.close();
    const db = new Database(sqlitePath(d));
    const second = MIGRATIONS[1]!;
    // as if this version had been developed alongside a later one and landed after it was applied
    db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(second.version);
    db.exec(
      'DROP TRIGGER logs_fts_delete; DROP TABLE logs_fts; DROP TABLE attr_paths; DROP INDEX logs_service_ts; CREATE INDEX logs_service_source_ts ON logs (service, source, ts);',
    );
    expect(migrate(db)).toEqual([second.version]);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'logs_fts'").get()).toEqual({
      n: 1,
    });
    db.close();
  });

  it('uses the attribute and time indexes for the access paths users filter on', () => {
    const s = new SqliteStore({ dataDir: dir() });
    const plan = (sql: string) =>
      (s.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join(' | ');
    expect(plan(`SELECT * FROM logs WHERE json_extract(attributes, '$.flow_name') = 'x' AND ts > 0`)).toMatch(
      /logs_attr_flow_name/,
    );
    expect(plan(`SELECT * FROM logs WHERE json_extract(attributes, '$.execution_id') = 'x'`)).toMatch(
      /logs_attr_execution_id/,
    );
    expect(plan(`SELECT * FROM logs WHERE status = 'error' AND ts > 0`)).toMatch(/logs_status_ts/);
    expect(plan('SELECT * FROM logs WHERE ts >= 0 AND ts < 10 ORDER BY ts DESC, seq DESC')).toMatch(
      /logs_ts/,
    );
    s.db.close();
  });

  it('notices changes made by another connection (keys added by the CLI)', async () => {
    const d = dir();
    const a = new SqliteStore({ dataDir: d });
    const b = new SqliteStore({ dataDir: d });
    await a.changedElsewhere();
    expect(await a.changedElsewhere()).toBe(false);
    await b.insertKey({
      id: 'x',
      kind: 'api',
      name: 'n',
      hash: 'h',
      hint: 'h',
      created_at: 1,
      revoked_at: null,
    });
    expect(await a.changedElsewhere()).toBe(true);
    await a.close();
    await b.close();
  });

  it('creates its data directory and database for the service user only; backups too', async () => {
    const d = path.join(dir(), 'nested', 'data');
    const s = new SqliteStore({ dataDir: d, writer: 'worker' });
    await s.appendLogs([makeLog()]);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(d)).toBe(0o700);
    expect(mode(sqlitePath(d))).toBe(0o600);
    expect(mode(`${sqlitePath(d)}-wal`)).toBe(0o600);
    const file = path.join(dir(), 'backup.db');
    await s.backup(file);
    expect(mode(file)).toBe(0o600);
    await s.close();
    // An existing database keeps the mode its owner chose.
    chmodSync(sqlitePath(d), 0o640);
    const again = new SqliteStore({ dataDir: d });
    expect(mode(sqlitePath(d))).toBe(0o640);
    await again.close();
  });

  it('takes an online backup that opens as a complete database', async () => {
    const d = dir();
    const s = new SqliteStore({ dataDir: d });
    await s.appendLogs(Array.from({ length: 100 }, (_, i) => makeLog({ message: `m${i}` })));
    const file = path.join(dir(), 'backup.db');
    await s.backup(file);
    await s.appendLogs([makeLog()]);
    const restoredDir = path.dirname(file);
    const { renameSync } = await import('node:fs');
    renameSync(file, sqlitePath(restoredDir));
    const r = new SqliteStore({ dataDir: restoredDir });
    expect(await r.countLogs()).toBe(100);
    await r.close();
    await s.close();
  });
});
