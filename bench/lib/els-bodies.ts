// ELS traffic as Okta sends it to a Datadog destination: the console's body template with the event as an
// escaped JSON string in `message`; every event gets a unique idempotency_key and execution_id.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/els');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

const TEMPLATE = fixture('okta_datadog_body.json');
const COMPLETE = fixture('flow_complete.json');
const FAIL = fixture('flow_fail.json');

/** Source of unique ELS events: one in five fails, the rest complete; timestamps are "now". */
export class ElsGenerator {
  private n = 0;
  private readonly run = randomBytes(4).toString('hex');

  /** Number of events generated so far. */
  get count(): number {
    return this.n;
  }

  /** The next event (an ELS JSON object) with fresh ids. */
  event(): Record<string, unknown> {
    const i = this.n++;
    const hex = i.toString(16).padStart(16, '0');
    const executionId = `${this.run}-${hex.slice(0, 4)}-4${hex.slice(4, 7)}-8${hex.slice(7, 10)}-${hex.slice(4)}`;
    return {
      ...(i % 5 === 0 ? FAIL : COMPLETE),
      execution_id: executionId,
      root_execution_id: executionId,
      idempotency_key: `${this.run}${hex}${'0'.repeat(8)}`,
      timestamp: new Date().toISOString(),
    };
  }

  /** The next intake item: the Okta Datadog body template with the event escaped into `message`. */
  item(): Record<string, unknown> {
    return { ...TEMPLATE, message: JSON.stringify(this.event()) };
  }

  /** A single-event request body. */
  body(): string {
    return JSON.stringify(this.item());
  }

  /** A JSON array of `n` items, gzip-compressed. */
  gzipArray(n: number): Buffer {
    const items = Array.from({ length: n }, () => this.item());
    return gzipSync(JSON.stringify(items));
  }
}
