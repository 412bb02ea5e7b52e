// `flowwatch search QUERY --from --to --limit [--json]`: pages through the search API of a running server.
import type { Command } from 'commander';
import { type ApiLog, formatLog } from './format.ts';
import { apiRequest, withClientOptions } from './options.ts';

/** Registers `search`. */
export function registerSearch(program: Command): void {
  withClientOptions(program.command('search'))
    .description('search stored logs of a running server, newest first')
    .argument('[query]', 'Datadog log search query', '*')
    .option('--from <time>', 'start: ISO date, epoch ms or now-15m (units s m h d w)', 'now-1h')
    .option('--to <time>', 'end', 'now')
    .option('--limit <n>', 'at most this many logs', '50')
    .option('--oldest-first', 'sort oldest first')
    .option('--json', 'print NDJSON, one log per line')
    .action(
      async (
        query: string,
        o: {
          from: string;
          to: string;
          limit: string;
          oldestFirst?: boolean;
          json?: boolean;
          url: string;
          apiKey?: string;
          appKey?: string;
        },
      ) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new Error(`--limit must be a positive integer, got "${o.limit}"`);
        let cursor: string | undefined;
        let printed = 0;
        do {
          const page = (await apiRequest(o, '/api/v2/logs/events/search', {
            method: 'POST',
            body: {
              filter: { query, from: o.from, to: o.to },
              sort: o.oldestFirst ? 'timestamp' : '-timestamp',
              page: { limit: Math.min(1000, limit - printed), cursor },
            },
          })) as { data: ApiLog[]; meta?: { page?: { after?: string } } };
          for (const l of page.data) process.stdout.write(`${o.json ? JSON.stringify(l) : formatLog(l)}\n`);
          printed += page.data.length;
          cursor = page.meta?.page?.after;
        } while (cursor && printed < limit);
        if (!o.json)
          process.stderr.write(
            `${printed} log${printed === 1 ? '' : 's'}${cursor ? ' (more available: raise --limit)' : ''}\n`,
          );
      },
    );
}
