// Many queries tested against the same logs (the monitors of the evaluator): the conjuncts they share
// (`service:okta`, `status:error`, … at the top level of each query) are evaluated once per log instead of
// once per query. A shared matcher answers exactly as compileMatcher(query) does; it only remembers, for
// the log it saw last, the result of each distinct conjunct.
import type { LogEvent } from '../domain/log-event.ts';
import type { Query } from './ast.ts';
import { compileMatcher, type Matcher } from './match.ts';

/** The top-level conjuncts of a query (nested ANDs flattened). */
export function conjuncts(q: Query): Query[] {
  return q.kind === 'and' ? q.children.flatMap(conjuncts) : [q];
}

/** A family of matchers sharing the evaluation of their common conjuncts. */
export class SharedMatchers {
  private readonly ids = new Map<string, number>();
  private readonly matchers: Matcher[] = [];
  /** per conjunct: the epoch its result belongs to, and the result */
  private stamp = new Uint32Array(16);
  private result = new Uint8Array(16);
  private epoch = 1;
  private last: LogEvent | undefined;

  /** Number of distinct conjuncts compiled so far. */
  get size(): number {
    return this.matchers.length;
  }

  /** A matcher for `q` whose conjuncts are shared with the other matchers of this family. */
  compile(q: Query): Matcher {
    const ids = conjuncts(q).map((c) => this.idOf(c));
    return (e) => {
      if (e !== this.last) {
        this.last = e;
        if (++this.epoch === 0xffffffff) {
          this.stamp.fill(0);
          this.epoch = 1;
        }
      }
      for (const id of ids) if (!this.test(id, e)) return false;
      return true;
    };
  }

  private test(id: number, e: LogEvent): boolean {
    if (this.stamp[id] === this.epoch) return this.result[id] === 1;
    const r = (this.matchers[id] as Matcher)(e);
    this.stamp[id] = this.epoch;
    this.result[id] = r ? 1 : 0;
    return r;
  }

  private idOf(q: Query): number {
    const key = JSON.stringify(q);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.matchers.length;
      this.matchers.push(compileMatcher(q));
      this.ids.set(key, id);
      if (id >= this.stamp.length) {
        const stamp = new Uint32Array(this.stamp.length * 2);
        stamp.set(this.stamp);
        const result = new Uint8Array(this.result.length * 2);
        result.set(this.result);
        this.stamp = stamp;
        this.result = result;
      }
    }
    return id;
  }
}
