// Splunk HTTP Event Collector receiver, so an admin who set ELS up for Splunk only changes the URL:
// POST /services/collector[/event[/1.0]] with `Authorization: Splunk <token>`, concatenated {"event": …} objects.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors.ts';
import type { Json } from '../domain/log-event.ts';
import { isElsEvent } from '../okta/els.ts';
import { decodeBody, decodeUtf8 } from './decode.ts';
import { type IngestDeps, ingest } from './ingest.ts';
import { LIMITS } from './limits.ts';

/** A HEC-shaped error: Splunk answers `{"text", "code"}` (and the number of the bad event). */
export class HecError extends HttpError {
  constructor(
    status: number,
    readonly text: string,
    readonly code: number,
    readonly invalidEvent?: number,
  ) {
    super(status, text);
  }
}

/** The token of `Authorization: Splunk <token>` (also accepts `Bearer`), or undefined. */
export function hecToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (!auth) return undefined;
  const m = /^(?:Splunk|Bearer)\s+(.*)$/i.exec(auth.trim());
  return m ? m[1] : '';
}

/** Splits concatenated (or newline-separated) JSON values; throws the index of a malformed one. */
export function splitConcatenated(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    if (text[i] !== '{') throw new HecError(400, 'Invalid data format', 6, out.length);
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < n; j++) {
      const c = text[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0) throw new HecError(400, 'Invalid data format', 6, out.length);
    if (out.length >= LIMITS.maxEntries) {
      throw new HecError(413, `Too many events in one request: at most ${LIMITS.maxEntries}`, 6, out.length);
    }
    try {
      out.push(JSON.parse(text.slice(i, j + 1)));
    } catch {
      throw new HecError(400, 'Invalid data format', 6, out.length);
    }
    i = j + 1;
  }
  return out;
}

/** Maps one HEC envelope to a Datadog intake item; ELS events get the Okta service and source. */
export function hecItem(envelope: unknown, index: number): Record<string, Json> {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new HecError(400, 'Invalid data format', 6, index);
  }
  const e = envelope as Record<string, Json>;
  if (!('event' in e)) throw new HecError(400, 'Event field is required', 12, index);
  const ev = e.event;
  if (
    ev === null ||
    ev === '' ||
    (typeof ev === 'object' && !Array.isArray(ev) && Object.keys(ev).length === 0)
  ) {
    throw new HecError(400, 'Event field cannot be blank', 13, index);
  }
  const fields =
    e.fields !== null && typeof e.fields === 'object' && !Array.isArray(e.fields) ? e.fields : {};
  const item: Record<string, Json> = { ...fields, message: ev };
  const els = typeof ev === 'object' && !Array.isArray(ev) && isElsEvent(ev as Record<string, Json>);
  const source = typeof e.source === 'string' ? e.source : els ? 'okta-workflows-els' : undefined;
  if (source) item.ddsource = source;
  if (els) item.service = 'okta';
  if (typeof e.host === 'string') item.hostname = e.host;
  const splunk: Record<string, Json> = {};
  for (const k of ['sourcetype', 'index', 'source'] as const) if (typeof e[k] === 'string') splunk[k] = e[k];
  if (Object.keys(splunk).length > 0) item.splunk = splunk;
  if (
    (typeof e.time === 'number' || typeof e.time === 'string') &&
    !(typeof ev === 'object' && ev && 'timestamp' in ev)
  ) {
    item.timestamp = e.time;
  }
  return item;
}

/** Renders any error the HEC routes raise as Splunk does. */
export function hecErrorBody(err: HttpError): {
  text: string;
  code: number;
  'invalid-event-number'?: number;
} {
  if (err instanceof HecError) {
    return err.invalidEvent === undefined
      ? { text: err.text, code: err.code }
      : { text: err.text, code: err.code, 'invalid-event-number': err.invalidEvent };
  }
  if (err.status === 401) return { text: 'Token is required', code: 2 };
  if (err.status === 403) return { text: 'Invalid token', code: 4 };
  if (err.status === 503) return { text: 'Server is busy', code: 9 };
  if (err.status >= 500) return { text: err.detail, code: 8 };
  return { text: err.detail, code: 6 };
}

/** Registers the HEC routes in the intake scope. */
export function registerSplunkHec(app: FastifyInstance, deps: IngestDeps): void {
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decoded = await decodeBody(body, req.headers['content-encoding']);
    if (decoded !== body) deps.budget?.reserve(req, decoded.length);
    const text = decodeUtf8(decoded);
    if (text.trim() === '') throw new HecError(400, 'No data', 5);
    const items = splitConcatenated(text).map(hecItem);
    await ingest(deps, items, {}, decoded.length);
    return reply.code(200).send({ text: 'Success', code: 0 });
  };
  for (const url of ['/services/collector', '/services/collector/event', '/services/collector/event/1.0']) {
    app.post(url, { config: { auth: 'splunk' } }, handle);
  }
  app.get('/services/collector/health', { config: { auth: 'none' } }, async () => ({
    text: 'HEC is healthy',
    code: 17,
  }));
}
