// `flowwatch backup FILE`: a consistent copy of the embedded database, taken while the server runs.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { settingsFrom, withStoreOptions } from './options.ts';

/** Registers `backup`. */
export function registerBackup(program: Command): void {
  withStoreOptions(program.command('backup'))
    .description('write a consistent online copy of the embedded database to FILE (see docs/operations.md to restore)')
    .argument('<file>')
    .option('--force', 'overwrite FILE if it exists')
    .action(async (file: string, o: { force?: boolean; dataDir?: string; config?: string }) => {
      const settings = settingsFrom(o);
      if (settings.database_url) throw new Error('backup copies the embedded store; for PostgreSQL use pg_dump');
      if (existsSync(file) && !o.force) throw new Error(`${file} exists: choose another name or pass --force`);
      const store = new SqliteStore({ dataDir: settings.data_dir });
      try {
        const started = Date.now();
        await store.backup(file);
        const n = await store.countLogs();
        process.stdout.write(`Backed up ${n} logs to ${file} in ${Date.now() - started} ms.\n`);
      } finally {
        await store.close();
      }
    });
}
