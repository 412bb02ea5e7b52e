// The webhook channel, as Datadog's Webhooks integration (datadog-compat.md §7.1): `@webhook-NAME` posts the
// webhook's payload template with `$VARIABLES` substituted, JSON or form encoded, with its custom headers.
// Definitions live in the database and come from Datadog's API (api/webhooks.ts).
import { z } from 'zod';
import type { NotificationStore, WebhookRecord } from '../../store/notifications.ts';
import type { MonitorEventRecord } from '../../store/store.ts';
import { type Channel, type Delivery, resultOfError, resultOfStatus, type SendResult } from '../channel.ts';
import { eventVariables, tagValue, type VariableValue } from '../variables.ts';

/** Datadog's default payload, used when a webhook has none. */
export const DEFAULT_PAYLOAD = JSON.stringify({
  body: '$EVENT_MSG',
  last_updated: '$LAST_UPDATED',
  event_type: '$EVENT_TYPE',
  title: '$EVENT_TITLE',
  date: '$DATE',
  org: { id: '$ORG_ID', name: '$ORG_NAME' },
  id: '$ID',
});

/** Datadog's per-request timeout for webhooks. */
export const WEBHOOK_TIMEOUT_MS = 15_000;

const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A webhook definition as the API accepts it (Datadog's `WebhooksIntegration`). */
export const webhookSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .regex(NAME, 'may hold letters, digits, "_", "-" and inner dots only (it is used as @webhook-NAME)'),
  url: z
    .string()
    .max(2048)
    .refine((u) => /^https?:$/.test(safeUrl(u)?.protocol ?? ''), 'must be an http or https URL'),
  payload: z.string().max(100_000).nullish(),
  custom_headers: z.string().max(10_000).nullish(),
  encode_as: z.enum(['json', 'form']).default('json'),
});

function safeUrl(u: string): URL | undefined {
  try {
    return new URL(u);
  } catch {
    return undefined;
  }
}

/** The URL as the API shows it: the password of `user:password@` masked. */
export function maskUrl(url: string): string {
  const u = safeUrl(url);
  if (!u || (!u.username && !u.password)) return url;
  if (u.password) u.password = '********';
  return u.toString();
}

/** Problems of a payload template or headers that make every delivery fail; [] when fine. */
export function checkWebhook(w: Pick<WebhookRecord, 'payload' | 'custom_headers'>): string[] {
  const problems: string[] = [];
  if (w.payload !== null) {
    try {
      JSON.parse(renderTemplate(w.payload, {}));
    } catch (err) {
      problems.push(`payload must be JSON once $VARIABLES are substituted: ${(err as Error).message}`);
    }
  }
  if (w.custom_headers !== null) {
    try {
      headersOf(w.custom_headers);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/** custom_headers (a JSON object of strings) as headers; throws with a sentence when it is not one. */
function headersOf(customHeaders: string | null): Record<string, string> {
  if (customHeaders === null || customHeaders.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(customHeaders);
  } catch (err) {
    throw new Error(`custom_headers must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error('custom_headers must be a JSON object of header names to values');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k))
      throw new Error(`custom_headers: invalid header name "${k}"`);
    if (typeof x === 'object' && x !== null)
      throw new Error(`custom_headers: the value of "${k}" must be text`);
    out[k] = String(x);
  }
  return out;
}

const VAR = /\$([A-Z][A-Z0-9_]*)(\[([^\]]*)\])?/y;

/**
 * Substitutes `$VARIABLES` in a JSON template. Inside a JSON string a value is JSON-escaped, so quotes and
 * newlines never break the payload; outside one (`"id": $ALERT_ID`) a number or JSON value goes in as is
 * and text goes in quoted. Unknown `$NAMES` stay as written (Datadog does the same).
 */
export function renderTemplate(template: string, vars: Record<string, VariableValue>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; ) {
    const c = template[i]!;
    if (inString && c === '\\') {
      out += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') inString = !inString;
    if (c === '$') {
      VAR.lastIndex = i;
      const m = VAR.exec(template);
      const hit = m ? lookup(m[1]!, m[3], vars) : undefined;
      if (m && hit) {
        out += inString ? escapeInString(hit.value) : bare(hit.value);
        i += hit.length + (hit.indexed ? (m[2]?.length ?? 0) : 0) + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

/** The longest known variable at the start of `word` (`$DATE_POSIX` before `$DATE`). */
function lookup(
  word: string,
  index: string | undefined,
  vars: Record<string, VariableValue>,
): { value: VariableValue; length: number; indexed: boolean } | undefined {
  if (word === 'TAGS' && index !== undefined)
    return { value: tagValue(vars, index), length: 4, indexed: true };
  for (let n = word.length; n > 0; n--) {
    const name = word.slice(0, n);
    // When validating (no values), every name that looks like a variable stands for sample text.
    const value = vars[name] ?? (Object.keys(vars).length === 0 ? 'x' : undefined);
    if (value !== undefined) return { value, length: n, indexed: false };
  }
  return undefined;
}

function escapeInString(v: VariableValue): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v.json);
  return JSON.stringify(text).slice(1, -1);
}

function bare(v: VariableValue): string {
  if (typeof v !== 'string') return JSON.stringify(v.json);
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$|^(true|false|null)$/.test(v) ? v : JSON.stringify(v);
}

/** The HTTP request a webhook makes for an event. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Builds the request (pure); throws a sentence when the definition cannot produce one. */
export function buildWebhookRequest(
  w: WebhookRecord,
  e: MonitorEventRecord,
  idempotencyKey: string,
): WebhookRequest {
  const rendered = renderTemplate(w.payload ?? DEFAULT_PAYLOAD, eventVariables(e));
  let payload: unknown;
  try {
    payload = JSON.parse(rendered);
  } catch (err) {
    throw new Error(`the payload is not JSON once rendered: ${(err as Error).message}`);
  }
  const u = new URL(w.url);
  const headers: Record<string, string> = {
    'user-agent': 'Flowwatch-Webhooks/1.0 (Datadog-compatible)',
    'idempotency-key': idempotencyKey,
  };
  if (u.username || u.password) {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  let body: string;
  if (w.encode_as === 'form') {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw new Error('a form-encoded payload must be a JSON object');
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(payload))
      form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    body = form.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else {
    body = rendered;
    headers['content-type'] = 'application/json';
  }
  // Custom headers last: they may override ours (Content-Type, Authorization), as in Datadog.
  for (const [k, v] of Object.entries(headersOf(w.custom_headers))) {
    delete headers[k.toLowerCase()];
    headers[k] = v;
  }
  return { url: u.toString(), headers, body };
}

/** The webhook channel, reading definitions from the store at each send (changes apply at once). */
export function createWebhookChannel(o: {
  store: NotificationStore;
  timeoutMs?: number;
  now?: () => number;
}): Channel {
  const now = o.now ?? Date.now;
  return {
    name: 'webhook',
    // A summary is an event like another: $EVENT_TITLE, $EVENT_MSG (the list), $BUNDLE_COUNT, $BUNDLE.
    bundles: true,
    async send(d: Delivery): Promise<SendResult> {
      const name = d.handle.slice('webhook-'.length);
      const w = await o.store.getWebhook(name);
      if (!w)
        return {
          ok: false,
          retryable: false,
          reason: 'unknown_handle',
          detail: `no webhook named "${name}" (create it with POST /api/v1/integration/webhooks/configuration/webhooks)`,
        };
      let req: WebhookRequest;
      try {
        req = buildWebhookRequest(w, d.event, d.idempotencyKey);
      } catch (err) {
        return {
          ok: false,
          retryable: false,
          reason: 'bad_config',
          detail: `webhook "${w.name}": ${(err as Error).message}`,
        };
      }
      // Named by origin and path only: query strings often carry tokens.
      const target = new URL(req.url);
      const what = `webhook "${w.name}" (POST ${target.origin}${target.pathname})`;
      try {
        const res = await fetch(req.url, {
          method: 'POST',
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.any([d.signal, AbortSignal.timeout(o.timeoutMs ?? WEBHOOK_TIMEOUT_MS)]),
        });
        await res.body?.cancel().catch(() => undefined);
        return resultOfStatus(res.status, what, res.headers.get('retry-after'), now());
      } catch (err) {
        return resultOfError(err, what);
      }
    },
  };
}
