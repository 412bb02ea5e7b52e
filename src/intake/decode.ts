// Request body decoding for intake: content encodings with a hard cap on decompressed size (no gzip bomb
// ever allocates past the limit), strict UTF-8, and the JSON / text body shapes Datadog accepts.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HttpError } from '../api/errors.ts';
import { LIMITS } from './limits.ts';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const nativeZstd = (zlib as unknown as { zstdDecompress?: typeof zlib.gunzip }).zstdDecompress;
const zstdDecompress = nativeZstd ? promisify(nativeZstd) : undefined;
/** ZSTD_d_windowLogMax (zlib.constants on Node 22.15+; the value is fixed by the zstd library). */
const ZSTD_WINDOWLOG_MAX = (zlib.constants as Record<string, number>).ZSTD_d_windowLogMax ?? 100;

function tooLarge(): HttpError {
  return new HttpError(
    413,
    `Payload too large: the uncompressed body exceeds ${LIMITS.maxPayloadBytes} bytes`,
  );
}

function isSizeError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    code === 'ERR_BUFFER_TOO_LARGE' ||
    (err instanceof RangeError && /larger than|too large/i.test(err.message))
  );
}

/** Decompresses a body according to Content-Encoding, never producing more than `max` bytes. */
export async function decodeBody(
  body: Buffer,
  encoding: string | undefined,
  max = LIMITS.maxPayloadBytes,
): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  try {
    switch (enc) {
      case '':
      case 'identity':
        if (body.length > max) throw tooLarge();
        return body;
      case 'gzip':
      case 'x-gzip':
        return await gunzip(body, { maxOutputLength: max });
      case 'deflate':
        // RFC 9110 deflate is zlib-wrapped; some clients send raw deflate, so accept both.
        try {
          return await inflate(body, { maxOutputLength: max });
        } catch (err) {
          if (isSizeError(err)) throw err;
          return await inflateRaw(body, { maxOutputLength: max });
        }
      case 'zstd':
        // Only zlib's native zstd (Node 22.15+), with the window capped at 8 MB: the pure-JS decoders
        // allocate whatever window a frame declares and copy it per block (a 22-byte body stalled Node 20).
        if (!zstdDecompress) {
          throw new HttpError(
            415,
            'zstd needs Node.js 22.15 or later on this server: send gzip or deflate instead',
          );
        }
        return await zstdDecompress(body, {
          maxOutputLength: max,
          params: { [ZSTD_WINDOWLOG_MAX]: 23 },
        } as zlib.ZlibOptions);
      default:
        throw new HttpError(
          415,
          `Unsupported Content-Encoding "${enc}": use identity, gzip, deflate or zstd`,
        );
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (isSizeError(err)) throw tooLarge();
    throw new HttpError(400, `Malformed ${enc} body: ${(err as Error).message}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid bytes are a 400, not silently replaced. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new HttpError(400, 'Malformed payload: the body is not valid UTF-8');
  }
}

/** Position (line:column) of a JSON.parse error, when V8 reports one. */
function jsonErrorDetail(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${col}`;
}

/** Kinds of body the Datadog intake accepts. */
export type BodyKind = 'json' | 'text';

/** Chooses the body kind from Content-Type; anything unknown is a 415 naming what is accepted. */
export function bodyKind(contentType: string | undefined): BodyKind {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // curl -d sends application/x-www-form-urlencoded by default: read it as JSON, as users mean.
  if (ct === '' || ct === 'application/json' || ct.endsWith('+json') || ct === 'text/json') return 'json';
  if (ct === 'application/x-www-form-urlencoded') return 'json';
  if (ct === 'text/plain' || ct === 'application/logplex-1') return 'text';
  throw new HttpError(415, `Unsupported Content-Type "${ct}": use application/json or text/plain`);
}

/** Parses a decoded body into the list of received items (objects or raw lines). */
export function parseItems(text: string, kind: BodyKind): unknown[] {
  if (kind === 'text') {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length > LIMITS.maxEntries) {
      throw new HttpError(
        413,
        `Payload too large: ${lines.length} lines, at most ${LIMITS.maxEntries} logs per request`,
      );
    }
    return lines.map((line) => ({ message: line }));
  }
  if (text.trim() === '') throw new HttpError(400, 'Malformed payload: the body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `Malformed payload: invalid JSON: ${jsonErrorDetail(text, err as Error)}`);
  }
  if (Array.isArray(value)) {
    if (value.length > LIMITS.maxEntries) {
      throw new HttpError(
        413,
        `Payload too large: ${value.length} entries, at most ${LIMITS.maxEntries} per request`,
      );
    }
    return value;
  }
  if (value === null || typeof value !== 'object') {
    throw new HttpError(400, 'Malformed payload: expected a JSON object or an array of objects');
  }
  return [value];
}
