import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { storePermissionWarnings } from './open.ts';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.ts';

describe('storePermissionWarnings', () => {
  it('warns about a database other users can read, and says how to fix it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fw-open-'));
    expect(storePermissionWarnings({ data_dir: dataDir })).toEqual([]); // no database yet
    await new SqliteStore({ dataDir }).close();
    expect(storePermissionWarnings({ data_dir: dataDir })).toEqual([]); // created private
    chmodSync(sqlitePath(dataDir), 0o644);
    const [w] = storePermissionWarnings({ data_dir: dataDir });
    expect(w).toContain('(mode 644)');
    expect(w).toContain(`chmod 600 ${sqlitePath(dataDir)} and chmod 700 ${dataDir}`);
    expect(storePermissionWarnings({ data_dir: dataDir, database_url: 'postgres://x' })).toEqual([]);
  });
});
