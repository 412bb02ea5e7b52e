// `flowwatch backup FILE`: a consistent copy of the embedded database, taken while the server runs.
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { SqliteStore, sqlitePath } from '../store/sqlite/sqlite-store.ts';
import { settingsFrom, withStoreOptions } from './options.ts';

/** Registers `backup`. */
export function registerBackup(program: Command): void {
  withStoreOptions(program.command('backup'))
    .description(
      'write a consistent online copy of the embedded database to FILE (see docs/operations.md to restore)',
    )
    .argument('<file>')
    .option('--force', 'overwrite FILE if it exists')
    .action(async (file: string, o: { force?: boolean; dataDir?: string; config?: string }) => {
      const settings = settingsFrom(o);
      if (settings.database_url)
        throw new Error('backup copies the embedded store; for PostgreSQL use pg_dump');
      const db = sqlitePath(settings.data_dir);
      if (!existsSync(db)) {
        throw new Error(
          `no Flowwatch database at ${db}: check --data-dir (or FLOWWATCH_DATA_DIR / the config file)`,
        );
      }
      if (existsSync(file)) {
        if (!o.force) throw new Error(`${file} exists: choose another name or pass --force`);
        for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      }
      const store = new SqliteStore({ dataDir: settings.data_dir, fileMustExist: true });
      const started = Date.now();
      try {
        await store.backup(file);
      } finally {
        await store.close();
      }
      // Count what the copy holds, not the live database that kept receiving logs.
      const copy = new SqliteStore({ file, readonly: true });
      try {
        const n = await copy.countLogs();
        process.stdout.write(`Backed up ${n} logs to ${file} in ${Date.now() - started} ms.\n`);
      } finally {
        await copy.close();
      }
    });
}
