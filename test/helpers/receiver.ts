// A local HTTP receiver (127.0.0.1) standing in for webhook endpoints: it records every request and answers
// what the test scripts (a status, headers, or holding the request open).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** One request as received. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** the status it was answered (undefined while held) */
  status?: number;
}

/** How to answer a request: a status with headers, or 'hold' (never answer until the receiver closes). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hold';

/** A running receiver. */
export interface Receiver {
  url: string;
  requests: Received[];
  /** answers for the next requests, in order; after them, `otherwise` */
  script: Answer[];
  otherwise: Answer;
  /** resolves when `n` requests have arrived (generous timeout) */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 and a free port. */
export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const r: Receiver = {
    url: '',
    requests,
    script: [],
    otherwise: { status: 200, body: 'ok' },
    waitFor: async (n, ms = 15_000) => {
      if (requests.length < n)
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new Error(`receiver: ${requests.length} requests, waited for ${n}`)),
            ms,
          );
          waiters.push({
            n,
            resolve: () => {
              clearTimeout(t);
              resolve();
            },
          });
        });
      return requests.slice(0, n);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      const answer = r.script.shift() ?? r.otherwise;
      if (answer !== 'hold') {
        rec.status = answer.status;
        res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      }
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve();
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return r;
}
