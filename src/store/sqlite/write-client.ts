// The main thread's side of the writer worker: sends write requests and resolves them with the answers.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WriteOptions, WriteRequest, WriteResponse } from './write-core.ts';

/** Error from the write connection, keeping SQLite's code (SQLITE_FULL…) for the store to type. */
export class WriteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Running from source (tsx, vitest) the worker is a .ts file and registers the tsx loader first (Node 20
// ignores --import in a worker's execArgv); from dist it is plain .js.
const fromSource = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(fromSource ? './write-worker.ts' : './write-worker.js', import.meta.url);

// The writer holds one batch at a time and the checkpointer almost nothing: small heaps keep the
// process's resident memory low (each thread is a V8 isolate of its own).
const HEAP_LIMITS = {
  writer: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 },
  checkpointer: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
};

function startWorker(opts: WriteOptions & { role: 'writer' | 'checkpointer' }): Worker {
  const resourceLimits = HEAP_LIMITS[opts.role];
  if (!fromSource) return new Worker(WORKER_URL, { workerData: opts, resourceLimits });
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
    /\.cjs$/,
    '.mjs',
  );
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: opts, resourceLimits });
}

/** A request without its id (distributes over the union). */
export type WriteCall = WriteRequest extends infer R
  ? R extends WriteRequest
    ? Omit<R, 'id'>
    : never
  : never;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** A writer worker thread; requests are answered in order. A crashed worker fails what was pending. */
export class WriteClient {
  private readonly worker: Worker;
  private readonly checkpointer: Worker;
  private readonly checkpointerExited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor(opts: WriteOptions) {
    this.worker = startWorker({ ...opts, separateCheckpoints: true, role: 'writer' });
    this.checkpointer = startWorker({ ...opts, role: 'checkpointer' });
    this.checkpointer.on('error', () => {
      // Without it the writer's WAL grows until close, which still checkpoints: nothing is lost.
    });
    this.checkpointerExited = new Promise((resolve) => this.checkpointer.once('exit', () => resolve()));
    this.worker.on('message', (res: WriteResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (res.ok) p.resolve(res.result);
      else p.reject(new WriteError(res.code, res.message));
    });
    const fail = (err: Error) => {
      this.dead = new WriteError('SQLITE_IOERR_WORKER', `the writer thread stopped: ${err.message}`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
      this.checkpointer.postMessage('stop');
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (!this.dead) fail(new Error(`exit code ${code}`));
    });
  }

  /** False once the thread has stopped (crashed or closed); the store then starts a new one. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Sends one request. */
  request<T>(req: WriteCall): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id } as WriteRequest);
    });
  }

  /** Closes the connection (checkpointing the WAL) and ends the thread. */
  async close(): Promise<void> {
    if (this.dead) return;
    this.checkpointer.postMessage('stop');
    await this.checkpointerExited;
    await this.request({ op: 'close' });
    this.dead = new WriteError('CLOSED', 'the writer is closed');
    await this.worker.terminate();
  }
}
