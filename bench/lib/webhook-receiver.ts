// A webhook receiver inside a benchmark process: an HTTP server on 127.0.0.1 (a free port) that answers
// every request 200 and keeps when it arrived, its Idempotency-Key and its body, for latency measurements
// (bench:alert's 202 → webhook stage). Nothing leaves the machine.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it arrived. */
export interface Arrival {
  /** Date.now() when the request's headers arrived (the server's 'request' event) */
  at: number;
  method: string;
  path: string;
  /** the Idempotency-Key header Flowwatch sends (`<event id>:<handle>`) */
  idempotencyKey: string | undefined;
  body: string;
}

/** A running receiver; `url` is its base (`http://127.0.0.1:PORT`). */
export interface WebhookReceiver {
  url: string;
  arrivals: Arrival[];
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 and a port the system picks. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const arrivals: Arrival[] = [];
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      arrivals.push({
        at,
        method: req.method ?? '',
        path: req.url ?? '',
        idempotencyKey: Array.isArray(key) ? key[0] : key,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
