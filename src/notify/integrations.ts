// Recipients from both places Datadog lets them live: the configuration file's `notifications:` section and
// the integration APIs (api/integrations-*.ts, stored in `Store.integrations`). Channels read the merged
// definitions through `current()`, as they read the file's before. Precedence: a handle the file defines is
// the file's (the operator's file is authoritative and is what a SIGHUP reloads); an API record it shadows is
// kept, reported by the API (`conflict`) and logged once per change. Nothing here logs a secret.
import type { Logger } from 'pino';
import type { IntegrationKind, IntegrationRecord, IntegrationStore } from '../store/integrations.ts';
import {
  type NotificationsConfig,
  OPSGENIE_URLS,
  type SlackChannelConfig,
  type SlackDisplay,
} from './config.ts';

const KINDS: IntegrationKind[] = ['pagerduty', 'slack', 'opsgenie', 'teams'];

/** A Slack channel name as stored and matched: `#ops` (given as `ops` or `#ops`). */
export function slackChannelName(name: string): string {
  return `#${name.trim().replace(/^#/, '')}`;
}

/** The handles (without `@`) an API record answers to, most specific first. */
export function handlesOf(r: IntegrationRecord): string[] {
  if (r.kind !== 'slack') return [`${r.kind}-${r.name}`];
  const bare = r.name.replace(/^#/, '');
  return [`slack-${r.scope}-${bare}`, `slack-${bare}`];
}

/** The outcome of a merge: the definitions channels use, and what each API record could not get. */
export interface MergedRecipients {
  config: NotificationsConfig;
  /** by record key (`kind/id`): why (some of) its handles go elsewhere */
  conflicts: Map<string, string>;
  /** by record key: why it cannot be delivered to (a Slack channel whose account has no webhook URL) */
  unresolved: Map<string, string>;
}

const shadowedText = (handle: string) =>
  `the configuration file also defines @${handle}; the file's definition is used for that handle`;

/** The key of a record in the merge's maps. */
export const recordKey = (r: Pick<IntegrationRecord, 'kind' | 'id'>): string => `${r.kind}/${r.id}`;

/**
 * Adds the API's recipients to the file's definitions (pure). The file wins on a name both define. Slack
 * channels answer to `@slack-ACCOUNT-CHANNEL` and, when no other account has a channel of that name, to
 * `@slack-CHANNEL`, as in Datadog; a channel posts to its own `url` when it was given one, else to its
 * account's webhook (`notifications.slack.accounts.NAME.url`) with `channel` set.
 */
export function mergeRecipients(file: NotificationsConfig, records: IntegrationRecord[]): MergedRecipients {
  const config: NotificationsConfig = {
    ...file,
    slack: new Map(file.slack),
    pagerduty: { url: file.pagerduty.url, services: new Map(file.pagerduty.services) },
    teams: new Map(file.teams),
    opsgenie: new Map(file.opsgenie),
  };
  const conflicts = new Map<string, string>();
  const unresolved = new Map<string, string>();
  const shadowed = (r: IntegrationRecord, handle: string) =>
    conflicts.set(recordKey(r), shadowedText(handle));
  for (const r of records) {
    const key = r.name.toLowerCase();
    if (r.kind === 'pagerduty') {
      if (file.pagerduty.services.has(key)) shadowed(r, `pagerduty-${r.name}`);
      else config.pagerduty.services.set(key, { name: r.name, routingKey: r.secret ?? '' });
    } else if (r.kind === 'teams') {
      if (file.teams.has(key)) shadowed(r, `teams-${r.name}`);
      else config.teams.set(key, { name: r.name, url: r.secret ?? '' });
    } else if (r.kind === 'opsgenie') {
      const region = (r.attributes.region as 'us' | 'eu' | 'custom' | undefined) ?? 'us';
      const url = region === 'custom' ? String(r.attributes.custom_url ?? '') : OPSGENIE_URLS[region];
      if (file.opsgenie.has(key)) shadowed(r, `opsgenie-${r.name}`);
      else config.opsgenie.set(key, { name: r.name, apiKey: r.secret ?? '', region, url });
    }
  }
  mergeSlack(file, records, config, conflicts, unresolved);
  return { config, conflicts, unresolved };
}

function mergeSlack(
  file: NotificationsConfig,
  records: IntegrationRecord[],
  config: NotificationsConfig,
  conflicts: Map<string, string>,
  unresolved: Map<string, string>,
): void {
  const slack = records.filter((r) => r.kind === 'slack');
  // How many accounts have a channel of each bare name: `@slack-CHANNEL` needs exactly one.
  const owners = new Map<string, number>();
  for (const r of slack) {
    const bare = r.name.replace(/^#/, '').toLowerCase();
    owners.set(bare, (owners.get(bare) ?? 0) + 1);
  }
  const bareEntries: [string, SlackChannelConfig, IntegrationRecord][] = [];
  for (const r of slack) {
    const account = file.slackAccounts.get(r.scope.toLowerCase());
    const url = r.secret ?? account?.url;
    if (!url) {
      unresolved.set(
        recordKey(r),
        `Slack account "${r.scope}" has no webhook URL: set notifications.slack.accounts.${r.scope}.url in the configuration file, or give the channel a url`,
      );
      continue;
    }
    const [full, bare] = handlesOf(r) as [string, string];
    const entry: SlackChannelConfig = {
      name: `${r.scope}-${r.name.replace(/^#/, '')}`,
      url,
      ...(r.attributes.display ? { display: r.attributes.display as SlackDisplay } : {}),
      // An account's webhook is told the channel; a channel's own webhook already posts to it.
      ...(r.secret ? {} : { channel: r.name }),
    };
    const fullKey = full.slice('slack-'.length).toLowerCase();
    if (file.slack.has(fullKey)) conflicts.set(recordKey(r), shadowedText(full));
    else config.slack.set(fullKey, entry);
    const bareKey = bare.slice('slack-'.length).toLowerCase();
    if (owners.get(bareKey) === 1) bareEntries.push([bareKey, entry, r]);
  }
  // Short handles last: a full `ACCOUNT-CHANNEL` handle, from the file or the API, is never taken by one.
  for (const [bareKey, entry, r] of bareEntries) {
    if (file.slack.has(bareKey)) conflicts.set(recordKey(r), shadowedText(`slack-${bareKey}`));
    else if (!config.slack.has(bareKey)) config.slack.set(bareKey, entry);
  }
}

/** The merged recipients of the running server, refreshed after every API change and file reload. */
export class IntegrationRecipients {
  private records: IntegrationRecord[] = [];
  private version = 0;
  private cache: { file: NotificationsConfig; version: number; merged: MergedRecipients } | undefined;

  constructor(
    private readonly o: { store: IntegrationStore; file: () => NotificationsConfig; logger?: Logger },
  ) {}

  /** Reads the API's records from the store (at start and after each change through the API). */
  async load(): Promise<void> {
    const all: IntegrationRecord[] = [];
    for (const kind of KINDS) all.push(...(await this.o.store.listIntegrations(kind)));
    this.records = all;
    this.version++;
    // Merged now, so conflicts are logged at start and right after each change.
    this.merged();
  }

  /** The file's definitions with the API's added: what the channels use now. */
  current(): NotificationsConfig {
    return this.merged().config;
  }

  /** Why some of the record's handles go to the file's definition, if they do. */
  conflict(r: IntegrationRecord): string | undefined {
    return this.merged().conflicts.get(recordKey(r));
  }

  /** Why the record cannot be delivered to, if it cannot. */
  unresolved(r: IntegrationRecord): string | undefined {
    return this.merged().unresolved.get(recordKey(r));
  }

  /** The file's Slack accounts (their webhook URLs are secrets: never returned). */
  slackAccount(name: string): { name: string } | undefined {
    const a = this.o.file().slackAccounts.get(name.toLowerCase());
    return a ? { name: a.name } : undefined;
  }

  private merged(): MergedRecipients {
    const file = this.o.file();
    if (this.cache?.file === file && this.cache.version === this.version) return this.cache.merged;
    const merged = mergeRecipients(file, this.records);
    this.cache = { file, version: this.version, merged };
    for (const r of this.records) {
      const why = merged.conflicts.get(recordKey(r)) ?? merged.unresolved.get(recordKey(r));
      if (why)
        this.o.logger?.warn(
          { integration: r.kind, name: r.name, ...(r.scope ? { account: r.scope } : {}) },
          `recipient defined through the ${r.kind} integration API: ${why}`,
        );
    }
    return merged;
  }
}
