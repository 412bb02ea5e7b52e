// Bytes of request bodies being processed at once: bounds memory at any load. A request reserves its
// declared size before its body is read and its decompressed size once decoded; over budget it gets 503.
import { HttpError } from '../api/errors.ts';

/** The in-flight byte budget of the intake. */
export class IntakeBudget {
  private inflight = 0;
  private readonly held = new WeakMap<object, number>();

  constructor(private readonly maxBytes: number) {}

  /** Bytes currently reserved. */
  get used(): number {
    return this.inflight;
  }

  /** Reserves `bytes` for a request; throws 503 when they do not fit (a lone request always fits). */
  reserve(req: object, bytes: number): void {
    if (this.inflight > 0 && this.inflight + bytes > this.maxBytes) {
      throw new HttpError(503, 'Service Unavailable: intake is at capacity, retry later', 1);
    }
    this.inflight += bytes;
    this.held.set(req, (this.held.get(req) ?? 0) + bytes);
  }

  /** Releases everything a request reserved (on response). */
  release(req: object): void {
    const n = this.held.get(req);
    if (n) this.inflight -= n;
    this.held.delete(req);
  }
}
