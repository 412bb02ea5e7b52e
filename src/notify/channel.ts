// The one interface every notification channel implements, its typed result, and the registry from a
// handle's prefix (`@webhook-…`, `@slack-…`) to the channel. A channel only builds its payload, sends it and
// says whether a failure is worth retrying; the outbox (deliver.ts) owns retries, deadlines and records.
import type { MonitorEventRecord } from '../store/store.ts';

/** Why a delivery failed: a closed set, also the `reason` label of the metrics. */
export type FailureReason =
  | 'network' // no response (connection refused, reset, DNS)
  | 'timeout' // no response within the channel's timeout
  | 'http_5xx'
  | 'rate_limited' // 429
  | 'http_4xx' // other client errors: retrying would not help
  | 'smtp_4xx' // a transient SMTP reply (421 busy, 450 mailbox unavailable, 452 no space)
  | 'smtp_5xx' // a permanent SMTP reply (550 unknown user, 535 bad credentials, 554 refused)
  | 'unknown_handle' // the handle names no configured recipient (e.g. no webhook of that name)
  | 'unknown_channel' // no channel handles this kind of handle (yet)
  | 'bad_config' // the recipient's configuration cannot produce a request
  | 'expired'; // still failing when the job's deadline came

/** The outcome of one send. */
export type SendResult =
  | { ok: true; status: number | null }
  | {
      ok: false;
      retryable: boolean;
      reason: FailureReason;
      /** one sentence, no secrets */
      detail: string;
      status?: number;
      /** from Retry-After, when the receiver gave one */
      retryAfterMs?: number;
    };

/** What a channel is given to send one notification. */
export interface Delivery {
  /** the handle without its `@`, e.g. `webhook-ops` */
  handle: string;
  event: MonitorEventRecord;
  /** `<event id>:<handle>`, sent to receivers that can de-duplicate (at-least-once delivery) */
  idempotencyKey: string;
  signal: AbortSignal;
}

/** A notification channel. */
export interface Channel {
  /** the channel's name, as in handles and metrics: `webhook` */
  readonly name: string;
  /** true: it renders bundle summaries (`event.body.bundle`, notify/bundle.ts), so its alerts may be bundled */
  readonly bundles?: boolean;
  send(d: Delivery): Promise<SendResult>;
}

/** Channels by handle prefix. */
export class ChannelRegistry {
  private readonly channels = new Map<string, Channel>();

  add(c: Channel): this {
    this.channels.set(c.name, c);
    return this;
  }

  /** The channel a handle names (`@webhook-ops` → webhook), or the prefix it would have. */
  resolve(handle: string): { channel: Channel | undefined; name: string } {
    const bare = handle.replace(/^@/, '');
    // `@user@example.com` (even `@slack-bot@example.com`) is an email address.
    if (bare.includes('@')) return { channel: this.channels.get('email'), name: 'email' };
    const dash = bare.indexOf('-');
    const prefix = dash > 0 ? bare.slice(0, dash).toLowerCase() : '';
    const channel = this.channels.get(prefix);
    if (channel) return { channel, name: channel.name };
    // Other prefixes are integrations we do not know (yet).
    return { channel: undefined, name: 'unknown' };
  }
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from `now`. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Classifies an HTTP response status as a send result. */
export function resultOfStatus(
  status: number,
  what: string,
  retryAfter: string | null,
  now: number,
): SendResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  if (status === 429)
    return {
      ok: false,
      retryable: true,
      reason: 'rate_limited',
      status,
      detail: `${what} answered 429 Too Many Requests`,
      retryAfterMs: retryAfterMs(retryAfter, now),
    };
  if (status >= 500)
    return {
      ok: false,
      retryable: true,
      reason: 'http_5xx',
      status,
      detail: `${what} answered ${status}`,
      retryAfterMs: status === 503 ? retryAfterMs(retryAfter, now) : undefined,
    };
  return { ok: false, retryable: false, reason: 'http_4xx', status, detail: `${what} answered ${status}` };
}

/** Classifies a fetch that threw (no response). */
export function resultOfError(err: unknown, what: string): SendResult {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError')
    return { ok: false, retryable: true, reason: 'timeout', detail: `${what}: no response in time` };
  const why = e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed';
  return { ok: false, retryable: true, reason: 'network', detail: `${what}: ${why}` };
}

/** A failure retrying cannot fix: the handle names nothing, or its configuration cannot make a request. */
export function notDeliverable(reason: 'unknown_handle' | 'bad_config', detail: string): SendResult {
  return { ok: false, retryable: false, reason, detail };
}

/**
 * POSTs a JSON body to a receiver and classifies the answer (its body is not read). `what` names the receiver
 * in results and logs, so it must hold no secret.
 */
export async function postJson(o: {
  url: string | URL;
  what: string;
  body: unknown;
  userAgent: string;
  headers?: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  now: () => number;
}): Promise<SendResult> {
  try {
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { ...o.headers, 'content-type': 'application/json', 'user-agent': o.userAgent },
      body: JSON.stringify(o.body),
      signal: AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]),
    });
    await res.body?.cancel().catch(() => undefined);
    return resultOfStatus(res.status, o.what, res.headers.get('retry-after'), o.now());
  } catch (err) {
    return resultOfError(err, o.what);
  }
}
