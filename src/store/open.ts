// Chooses the store from settings: embedded SQLite by default, PostgreSQL when database_url is set.
import { statSync } from 'node:fs';
import type { Settings } from '../config/settings.ts';
import { SqliteStore, sqlitePath } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** Opens (and migrates) the configured store. */
export async function openStore(
  settings: Pick<Settings, 'data_dir' | 'database_url' | 'fsync_on_commit' | 'max_db_size_mb'>,
): Promise<Store> {
  if (settings.database_url) {
    throw new Error(
      'FLOWWATCH_DATABASE_URL (PostgreSQL) is not supported yet in this version; unset it to use the embedded store',
    );
  }
  return new SqliteStore({
    dataDir: settings.data_dir,
    fsyncOnCommit: settings.fsync_on_commit,
    maxSizeMb: settings.max_db_size_mb,
    writer: 'worker',
  });
}

/**
 * Warnings for an embedded database other users of the machine can read (it holds every log, key hashes and
 * the integrations' secrets). Flowwatch creates it private; an older install or a copy may not be.
 */
export function storePermissionWarnings(settings: Pick<Settings, 'data_dir' | 'database_url'>): string[] {
  if (settings.database_url) return [];
  const file = sqlitePath(settings.data_dir);
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) === 0) return [];
    return [
      `The database ${file} can be read by other users of this machine (mode ${mode.toString(8)}): it holds ` +
        `every log and the integrations' secrets. Run: chmod 600 ${file} and chmod 700 ${settings.data_dir}`,
    ];
  } catch {
    return [];
  }
}
