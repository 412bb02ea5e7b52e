// `flowwatch notify test HANDLE | log | retry ID`: test a recipient through a running server, list the
// delivery outbox (what was sent, to whom, what failed and why) and send a dead delivery again.
import type { Command } from 'commander';
import { table } from './monitors.ts';
import {
  ApiError,
  apiRequest,
  type ClientOptions,
  exitOnClosedStdout,
  withClientOptions,
} from './options.ts';

/** A delivery job as GET /api/flowwatch/v1/notifications answers. */
interface ApiJob {
  id: number;
  event_id: number;
  monitor_id: number;
  group_key: string;
  handle: string;
  channel: string;
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  delivered_at: number | null;
  last_status: number | null;
  last_reason: string | null;
  last_error: string | null;
  updated_at: number;
}

/** The channel's result, as POST …/notifications/test answers. */
type ApiResult =
  | { ok: true; status: number | null }
  | { ok: false; retryable: boolean; reason: string; detail: string; status?: number };

/** What to do next, by failure reason. */
const NEXT: Record<string, string> = {
  unknown_handle:
    'check the name: Slack channels, PagerDuty services, Teams webhooks, Opsgenie services and email are defined in the configuration file (notifications:, docs/notifications.md), webhooks through /api/v1/integration/webhooks',
  unknown_channel:
    'Flowwatch has no channel for this handle; write @webhook-NAME, @slack-NAME, @pagerduty-NAME, @teams-NAME, @opsgenie-NAME or @user@example.com',
  bad_config:
    'fix the notifications: section of the configuration file, then reload it (kill -HUP the server process)',
  network: 'check that the Flowwatch server can reach the receiver (DNS, firewall, proxy)',
  timeout: 'the receiver did not answer in time: check that it is up and reachable from the Flowwatch server',
  http_4xx: 'the receiver refused the request: check the URL, key or token in the configuration',
  smtp_5xx:
    'the SMTP server refused the message: check the address, the SMTP user and password, and the sender',
  http_5xx: 'the receiver failed: try again later',
  rate_limited: 'the receiver is rate limiting: try again later',
  smtp_4xx: 'the SMTP server deferred the message: try again later',
};

const STATES = { alert: 'Alert', warn: 'Warn', 'no-data': 'No Data', ok: 'OK' } as const;

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : '-');
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

/** An integer option or argument in [min, max]; throws naming it. */
function intArg(raw: string, what: string, min: number, max: number, hint = ''): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new Error(`${what} must be an integer from ${min} to ${max}, got "${raw}"${hint}`);
  return n;
}

async function test(handle: string, o: ClientOptions & { state: string; json?: boolean }): Promise<void> {
  const state = STATES[o.state.toLowerCase() as keyof typeof STATES];
  if (!state) throw new Error(`--state must be one of ${Object.keys(STATES).join(', ')}, got "${o.state}"`);
  const { data } = (await apiRequest(o, '/api/flowwatch/v1/notifications/test', {
    method: 'POST',
    body: { handle, state },
  })) as { data: { handle: string; channel: string; state: string; title: string; result: ApiResult } };
  if (o.json) process.stdout.write(`${JSON.stringify(data)}\n`);
  const r = data.result;
  const via = `${data.handle} (${data.channel})`;
  if (r.ok) {
    if (!o.json)
      process.stdout.write(
        `Sent "${data.title}" to ${via}: delivered${r.status ? `, the receiver answered ${r.status}` : ''}.\n`,
      );
    return;
  }
  const retry = r.retryable ? 'a temporary failure' : 'not retryable';
  const next = NEXT[r.reason] ? `\n  next: ${NEXT[r.reason]}` : '';
  throw new Error(`test notification to ${via} failed (${r.reason}, ${retry}): ${r.detail}${next}`);
}

async function log(
  o: ClientOptions & { state?: string; monitor?: string; limit: string; before?: string; json?: boolean },
): Promise<void> {
  exitOnClosedStdout();
  const q = new URLSearchParams();
  if (o.state) {
    if (!['pending', 'delivered', 'dead'].includes(o.state))
      throw new Error(`--state must be pending, delivered or dead, got "${o.state}"`);
    q.set('state', o.state);
  }
  if (o.monitor !== undefined)
    q.set(
      'monitor_id',
      String(intArg(o.monitor, '--monitor', 0, Number.MAX_SAFE_INTEGER, '; see flowwatch monitors list')),
    );
  const limit = intArg(o.limit, '--limit', 1, 1000);
  q.set('limit', String(limit));
  if (o.before !== undefined)
    q.set('before', String(intArg(o.before, '--before', 1, Number.MAX_SAFE_INTEGER)));
  const { data, counts } = (await apiRequest(o, `/api/flowwatch/v1/notifications?${q}`)) as {
    data: ApiJob[];
    counts: Record<string, number>;
  };
  if (o.json) {
    for (const j of data) process.stdout.write(`${JSON.stringify(j)}\n`);
    return;
  }
  const total = `pending ${counts.pending ?? 0}, delivered ${counts.delivered ?? 0}, dead ${counts.dead ?? 0}`;
  if (data.length === 0) {
    process.stdout.write(`No deliveries match (all deliveries: ${total}).\n`);
    return;
  }
  const rows = [['ID', 'STATE', 'HANDLE', 'MONITOR', 'ATTEMPTS', 'UPDATED', 'LAST ERROR']];
  for (const j of data)
    rows.push([
      String(j.id),
      j.state,
      j.handle,
      String(j.monitor_id),
      String(j.attempts),
      iso(j.updated_at),
      j.last_error ? oneLine(`${j.last_reason ?? ''}: ${j.last_error}`) : '-',
    ]);
  let out = table(rows);
  out += `\nAll deliveries: ${total}.\n`;
  if (data.length === limit) out += `Older: add --before ${data.at(-1)!.id}\n`;
  if (data.some((j) => j.state === 'dead')) out += 'Send a dead delivery again: flowwatch notify retry ID\n';
  process.stdout.write(out);
}

async function retry(raw: string, o: ClientOptions & { json?: boolean; force?: boolean }): Promise<void> {
  const id = intArg(raw, 'the delivery id', 1, Number.MAX_SAFE_INTEGER, '; see flowwatch notify log');
  const query = o.force ? '?force=true' : '';
  let job: ApiJob;
  try {
    ({ data: job } = (await apiRequest(o, `/api/flowwatch/v1/notifications/${id}/retry${query}`, {
      method: 'POST',
      body: {},
    })) as { data: ApiJob });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      throw new Error(`no delivery with id ${id}; see flowwatch notify log`);
    if (err instanceof ApiError && err.status === 409) {
      // The server says why: delivered already, held in a bundle, or out of date (only --force helps that).
      if (/was delivered/.test(err.detail))
        throw new Error(`delivery ${id} was delivered already; a delivered notification is never sent again`);
      const why = err.detail
        .replace(/^Notification \d+ /, '')
        .replace(/; add force=true to send it anyway$/, '');
      const hint = /out of date/.test(why) ? ' (flowwatch notify retry --force sends it anyway)' : '';
      throw new Error(`delivery ${id} ${why}${hint}`);
    }
    throw err;
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(job)}\n`);
    return;
  }
  process.stdout.write(
    `Delivery ${id} to ${job.handle} is ${job.state === 'pending' ? 'due again now' : job.state}; follow it with flowwatch notify log --monitor ${job.monitor_id}\n`,
  );
}

/** Registers `notify` and its subcommands. */
export function registerNotify(program: Command): void {
  const notify = program
    .command('notify')
    .description('notifications of a running server: test a recipient, list deliveries, retry one');

  withClientOptions(notify.command('test'))
    .description('send a test notification to a recipient now and report what the receiver answered')
    .argument(
      '<handle>',
      'a recipient as written in a monitor message: @slack-ops, @pagerduty-okta, @user@example.com',
    )
    .option(
      '--state <state>',
      'the state to send: alert, warn, no-data or ok (ok resolves a test alert)',
      'alert',
    )
    .option('--json', 'print the API answer as JSON')
    .action(test);

  withClientOptions(notify.command('log'))
    .description('list deliveries newest first: state, recipient, attempts and the last error')
    .option('--state <state>', 'only pending, delivered or dead deliveries')
    .option('--monitor <id>', 'only deliveries of this monitor')
    .option('--limit <n>', 'at most this many deliveries (1 to 1000)', '50')
    .option('--before <id>', 'only deliveries older than this id (the next page)')
    .option('--json', 'print each delivery as one line of JSON (NDJSON)')
    .action(log);

  withClientOptions(notify.command('retry'))
    .description('send a dead (or waiting) delivery again now, with a fresh deadline')
    .argument('<id>', 'delivery id (see flowwatch notify log)')
    .option('--force', 'send it even when the recipient already got a later state of the same group')
    .option('--json', 'print the API answer as JSON')
    .action(retry);
}
