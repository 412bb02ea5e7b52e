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

/** A small client of the Flowwatch HTTP API with errors that say what to do. */
export async function apiRequest(
  opts: { url: string; apiKey?: string; appKey?: string },
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<unknown> {
  const apiKey = opts.apiKey ?? process.env.FLOWWATCH_API_KEY;
  const appKey = opts.appKey ?? process.env.FLOWWATCH_APP_KEY;
  if (!apiKey || !appKey) {
    throw new Error(
      'this command needs an API key and an application key: pass --api-key and --app-key, or set FLOWWATCH_API_KEY and FLOWWATCH_APP_KEY',
    );
  }
  const url = new URL(path, opts.url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { 'dd-api-key': apiKey, 'dd-application-key': appKey, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(
      `cannot reach Flowwatch at ${opts.url} (${(err as Error).message}): is \`flowwatch serve\` running? Set --url otherwise`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = text;
  }
  if (!res.ok) {
    const errors = (body as { errors?: unknown[] }).errors;
    const detail = Array.isArray(errors)
      ? errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ')
      : text;
    const hint =
      res.status === 401 || res.status === 403
        ? ' (check --api-key/--app-key, or create keys with `flowwatch keys create`)'
        : '';
    throw new Error(`${res.status} from ${url.pathname}: ${detail}${hint}`);
  }
  return body;
}
