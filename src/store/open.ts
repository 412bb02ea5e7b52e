// Chooses the store from settings: embedded SQLite by default, PostgreSQL when database_url is set.
import type { Settings } from '../config/settings.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
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
