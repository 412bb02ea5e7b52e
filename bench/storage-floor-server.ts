// The storage floor for single-event intake: what any server must do to keep an event durably in the schema
// that search needs, and nothing more. node:http, read the body, JSON.parse, normalize() each item into a
// row, then the same group commit as Flowwatch (LogWriter → SqliteStore with its writer thread: the logs
// table, its indexes, the full-text index and the rollups), and 202 {} once the commit is durable. No
// Fastify, no keys, no pipelines, no monitors, no metrics endpoint.
// Run as a child: `node --import tsx bench/storage-floor-server.ts PORT DATA_DIR`; GET answers 200.
import http from 'node:http';
import type { LogEvent } from '../src/domain/log-event.ts';
import { normalize } from '../src/intake/normalize.ts';
import { LogWriter } from '../src/intake/writer.ts';
import { createMetrics } from '../src/metrics/metrics.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const port = Number(process.argv[2]);
const dataDir = process.argv[3] as string;

// Durability as Flowwatch's default (fsync_on_commit off), or as the environment sets it for both.
const store = new SqliteStore({
  dataDir,
  writer: 'worker',
  fsyncOnCommit: ['true', '1'].includes(process.env.FLOWWATCH_FSYNC_ON_COMMIT ?? ''),
});
const writer = new LogWriter(store, createMetrics(), 100_000);

function answer(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET') return answer(res, 200, '{}');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(res, 400, '{"errors":["Malformed payload"]}');
    }
    const ctx = { now: Date.now(), outOfWindow: 'keep' as const, checkSize: false };
    const events: LogEvent[] = [];
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const { event } = normalize(item, {}, ctx);
      if (event) events.push(event);
    }
    writer.submit(events).then(
      () => answer(res, 202, '{}'),
      (err: Error) => answer(res, 503, JSON.stringify({ errors: [err.message] })),
    );
  });
});

server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    void writer
      .drain()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
});
