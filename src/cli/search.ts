// `flowwatch search QUERY --from --to --limit --format text|ndjson|csv`: pages through the search API of a
// running server and prints or exports what it finds.
import type { Command } from 'commander';
import { csvHeader, csvLog, DEFAULT_COLUMNS, parseColumns } from './csv.ts';
import { type ApiLog, formatLog } from './format.ts';
import {
  apiRequest,
  type ClientOptions,
  exitOnClosedStdout,
  rethrowQueryError,
  withClientOptions,
} from './options.ts';

const FORMATS = ['text', 'ndjson', 'csv'] as const;
/** With stderr on a terminal, progress is shown every this many pages. */
const PROGRESS_PAGES = 10;

interface SearchOptions extends ClientOptions {
  from: string;
  to: string;
  limit: string;
  oldestFirst?: boolean;
  json?: boolean;
  format?: string;
  columns?: string;
}

/** The chosen output: how a log becomes text, and what comes before the first one. */
function output(o: SearchOptions): {
  format: (typeof FORMATS)[number];
  header: string;
  line: (l: ApiLog) => string;
} {
  const format = o.json ? 'ndjson' : (o.format ?? 'text');
  if (!(FORMATS as readonly string[]).includes(format))
    throw new Error(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  if (o.json && o.format && o.format !== 'ndjson')
    throw new Error(`--json means --format ndjson; it cannot be combined with --format ${o.format}`);
  if (o.columns !== undefined && format !== 'csv') throw new Error('--columns applies only to --format csv');
  if (format === 'csv') {
    const columns = parseColumns(o.columns ?? DEFAULT_COLUMNS);
    return { format, header: csvHeader(columns), line: (l) => csvLog(columns, l) };
  }
  if (format === 'ndjson') return { format, header: '', line: (l) => `${JSON.stringify(l)}\n` };
  return { format: 'text', header: '', line: (l) => `${formatLog(l)}\n` };
}

/** `--limit N` or `--limit all`. */
function readLimit(v: string): number {
  if (v === 'all') return Number.POSITIVE_INFINITY;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--limit must be a positive integer or "all", got "${v}"`);
  return n;
}

async function search(query: string, o: SearchOptions): Promise<void> {
  const limit = readLimit(o.limit);
  const out = output(o);
  exitOnClosedStdout();
  const progress = process.stderr.isTTY === true;
  let cursor: string | undefined;
  let printed = 0;
  let pages = 0;
  let started = false;
  do {
    let page: { data: ApiLog[]; meta?: { page?: { after?: string } } };
    try {
      page = (await apiRequest(o, '/api/v2/logs/events/search', {
        method: 'POST',
        body: {
          filter: { query, from: o.from, to: o.to },
          sort: o.oldestFirst ? 'timestamp' : '-timestamp',
          page: { limit: Math.min(1000, limit - printed), cursor },
        },
      })) as typeof page;
    } catch (err) {
      rethrowQueryError(query, err);
    }
    if (!started) {
      started = true;
      if (out.header) process.stdout.write(out.header);
    }
    let chunk = '';
    for (const l of page.data) chunk += out.line(l);
    if (chunk) process.stdout.write(chunk);
    printed += page.data.length;
    pages++;
    cursor = page.meta?.page?.after;
    if (progress && pages % PROGRESS_PAGES === 0) process.stderr.write(`\r${printed} logs…`);
  } while (cursor && printed < limit);
  if (progress && pages >= PROGRESS_PAGES) process.stderr.write('\r');
  if (out.format !== 'ndjson')
    process.stderr.write(
      `${printed} log${printed === 1 ? '' : 's'}${cursor ? ' (more available: raise --limit)' : ''}\n`,
    );
}

/** Registers `search`. */
export function registerSearch(program: Command): void {
  withClientOptions(program.command('search'))
    .description('search stored logs of a running server, newest first; print them or export NDJSON or CSV')
    .argument('[query]', 'Datadog log search query (docs/search.md)', '*')
    .option('--from <time>', 'start: ISO date, epoch ms or now-15m (units s m h d w)', 'now-1h')
    .option('--to <time>', 'end', 'now')
    .option('--limit <n>', 'at most this many logs, or "all"', '50')
    .option('--oldest-first', 'sort oldest first')
    .option('--format <format>', 'text, ndjson or csv (default text)')
    .option('--json', 'the same as --format ndjson')
    .option(
      '--columns <list>',
      `CSV columns: id, timestamp, status, service, host, message, tags or @attribute.path (default ${DEFAULT_COLUMNS})`,
    )
    .action(search);
}
