// url-parser: parses the URL in the first source holding a string (default `http.url`) into `target`
// (default `http.url_details`), as Datadog documents it:
//   { host: "api.example.com", path: "/v1/orders", port: 443, queryString: { user_id: "12345" }, scheme: "https" }
// Flowwatch's choices where Datadog's docs say nothing (WHATWG URL does the parsing):
// - `port` is a number: the explicit port, else the scheme's default (http/ws 80, https/wss 443, ftp 21),
//   else absent. `scheme` is lowercased and has no ':'. `host` is lowercased (IDN hosts in punycode, IPv6 in
//   brackets). `path` is WHATWG's: dot segments resolved, unsafe characters percent-encoded.
// - `queryString` holds the decoded parameters; a repeated parameter becomes an array of its values in
//   order, a parameter without `=` has the value "". It is absent when the URL has no parameters.
// - A relative URL ("/v1/orders?x=1", as nginx logs it) gives `path` and `queryString` only; "//host/p"
//   gives `host`, `path`, and `port` when explicit. Anything else that does not parse skips the processor.
// - User name, password and fragment are not extracted (credentials must not spread into attributes).
// - `normalize_ending_slashes: true` removes trailing slashes from the path ("/a/b/" → "/a/b"; "/" stays).
// The target is replaced by the new details object.
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { setOwn } from '../../intake/limits.ts';
import { getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
const PLACEHOLDER_BASE = 'http://flowwatch.invalid';

export const urlParser = defineProcessor({
  type: 'url-parser',
  schema: z.object({
    type: z.literal('url-parser'),
    ...processorBase,
    sources: sources(['http.url']),
    target: z.string().min(1).max(512).default('http.url_details'),
    normalize_ending_slashes: z.boolean().nullable().default(false),
  }),
  compile(def) {
    const normalize = def.normalize_ending_slashes === true;
    return (log) => {
      for (const s of def.sources) {
        const v = getPath(log.event, s);
        if (typeof v !== 'string' || v.trim() === '') continue;
        const details = parseUrl(v.trim(), normalize);
        if (details) setAttribute(log.event.attributes, def.target, details);
        return;
      }
    };
  },
});

/** The details of a URL, or undefined when it is not one. */
export function parseUrl(text: string, normalizeEndingSlashes = false): Record<string, Json> | undefined {
  let url: URL;
  let kind: 'absolute' | 'no-scheme' | 'relative';
  try {
    if (ABSOLUTE.test(text)) {
      url = new URL(text);
      kind = 'absolute';
    } else if (text.startsWith('//')) {
      url = new URL(`http:${text}`);
      kind = 'no-scheme';
    } else if (text.startsWith('/')) {
      url = new URL(text, PLACEHOLDER_BASE);
      kind = 'relative';
    } else return undefined;
  } catch {
    return undefined;
  }
  const out: Record<string, Json> = {};
  const scheme = url.protocol.replace(/:$/, '');
  if (kind !== 'relative') {
    if (url.hostname !== '') out.host = url.hostname;
    const port = url.port !== '' ? Number(url.port) : kind === 'absolute' ? DEFAULT_PORTS[scheme] : undefined;
    if (port !== undefined) out.port = port;
  }
  let path = url.pathname;
  if (normalizeEndingSlashes && path.length > 1) path = path.replace(/\/+$/, '') || '/';
  out.path = path;
  const query = queryString(url.searchParams);
  if (query) out.queryString = query;
  if (kind === 'absolute') out.scheme = scheme;
  return out;
}

function queryString(params: URLSearchParams): Record<string, Json> | undefined {
  const out: Record<string, Json> = {};
  let any = false;
  for (const [key, value] of params) {
    any = true;
    if (!Object.hasOwn(out, key)) setOwn(out, key, value);
    else {
      const prev = out[key] as Json;
      if (Array.isArray(prev)) prev.push(value);
      else setOwn(out, key, [prev, value]);
    }
  }
  return any ? out : undefined;
}
