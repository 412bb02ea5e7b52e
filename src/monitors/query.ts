// The log alert query of Datadog monitors (datadog-compat.md §4.2):
//   logs("<search>").index("<index>").rollup("<method>"[, "<measure>"]).by("<facet>[,<facet>…]").last("<window>") <op> <number>
// `index`, `rollup` (default count) and `by` are optional and may come in any order; `last` ends the chain.
import { AGGREGATIONS } from '../search/aggregate.ts';
import type { Query } from '../search/ast.ts';
import { parseQuery, QuerySyntaxError } from '../search/parse.ts';

/** Rollups: the aggregations of analytics (count, cardinality, sum, min, max, avg, median, pc75…pc99). */
export const ROLLUPS = AGGREGATIONS;
export type Rollup = (typeof ROLLUPS)[number];
export type Comparator = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** A parsed monitor query. */
export interface MonitorQuery {
  /** the search query text and its AST */
  search: string;
  filter: Query;
  index: string;
  rollup: Rollup;
  /** the measure or facet of rollups other than count (`@duration`) */
  measure: string | null;
  /** group-by facets as written (`@flow_name`, `env`, `source`), at most 4 */
  groupBy: string[];
  /** window in ms */
  windowMs: number;
  window: string;
  comparator: Comparator;
  threshold: number;
}

/** A query that does not parse; `column` is 1-based. */
export class MonitorQueryError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column}`);
  }
}

const MAX_WINDOW_MS = 2 * 86_400_000;

/** Parses a log alert query. */
export function parseMonitorQuery(text: string): MonitorQuery {
  return new Reader(text).read();
}

class Reader {
  private pos = 0;
  constructor(private readonly src: string) {}

  read(): MonitorQuery {
    this.space();
    this.expectWord('logs', 'the query must start with logs("…")');
    const searchAt = this.pos + 2;
    const [search] = this.args(1, 1);
    let filter: Query;
    try {
      filter = parseQuery(search as string);
    } catch (err) {
      if (err instanceof QuerySyntaxError)
        throw new MonitorQueryError(
          `in the search query: ${err.message.replace(/ at column \d+/, '')}`,
          searchAt + err.column,
        );
      throw err;
    }
    const q: Partial<MonitorQuery> = {
      search,
      filter,
      index: '*',
      rollup: 'count',
      measure: null,
      groupBy: [],
    };
    const seen = new Set<string>();
    for (;;) {
      this.space();
      if (this.src[this.pos] !== '.') throw this.error('expected .last("…") before the comparison');
      this.pos++;
      this.space();
      const at = this.pos;
      const name = /^[a-z_]+/.exec(this.src.slice(this.pos))?.[0] ?? '';
      this.pos += name.length;
      if (seen.has(name)) throw new MonitorQueryError(`.${name}() appears twice`, at + 1);
      seen.add(name);
      if (name === 'index') q.index = this.args(1, 1)[0];
      else if (name === 'rollup') {
        const argsAt = this.pos + 2;
        const [method, measure] = this.args(1, 2);
        if (!(ROLLUPS as readonly string[]).includes(method as string))
          throw new MonitorQueryError(
            `unknown rollup "${method}"; expected one of ${ROLLUPS.join(', ')}`,
            argsAt,
          );
        q.rollup = method as Rollup;
        if (q.rollup !== 'count' && !measure)
          throw new MonitorQueryError(
            `rollup "${method}" needs a measure, e.g. rollup("${method}", "@duration")`,
            argsAt,
          );
        if (measure !== undefined && !/^@?[\w.-]+$/.test(measure))
          throw new MonitorQueryError(`"${measure}" is not a facet or measure`, argsAt);
        q.measure = measure ?? null;
      } else if (name === 'by') {
        const argsAt = this.pos + 2;
        const facets = (this.args(1, 1)[0] as string)
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        if (facets.length > 4) throw new MonitorQueryError('at most 4 group-by facets', argsAt);
        for (const f of facets)
          if (!/^@?[\w.-]+$/.test(f)) throw new MonitorQueryError(`"${f}" is not a facet`, argsAt);
        q.groupBy = facets;
      } else if (name === 'last') {
        const argsAt = this.pos + 2;
        const [w] = this.args(1, 1);
        const m = /^(\d+)([mhd])$/.exec(w as string);
        const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : 0;
        if (!m || ms <= 0 || ms > MAX_WINDOW_MS)
          throw new MonitorQueryError(
            `last("${w}"): expected a window from 1m to 2d, like "5m" or "1h"`,
            argsAt,
          );
        q.windowMs = ms;
        q.window = w as string;
        break;
      } else throw new MonitorQueryError(`unknown ".${name}()"; expected index, rollup, by or last`, at + 1);
    }
    this.space();
    const op = /^(>=|<=|==|!=|>|<)/.exec(this.src.slice(this.pos))?.[0];
    if (!op) throw this.error('expected a comparison (> >= < <= == !=) and a threshold after .last()');
    this.pos += op.length;
    this.space();
    const num = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(this.src.slice(this.pos))?.[0];
    if (!num) throw this.error(`expected a number after "${op}"`);
    this.pos += num.length;
    this.space();
    if (this.pos < this.src.length) throw this.error('unexpected text after the threshold');
    return { ...(q as MonitorQuery), comparator: op as Comparator, threshold: Number(num) };
  }

  /** Reads `("a", "b")` with between min and max string arguments. */
  private args(min: number, max: number): string[] {
    this.space();
    if (this.src[this.pos] !== '(') throw this.error('expected "("');
    this.pos++;
    const out: string[] = [];
    for (;;) {
      this.space();
      if (this.src[this.pos] === ')' && out.length >= min) break;
      if (out.length > 0) {
        if (this.src[this.pos] !== ',')
          throw this.error(out.length >= max ? 'expected ")"' : 'expected "," or ")"');
        this.pos++;
        this.space();
      }
      if (out.length >= max) throw this.error('expected ")"');
      out.push(this.string());
    }
    this.pos++;
    return out;
  }

  /**
   * A double-quoted string: `\"` is a quote and `\\` a backslash; any other backslash stays for the search
   * parser (`\:` escapes a colon there).
   */
  private string(): string {
    if (this.src[this.pos] !== '"') throw this.error('expected a double-quoted string');
    const start = this.pos;
    let out = '';
    let i = this.pos + 1;
    while (i < this.src.length && this.src[i] !== '"') {
      const c = this.src[i] as string;
      const next = this.src[i + 1];
      if (c === '\\' && (next === '"' || next === '\\')) {
        out += next;
        i += 2;
      } else {
        out += c;
        i++;
      }
    }
    if (i >= this.src.length) throw new MonitorQueryError('unterminated string', start + 1);
    this.pos = i + 1;
    return out;
  }

  private expectWord(word: string, message: string): void {
    if (!this.src.startsWith(word, this.pos)) throw this.error(message);
    this.pos += word.length;
  }

  private space(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos++;
  }

  private error(message: string): MonitorQueryError {
    return new MonitorQueryError(message, this.pos + 1);
  }
}
