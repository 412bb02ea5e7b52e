// Options shared by commands: where the settings come from, and how to reach a running server.
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../config/settings.ts';

/** Adds --data-dir and --config to a command that opens the store directly. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (env FLOWWATCH_DATA_DIR, default ./data)')
    .option('--config <file>', 'configuration file (env FLOWWATCH_CONFIG)');
}

/** Settings for a command from its --data-dir/--config flags, the environment and the config file. */
export function settingsFrom(opts: { dataDir?: string; config?: string }): Settings {
  return loadSettings({ flags: { data_dir: opts.dataDir }, configFile: opts.config });
}

/** Adds the options that locate a running server and its keys. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .option(
      '--url <url>',
      'Flowwatch base URL (env FLOWWATCH_URL)',
      process.env.FLOWWATCH_URL ?? 'http://127.0.0.1:8080',
    )
    .option('--api-key <key>', 'API key (env FLOWWATCH_API_KEY)')
    .option('--app-key <key>', 'application key (env FLOWWATCH_APP_KEY)');
}

/** Where a running server is and the keys to use. */
export interface ClientOptions {
  url: string;
  apiKey?: string;
  appKey?: string;
}

/** An error answer of the API: its status and the server's own words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    path: string,
  ) {
    const hint =
      status === 401 || status === 403
        ? ' (check --api-key/--app-key, or create keys with `flowwatch keys create`)'
        : '';
    super(`${status} from ${path}: ${detail}${hint}`);
  }
}

/** The API and application keys from the flags or the environment; throws saying how to give them. */
export function clientHeaders(opts: ClientOptions): Record<string, string> {
  const apiKey = opts.apiKey ?? process.env.FLOWWATCH_API_KEY;
  const appKey = opts.appKey ?? process.env.FLOWWATCH_APP_KEY;
  if (!apiKey || !appKey) {
    throw new Error(
      'this command needs an API key and an application key: pass --api-key and --app-key, or set FLOWWATCH_API_KEY and FLOWWATCH_APP_KEY',
    );
  }
  return { 'dd-api-key': apiKey, 'dd-application-key': appKey };
}

/** The error of a non-2xx answer, read from its Datadog-shaped body. */
export async function apiErrorOf(res: Response, path: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let detail = text;
  try {
    const errors = (JSON.parse(text) as { errors?: unknown[] }).errors;
    if (Array.isArray(errors))
      detail = errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ');
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(res.status, detail, path);
}

/** The message for a query the server refused: its words, then the query with a caret under the column. */
export function queryErrorMessage(query: string, err: ApiError): string | undefined {
  const m = /^(?:filter\.)?query: (.*\bat column (\d+)\b.*)$/s.exec(err.detail);
  if (err.status !== 400 || !m) return undefined;
  const column = Number(m[2]);
  const shown = query.replace(/[\t\r\n]/g, ' ');
  return `invalid query: ${m[1]}\n  ${shown}\n  ${' '.repeat(Math.max(0, column - 1))}^`;
}

/** Rethrows an API error about the query as a readable one (exit 1, as every usage error). */
export function rethrowQueryError(query: string, err: unknown): never {
  const msg = err instanceof ApiError ? queryErrorMessage(query, err) : undefined;
  throw msg ? new Error(msg) : err;
}

/** Exits quietly when stdout is closed early (`flowwatch search | head`). */
export function exitOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** A small client of the Flowwatch HTTP API with errors that say what to do. */
export async function apiRequest(
  opts: ClientOptions,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<unknown> {
  const headers = clientHeaders(opts);
  const url = new URL(path, opts.url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { ...headers, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw unreachable(opts.url, err);
  }
  if (!res.ok) throw await apiErrorOf(res, url.pathname);
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return text;
  }
}

/** The error for a server that does not answer. */
export function unreachable(url: string, err: unknown): Error {
  return new Error(
    `cannot reach Flowwatch at ${url} (${(err as Error).message}): is \`flowwatch serve\` running? Set --url otherwise`,
  );
}
