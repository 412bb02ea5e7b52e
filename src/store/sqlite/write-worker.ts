// Entry of the SQLite writer worker thread: owns the write connection and answers one message at a time.
import { parentPort, workerData } from 'node:worker_threads';
import {
  openWriteConnection,
  startCheckpointer,
  type WriteOptions,
  type WriteRequest,
  type WriteResponse,
} from './write-core.ts';

const port = parentPort;
if (!port) throw new Error('write-worker.ts must run as a worker thread');
const data = workerData as WriteOptions & { role?: 'writer' | 'checkpointer' };
if (data.role === 'checkpointer') {
  const stop = startCheckpointer(data.file);
  port.on('message', () => {
    stop();
    port.postMessage('stopped');
    port.close();
  });
} else {
  serve(port, openWriteConnection(data));
}

function serve(port: NonNullable<typeof parentPort>, conn: ReturnType<typeof openWriteConnection>): void {
  port.on('message', (msg: WriteRequest) => {
    let res: WriteResponse;
    try {
      if (msg.op === 'append') res = { id: msg.id, ok: true, result: conn.append(msg.rows) };
      else if (msg.op === 'delete')
        res = { id: msg.id, ok: true, result: conn.deleteBefore(msg.before, msg.limit) };
      else {
        conn.close();
        res = { id: msg.id, ok: true, result: null };
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      res = { id: msg.id, ok: false, code: e.code ?? 'ERROR', message: e.message ?? String(err) };
    }
    port.postMessage(res);
  });
}
