// Broken HTTP on a raw socket: truncated bodies, garbage request lines, lying Content-Length.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { API_KEY, startTestServer } from './helpers/server.ts';

let srv: Running;
let port: number;
beforeAll(async () => {
  srv = await startTestServer();
  port = Number(new URL(srv.url).port);
});
afterAll(async () => {
  await srv.close();
});

/** Writes raw bytes, optionally closes the write side, and collects whatever the server answers. */
function raw(data: string, opts: { end?: boolean; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => {
      out += d;
    });
    sock.on('error', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.write(data);
    if (opts.end) sock.end();
    setTimeout(() => sock.destroy(), opts.waitMs ?? 500);
  });
}

const head = (len: number) =>
  `POST /api/v2/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nDD-API-KEY: ${API_KEY}\r\nContent-Length: ${len}\r\n\r\n`;

describe('broken HTTP', () => {
  it('a body cut off by the client stores nothing and the server keeps serving', async () => {
    const before = await srv.store.countLogs();
    const body = '{"message":"cut off in the middle of the';
    await raw(head(body.length + 500) + body, { end: true });
    expect(await srv.store.countLogs()).toBe(before);
    const ok = await fetch(`${srv.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
      body: '{"message":"after the cut"}',
    });
    expect(ok.status).toBe(202);
    expect(await srv.store.countLogs()).toBe(before + 1);
  });

  it('answers 400 to a garbage request line', async () => {
    const answer = await raw('\x00\x01GARBAGE / NOTHTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('answers 400 to a request with both Content-Length and chunked encoding (request smuggling)', async () => {
    const answer = await raw(
      `POST /api/v2/logs HTTP/1.1\r\nHost: x\r\nDD-API-KEY: ${API_KEY}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('accepts a chunked body without Content-Length', async () => {
    const body = '{"message":"chunked body"}';
    const answer = await raw(
      `POST /api/v2/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nDD-API-KEY: ${API_KEY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 202/);
  });

  it('refuses a key-less request before reading a large body', async () => {
    const answer = await raw(
      'POST /api/v2/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n{"message":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
  });
});
