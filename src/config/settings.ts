// One schema for every setting, read from defaults ← config file ← environment ← command-line flags.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

/** Settings schema; option names are snake_case with units, as in Datadog's own JSON. */
export const settingsSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    data_dir: z.string().min(1).default('./data'),
    database_url: z.string().optional(),
    public_url: z.url().optional(),
    tls_cert: z.string().optional(),
    tls_key: z.string().optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    retention_days: z.coerce.number().int().min(1).max(3650).default(90),
    retention_interval_s: z.coerce.number().int().min(1).default(300),
    /** fsync on every commit (survives power loss) instead of only surviving a crash of the process. */
    fsync_on_commit: z.boolean().default(false),
    /** keep (date = receive time, flagged) or drop (as Datadog) logs dated outside the accepted window. */
    out_of_window_timestamps: z.enum(['keep', 'drop']).default('keep'),
    max_queue_events: z.coerce.number().int().min(1).default(10_000),
    max_inflight_bytes: z.coerce
      .number()
      .int()
      .min(6 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    /** optional size cap of the database in MB; past it intake answers 507 and nothing is corrupted. */
    max_db_size_mb: z.coerce.number().int().min(1).optional(),
    metrics_require_key: z.boolean().default(false),
    /** live tail: a comment line this often keeps proxies from closing an idle stream. */
    live_tail_heartbeat_ms: z.coerce.number().int().min(10).default(15_000),
    /** live tail: open streams at once; the next one is answered 503. */
    live_tail_max_streams: z.coerce.number().int().min(1).default(100),
    /** notifications: first retry delay of a failed delivery; doubles each attempt (with jitter). */
    notify_retry_base_ms: z.coerce.number().int().min(1).default(1000),
    /** notifications: longest delay between two attempts (Retry-After may ask for more). */
    notify_retry_max_ms: z.coerce.number().int().min(1).default(300_000),
    /** notifications: a delivery still failing this long after its event goes to dead letter. */
    notify_dead_letter_after_s: z.coerce.number().positive().default(3600),
    /** notifications: per-request timeout of webhooks (Datadog's is 15 s). */
    notify_webhook_timeout_ms: z.coerce.number().int().min(1).default(15_000),
  })
  .strict()
  .refine((s) => Boolean(s.tls_cert) === Boolean(s.tls_key), {
    message: 'tls_cert and tls_key must be given together',
    path: ['tls_cert'],
  });

/** Validated settings. */
export type Settings = z.infer<typeof settingsSchema>;
/** Raw, not yet validated settings from one source. */
export type SettingsInput = Partial<Record<keyof Settings, unknown>>;

/** Environment variables that map to settings (PRODUCT.md contracts plus one per setting). */
const ENV: Record<string, keyof Settings> = {
  FLOWWATCH_HOST: 'host',
  FLOWWATCH_PORT: 'port',
  FLOWWATCH_DATA_DIR: 'data_dir',
  FLOWWATCH_DATABASE_URL: 'database_url',
  FLOWWATCH_PUBLIC_URL: 'public_url',
  FLOWWATCH_TLS_CERT: 'tls_cert',
  FLOWWATCH_TLS_KEY: 'tls_key',
  FLOWWATCH_LOG_LEVEL: 'log_level',
  FLOWWATCH_RETENTION_DAYS: 'retention_days',
  FLOWWATCH_FSYNC_ON_COMMIT: 'fsync_on_commit',
  FLOWWATCH_OUT_OF_WINDOW_TIMESTAMPS: 'out_of_window_timestamps',
  FLOWWATCH_MAX_QUEUE_EVENTS: 'max_queue_events',
  FLOWWATCH_MAX_DB_SIZE_MB: 'max_db_size_mb',
  FLOWWATCH_METRICS_REQUIRE_KEY: 'metrics_require_key',
};

/** A configuration error that names where the bad value came from. */
export class ConfigError extends Error {}

function envSettings(env: NodeJS.ProcessEnv): SettingsInput {
  const out: SettingsInput = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '')
      out[key] = key === 'fsync_on_commit' || key === 'metrics_require_key' ? v === 'true' || v === '1' : v;
  }
  return out;
}

/** Reads a YAML (or JSON) configuration file; errors name the file, line and column. */
export function readConfigFile(file: string): {
  settings: SettingsInput;
  doc: ReturnType<typeof parseDocument>;
  lines: LineCounter;
  prefix: string[];
} {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const value = doc.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${file}: the top level must be a mapping`);
  // Settings sit at the top level, or under `settings:` when the file also holds other sections.
  const nested = (value as { settings?: unknown }).settings;
  const prefix = nested === undefined ? [] : ['settings'];
  // Other sections (`notifications:`, read by notify/config.ts) are never settings.
  const { notifications: _sections, ...topLevel } = value as Record<string, unknown>;
  return { settings: (nested ?? topLevel) as SettingsInput, doc, lines, prefix };
}

/** Merges the sources (later wins) and validates; `flags` are the CLI flags already renamed to setting keys. */
export function loadSettings(opts: {
  flags?: SettingsInput;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
}): Settings {
  const env = opts.env ?? process.env;
  const configFile = opts.configFile ?? env.FLOWWATCH_CONFIG;
  let fromFile: SettingsInput = {};
  let located: ReturnType<typeof readConfigFile> | undefined;
  if (configFile) {
    located = readConfigFile(configFile);
    fromFile = located.settings;
  }
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const merged = { ...fromFile, ...envSettings(env), ...flags };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    let where = 'settings';
    if (
      located &&
      key in fromFile &&
      !(key in flags) &&
      envSettings(env)[key as keyof Settings] === undefined
    ) {
      const node = located.doc.getIn([...located.prefix, ...issue.path], true) as
        | { range?: [number, number] }
        | undefined;
      const pos = node?.range ? located.lines.linePos(node.range[0]) : undefined;
      where = pos ? `${configFile}:${pos.line}:${pos.col}` : String(configFile);
    }
    throw new ConfigError(`${where}: ${key ? `${key}: ` : ''}${issue.message}`);
  }
  const s = parsed.data;
  return { ...s, data_dir: path.resolve(s.data_dir) };
}
