// Channel definitions from the configuration file's `notifications:` section (Slack channels, PagerDuty
// services, Teams webhooks, Opsgenie services). Secrets are written as `${env:NAME}` and resolved from the
// environment when the file is read; every error names the file, line and column.
// `NotificationsConfigSource` holds the current definitions and re-reads the file on SIGHUP: a bad file keeps
// the old definitions. Channels read `current()` at each send,
// so a reload applies at once. Nothing here ever logs or returns a secret: see `describeNotifications`.
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, readConfigFile } from '../config/settings.ts';

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** One Slack channel: `@slack-NAME` posts to an incoming webhook URL. */
export interface SlackChannelConfig {
  name: string;
  /** secret: the URL's path is the credential */
  url: string;
  /** a channel of Slack's integration API: the `#channel` the account's webhook is asked to post to */
  channel?: string;
  /** a channel of Slack's integration API: its display options */
  display?: SlackDisplay;
}

/** Datadog's Slack display options the payload follows: `false` leaves the message or the tags out. */
export interface SlackDisplay {
  message?: boolean;
  tags?: boolean;
}

/** A Slack account (workspace) of the integration API's channels: its incoming webhook URL. */
export interface SlackAccountConfig {
  name: string;
  /** secret */
  url: string;
}

/** One PagerDuty service: `@pagerduty-NAME` sends events with its routing (integration) key. */
export interface PagerDutyServiceConfig {
  name: string;
  /** secret */
  routingKey: string;
}

/** One Microsoft Teams Workflows webhook: `@teams-NAME` posts an adaptive card to its URL. */
export interface TeamsWebhookConfig {
  name: string;
  /** secret: the URL's query (`sig=…`) is the credential */
  url: string;
}

/** Opsgenie's Alert API base URL per region (`custom` takes `custom_url`). */
export const OPSGENIE_URLS = { us: 'https://api.opsgenie.com', eu: 'https://api.eu.opsgenie.com' } as const;

/** One Opsgenie service: `@opsgenie-NAME` creates and closes alerts with its API integration key. */
export interface OpsgenieServiceConfig {
  name: string;
  /** secret */
  apiKey: string;
  region: 'us' | 'eu' | 'custom';
  /** the Alert API base URL the region gives (or `custom_url`) */
  url: string;
}

/** The SMTP server and sender of email handles (`@user@example.com`). */
export interface EmailConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465) */
  secure: boolean;
  /** on a plain connection: STARTTLS required, used when the server offers it, or never */
  starttls: 'required' | 'opportunistic' | 'off';
  user?: string;
  /** secret */
  password?: string;
  /** the From header, `Flowwatch <alerts@example.com>` */
  from: string;
  /** lower-case domains a recipient must belong to; empty: any domain */
  allowedDomains: string[];
  /** connection, greeting and socket timeout */
  timeoutMs: number;
}

/** The resolved `notifications:` section; maps are keyed by lower-case name (handles ignore case). */
export interface NotificationsConfig extends NotificationsPolicy {
  slack: Map<string, SlackChannelConfig>;
  /** accounts the Slack integration API's channels belong to (`notifications.slack.accounts`) */
  slackAccounts: Map<string, SlackAccountConfig>;
  pagerduty: { url: string; services: Map<string, PagerDutyServiceConfig> };
  /** absent: no SMTP server, email handles are not delivered */
  email?: EmailConfig;
  teams: Map<string, TeamsWebhookConfig>;
  opsgenie: Map<string, OpsgenieServiceConfig>;
}

/** Delivery policy of the `notifications:` section (bundling, dead-letter fallback). */
export interface NotificationsPolicy {
  /** `bundle_config.duration` in ms: the bundling window of recipients no rule sets one for; 0/absent = off */
  bundle_ms?: number;
  /** `dead_letter.notify`: handles told when a delivery goes to dead letter */
  dead_letter_notify?: string[];
}

/** No channels configured. */
export function emptyNotificationsConfig(): NotificationsConfig {
  return {
    slack: new Map(),
    slackAccounts: new Map(),
    pagerduty: { url: PAGERDUTY_EVENTS_URL, services: new Map() },
    teams: new Map(),
    opsgenie: new Map(),
  };
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const nameKey = z.string().regex(NAME, 'names may hold letters, digits, "_", "-" and "." only');
const httpUrl = (what: string) =>
  z.string().refine((u) => {
    try {
      return /^https?:$/.test(new URL(u).protocol);
    } catch {
      return false;
    }
  }, `${what} must be an http or https URL`);

const opsgenieService = z
  .object({
    api_key: z
      .string({ error: 'an API key (api_key) is required' })
      .trim()
      .min(1, 'an API key is required')
      .max(255)
      .regex(/^[!-~]+$/, 'an API key holds printable characters without spaces'),
    region: z.enum(['us', 'eu', 'custom']).default('us'),
    custom_url: httpUrl('custom_url').optional(),
  })
  .strict()
  .refine((s) => (s.region === 'custom') === (s.custom_url !== undefined), {
    message: 'custom_url is required with region: custom, and only then',
    path: ['custom_url'],
  });

/** `alerts@example.com` or `Flowwatch <alerts@example.com>` */
const FROM = /^(?:[^<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const emailSchema = z
  .object({
    from: z
      .string()
      .trim()
      .regex(FROM, 'from must be an address: alerts@example.com or "Flowwatch <alerts@example.com>"'),
    smtp: z
      .object({
        host: z.string().trim().min(1, 'the SMTP host is required'),
        port: z.coerce.number().int().min(1).max(65535).optional(),
        secure: z.boolean().default(false),
        starttls: z.enum(['required', 'opportunistic', 'off']).default('required'),
        user: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        timeout_ms: z.coerce.number().int().min(1000).max(300_000).default(15_000),
      })
      .strict()
      .refine((s) => (s.user === undefined) === (s.password === undefined), {
        message: 'user and password go together',
        path: ['password'],
      }),
    allowed_domains: z
      .array(z.string().trim().toLowerCase().regex(DOMAIN, 'a domain such as example.com'))
      .default([]),
  })
  .strict();

/** The section's schema (after `${env:…}` references are resolved). */
export const notificationsSchema = z
  .object({
    // Datadog's rule attribute, as the default of every recipient (docs/notifications.md "Bundling").
    bundle_config: z
      .object({ duration: z.number().int('duration is whole seconds').min(0).max(86_400) })
      .strict()
      .optional(),
    dead_letter: z
      .object({ notify: z.array(z.string().trim().min(1).max(255)).max(20).default([]) })
      .strict()
      .optional(),
    email: emailSchema.optional(),
    slack: z
      .object({
        channels: z.record(nameKey, httpUrl('a Slack incoming webhook').optional()).default({}),
        // The webhook of each account whose channels the integration API defines (notify/integrations.ts).
        accounts: z
          .record(
            nameKey,
            z
              .object({ url: httpUrl('a Slack incoming webhook') })
              .strict()
              .optional(),
          )
          .default({}),
      })
      .strict()
      .optional(),
    pagerduty: z
      .object({
        /** Events API base URL (`https://events.eu.pagerduty.com`) or the full `/v2/enqueue` URL */
        url: httpUrl('the PagerDuty Events API URL').optional(),
        services: z
          .record(nameKey, z.string().trim().min(1, 'a routing key is required').max(255).optional())
          .default({}),
      })
      .strict()
      .optional(),
    teams: z
      .object({ webhooks: z.record(nameKey, httpUrl('a Teams Workflows webhook').optional()).default({}) })
      .strict()
      .optional(),
    opsgenie: z
      .object({ services: z.record(nameKey, opsgenieService.optional()).default({}) })
      .strict()
      .optional(),
  })
  .strict();

const REF = /\$\{([^}]*)\}/g;
const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Replaces `${env:NAME}` in every string, or names the first reference that cannot be resolved. */
function resolveRefs(
  v: unknown,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
): { value: unknown } | { error: string; path: (string | number)[] } {
  if (typeof v === 'string') {
    let problem: string | undefined;
    const value = v.replace(REF, (whole, inner: string) => {
      const m = ENV_REF.exec(inner.trim());
      if (!m) {
        problem ??= `"${whole}" is not a reference Flowwatch knows (write \${env:NAME})`;
        return whole;
      }
      const got = env[m[1]!];
      if (got === undefined || got === '') {
        problem ??= `environment variable ${m[1]} is not set`;
        return whole;
      }
      return got;
    });
    return problem ? { error: problem, path } : { value };
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const [i, x] of v.entries()) {
      const r = resolveRefs(x, env, [...path, i]);
      if ('error' in r) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = resolveRefs(x, env, [...path, k]);
      if ('error' in r) return r;
      out[k] = r.value;
    }
    return { value: out };
  }
  return { value: v };
}

/** Reads the `notifications:` section of a configuration file; no file means no channels. */
export function loadNotificationsConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): NotificationsConfig {
  if (!file) return emptyNotificationsConfig();
  const { doc, lines } = readConfigFile(file);
  const where = (path: (string | number)[]) => {
    // The value's node, or its parent's when the value is missing (a key without value).
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(['notifications', ...path.slice(0, n)], true) as
        | { range?: [number, number] }
        | undefined;
      if (node?.range) {
        const pos = lines.linePos(node.range[0]);
        return `${file}:${pos.line}:${pos.col}`;
      }
    }
    return file;
  };
  const label = (path: (string | number)[]) => ['notifications', ...path].join('.');
  const raw = (doc.toJS() as { notifications?: unknown } | null)?.notifications;
  if (raw === undefined || raw === null) return emptyNotificationsConfig();
  const resolved = resolveRefs(raw, env, []);
  if ('error' in resolved)
    throw new ConfigError(`${where(resolved.path)}: ${label(resolved.path)}: ${resolved.error}`);
  const parsed = notificationsSchema.safeParse(resolved.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Messages are ours or zod's and never echo the value (a secret).
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // An unknown key is shown where it is written.
    if (issue.code === 'unrecognized_keys' && issue.keys[0]) path.push(issue.keys[0]);
    const message =
      issue.code === 'invalid_key' ? 'names may hold letters, digits, "_", "-" and "." only' : issue.message;
    const shown = issue.code === 'unrecognized_keys' ? path.slice(0, -1) : path;
    throw new ConfigError(`${where(path)}: ${label(shown)}: ${message}`);
  }
  const out = emptyNotificationsConfig();
  const seen = (map: Map<string, unknown>, path: string[], name: string) => {
    if (map.has(name.toLowerCase()))
      throw new ConfigError(
        `${where(path)}: ${label(path)}: "${name}" is defined twice (handles ignore case)`,
      );
  };
  for (const [name, url] of Object.entries(parsed.data.slack?.channels ?? {})) {
    if (url === undefined) continue;
    seen(out.slack, ['slack', 'channels', name], name);
    out.slack.set(name.toLowerCase(), { name, url });
  }
  if (parsed.data.bundle_config) out.bundle_ms = parsed.data.bundle_config.duration * 1000;
  if (parsed.data.dead_letter) out.dead_letter_notify = parsed.data.dead_letter.notify;
  const pd = parsed.data.pagerduty;
  if (pd?.url) out.pagerduty.url = pd.url;
  for (const [name, routingKey] of Object.entries(pd?.services ?? {})) {
    if (routingKey === undefined) continue;
    seen(out.pagerduty.services, ['pagerduty', 'services', name], name);
    out.pagerduty.services.set(name.toLowerCase(), { name, routingKey });
  }
  const fill = named(seen);
  fill(out.slackAccounts, ['slack', 'accounts'], parsed.data.slack?.accounts, (name, a) => ({
    name,
    url: a.url,
  }));
  fill(out.teams, ['teams', 'webhooks'], parsed.data.teams?.webhooks, (name, url) => ({ name, url }));
  fill(out.opsgenie, ['opsgenie', 'services'], parsed.data.opsgenie?.services, (name, s) => ({
    name,
    apiKey: s.api_key,
    region: s.region,
    url: s.region === 'custom' ? s.custom_url! : OPSGENIE_URLS[s.region],
  }));
  const email = parsed.data.email;
  if (email) {
    const { smtp } = email;
    out.email = {
      host: smtp.host,
      port: smtp.port ?? (smtp.secure ? 465 : 587),
      secure: smtp.secure,
      starttls: smtp.starttls,
      user: smtp.user,
      password: smtp.password,
      from: email.from,
      allowedDomains: email.allowed_domains,
      timeoutMs: smtp.timeout_ms,
    };
  }
  return out;
}

/** Adds a section's defined entries to a map by lower-case name; `seen` refuses names differing by case. */
function named(seen: (map: Map<string, unknown>, path: string[], name: string) => void) {
  return <V, T>(
    map: Map<string, T>,
    path: string[],
    entries: Record<string, V | undefined> | undefined,
    make: (name: string, v: V) => T,
  ) => {
    for (const [name, v] of Object.entries(entries ?? {})) {
      if (v === undefined) continue;
      seen(map, [...path, name], name);
      map.set(name.toLowerCase(), make(name, v));
    }
  };
}

/** What may be logged or shown: names and the PagerDuty endpoint, never a URL of Slack or a key. */
export function describeNotifications(c: NotificationsConfig): {
  slack_channels: string[];
  slack_accounts: string[];
  pagerduty_services: string[];
  pagerduty_url: string;
  /** the SMTP server and sender, when email is configured */
  email?: string;
  teams_webhooks: string[];
  opsgenie_services: string[];
} {
  const pd = new URL(c.pagerduty.url);
  return {
    slack_channels: [...c.slack.values()].map((s) => s.name),
    slack_accounts: [...c.slackAccounts.values()].map((a) => a.name),
    pagerduty_services: [...c.pagerduty.services.values()].map((s) => s.name),
    pagerduty_url: `${pd.origin}${pd.pathname}`,
    ...(c.email ? { email: `smtp://${c.email.host}:${c.email.port} from ${c.email.from}` } : {}),
    teams_webhooks: [...c.teams.values()].map((t) => t.name),
    opsgenie_services: [...c.opsgenie.values()].map((s) => `${s.name} (${new URL(s.url).origin})`),
  };
}

/** The outcome of a reload. */
export type ReloadResult = { ok: true } | { ok: false; error: string };

/** The current channel definitions, reloaded from the configuration file on demand (SIGHUP). */
export class NotificationsConfigSource {
  private config: NotificationsConfig;

  /** Reads the file once; throws a ConfigError (file:line) when it is invalid. */
  constructor(private readonly o: { file?: string; env?: NodeJS.ProcessEnv; logger?: Logger } = {}) {
    this.config = loadNotificationsConfig(o.file, o.env ?? process.env);
  }

  /** The definitions to use now. */
  current(): NotificationsConfig {
    return this.config;
  }

  /** Re-reads the file; on an error keeps the definitions in use and logs the error (file:line). */
  reload(): ReloadResult {
    try {
      this.config = loadNotificationsConfig(this.o.file, this.o.env ?? process.env);
      this.o.logger?.info(
        { notifications: describeNotifications(this.config) },
        'notification channels reloaded from the configuration file',
      );
      return { ok: true };
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : `reload failed: ${(err as Error).message}`;
      this.o.logger?.error(
        { error },
        'configuration reload failed; the previous notification channels stay in use',
      );
      return { ok: false, error };
    }
  }
}
