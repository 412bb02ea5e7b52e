// `flowwatch keys create|list|revoke`: manages keys in the store directly; a running server sees changes
// within a second.
import type { Command } from 'commander';
import { generateKey, keyRecord } from '../auth/keys.ts';
import { openStore } from '../store/open.ts';
import { settingsFrom, withStoreOptions } from './options.ts';

/** Registers `keys` and its subcommands. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage API keys (intake) and application keys (API)');

  withStoreOptions(keys.command('create'))
    .description('create a key and print it once (only its hash is stored)')
    .option('--kind <kind>', 'api (intake, DD-API-KEY) or app (DD-APPLICATION-KEY)', 'api')
    .option('--name <name>', 'a name to recognise the key by', 'unnamed')
    .option('--json', 'print the result as JSON')
    .action(async (o: { kind: string; name: string; json?: boolean; dataDir?: string; config?: string }) => {
      if (o.kind !== 'api' && o.kind !== 'app')
        throw new Error(`--kind must be "api" or "app", got "${o.kind}"`);
      const store = await openStore(settingsFrom(o));
      try {
        const key = generateKey(o.kind);
        const rec = keyRecord(o.kind, o.name, key, Date.now());
        await store.insertKey(rec);
        if (o.json)
          process.stdout.write(`${JSON.stringify({ id: rec.id, kind: rec.kind, name: rec.name, key })}\n`);
        else
          process.stdout.write(
            `Created ${o.kind} key "${o.name}" (id ${rec.id}). It is shown only once:\n${key}\n`,
          );
      } finally {
        await store.close();
      }
    });

  withStoreOptions(keys.command('list'))
    .description('list keys (never the secrets)')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean; dataDir?: string; config?: string }) => {
      const store = await openStore(settingsFrom(o));
      try {
        const list = (await store.listKeys()).map(({ hash: _hash, ...k }) => k);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(list)}\n`);
          return;
        }
        if (list.length === 0)
          process.stdout.write('No keys yet: start the server once or run `flowwatch keys create`.\n');
        for (const k of list) {
          const state = k.revoked_at ? `revoked ${new Date(k.revoked_at).toISOString()}` : 'active';
          process.stdout.write(
            `${k.id}  ${k.kind.padEnd(3)}  ...${k.hint}  ${state.padEnd(32)}  created ${new Date(k.created_at).toISOString()}  ${k.name}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });

  withStoreOptions(keys.command('revoke'))
    .description('revoke a key by id or name; requests with it get 403 within a second')
    .argument('<id-or-name>')
    .action(async (idOrName: string, o: { dataDir?: string; config?: string }) => {
      const store = await openStore(settingsFrom(o));
      try {
        const k = await store.revokeKey(idOrName, Date.now());
        if (!k) throw new Error(`no key has the id or name "${idOrName}" (see \`flowwatch keys list\`)`);
        process.stdout.write(`Revoked ${k.kind} key "${k.name}" (id ${k.id}, ...${k.hint}).\n`);
      } finally {
        await store.close();
      }
    });
}
