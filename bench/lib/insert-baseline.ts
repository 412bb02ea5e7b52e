// The storage baseline for batch intake: the same rows (normalize() of the same ELS items) inserted into the
// same schema with the same statement (SqliteStore.appendLogs, which migrate()s a fresh db), 1000 per
// transaction, in this process. Only appendLogs is timed; generating and normalising the rows is not.
import { performance } from 'node:perf_hooks';
import type { LogEvent } from '../../src/domain/log-event.ts';
import { LIMITS } from '../../src/intake/limits.ts';
import { normalize } from '../../src/intake/normalize.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from './children.ts';
import type { ElsGenerator } from './els-bodies.ts';

/** What one baseline round measured. */
export interface InsertRound {
  events: number;
  insertSeconds: number;
  eventsPerSec: number;
  /** CPU used inside appendLogs per row, in microseconds */
  cpuUsPerEvent: number;
}

/** Plain better-sqlite3 inserts of normalised ELS events into a fresh Flowwatch schema. */
export class InsertBaseline {
  private readonly store: SqliteStore;

  constructor(private readonly gen: ElsGenerator) {
    this.store = new SqliteStore({ dataDir: tempDir('flowwatch-bench-sqlite-') });
  }

  private batch(n: number): LogEvent[] {
    const items = Array.from({ length: n }, () => this.gen.item());
    const bodyBytes = Buffer.byteLength(JSON.stringify(items));
    const ctx = { now: Date.now(), outOfWindow: 'keep' as const, checkSize: bodyBytes > LIMITS.maxLogBytes };
    return items.map((item) => normalize(item, {}, ctx).event!);
  }

  /** Inserts batches of `batchSize` for about `seconds` of wall time; rate = rows / time inside appendLogs. */
  async round(seconds: number, batchSize: number): Promise<InsertRound> {
    const end = Date.now() + seconds * 1000;
    let events = 0;
    let insertSeconds = 0;
    let cpuMicros = 0;
    while (Date.now() < end) {
      const rows = this.batch(batchSize);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const inserted = await this.store.appendLogs(rows);
      const c = process.cpuUsage(c0);
      insertSeconds += (performance.now() - t0) / 1000;
      cpuMicros += c.user + c.system;
      events += inserted.filter(Boolean).length;
    }
    return { events, insertSeconds, eventsPerSec: events / insertSeconds, cpuUsPerEvent: cpuMicros / events };
  }

  /** Closes the database. */
  close(): Promise<void> {
    return this.store.close();
  }
}
