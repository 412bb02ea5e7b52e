// `flowwatch tail`: prints logs as a running server stores them, until Ctrl-C. It follows stored order, so
// events that arrive late (an Okta retry dated minutes ago) are shown too.
import type { Command } from 'commander';
import { type ApiLog, formatLog } from './format.ts';
import { apiRequest, withClientOptions } from './options.ts';

interface TailPage {
  data: ApiLog[];
  meta: { after: string };
}

/** Registers `tail`. */
export function registerTail(program: Command): void {
  withClientOptions(program.command('tail'))
    .description('follow new logs of a running server')
    .argument('[query]', 'Datadog log search query (only "*" until the query language lands)', '*')
    .option('-n, --lines <n>', 'first print the last N stored logs', '10')
    .option('--interval <ms>', 'poll interval', '500')
    .option('--json', 'print NDJSON')
    .action(
      async (
        query: string,
        o: { lines: string; interval: string; json?: boolean; url: string; apiKey?: string; appKey?: string },
      ) => {
        const interval = Number(o.interval);
        const lines = Number(o.lines);
        if (!Number.isInteger(lines) || lines < 0)
          throw new Error(`--lines must be a whole number, got "${o.lines}"`);
        if (!Number.isFinite(interval) || interval < 100)
          throw new Error(`--interval must be at least 100 ms, got "${o.interval}"`);
        if (query.trim() !== '*')
          throw new Error(`tail takes only "*" until the query language lands, got "${query}"`);
        let stopped = false;
        process.once('SIGINT', () => {
          stopped = true;
        });
        const end = Number(((await apiRequest(o, '/api/flowwatch/v1/logs/tail')) as TailPage).meta.after);
        let after = String(Math.max(0, end - lines));
        while (!stopped) {
          const page = (await apiRequest(
            o,
            `/api/flowwatch/v1/logs/tail?after=${encodeURIComponent(after)}`,
          )) as TailPage;
          for (const l of page.data) process.stdout.write(`${o.json ? JSON.stringify(l) : formatLog(l)}\n`);
          after = page.meta.after;
          if (page.data.length < 1000) await new Promise((r) => setTimeout(r, interval));
        }
      },
    );
}
