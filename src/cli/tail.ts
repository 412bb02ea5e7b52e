// `flowwatch tail [QUERY]`: prints logs as they arrive at a running server until Ctrl-C.
import type { Command } from 'commander';
import { type ApiLog, formatLog } from './format.ts';
import { apiRequest, withClientOptions } from './options.ts';

/** Registers `tail`. */
export function registerTail(program: Command): void {
  withClientOptions(program.command('tail'))
    .description('follow new logs of a running server')
    .argument('[query]', 'Datadog log search query', '*')
    .option(
      '--lookback <seconds>',
      'also show logs dated this far back when starting, and catch late arrivals',
      '60',
    )
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--json', 'print NDJSON')
    .action(
      async (
        query: string,
        o: {
          lookback: string;
          interval: string;
          json?: boolean;
          url: string;
          apiKey?: string;
          appKey?: string;
        },
      ) => {
        const lookbackMs = Number(o.lookback) * 1000;
        const interval = Number(o.interval);
        if (!Number.isFinite(lookbackMs) || lookbackMs < 0)
          throw new Error(`--lookback must be a number of seconds, got "${o.lookback}"`);
        if (!Number.isFinite(interval) || interval < 100)
          throw new Error(`--interval must be at least 100 ms, got "${o.interval}"`);
        const seen = new Map<string, number>();
        let stopped = false;
        process.once('SIGINT', () => {
          stopped = true;
        });
        while (!stopped) {
          const now = Date.now();
          let cursor: string | undefined;
          do {
            const page = (await apiRequest(o, '/api/v2/logs/events/search', {
              method: 'POST',
              body: {
                filter: { query, from: now - lookbackMs, to: now + 7_200_000 },
                sort: 'timestamp',
                page: { limit: 1000, cursor },
              },
            })) as { data: ApiLog[]; meta?: { page?: { after?: string } } };
            for (const l of page.data) {
              if (seen.has(l.id)) continue;
              seen.set(l.id, Date.parse(l.attributes.timestamp));
              process.stdout.write(`${o.json ? JSON.stringify(l) : formatLog(l)}\n`);
            }
            cursor = page.meta?.page?.after;
          } while (cursor && !stopped);
          for (const [id, ts] of seen) if (ts < now - lookbackMs) seen.delete(id);
          await new Promise((r) => setTimeout(r, interval));
        }
      },
    );
}
