// The SQL back end: compiles a query AST to a parameterised WHERE clause. Nothing from a query is ever
// written into the SQL text; values travel as parameters. The dialect holds what differs between databases
// (SQLite now, PostgreSQL later); the compiler itself is shared.
import type { Bound, Field, Query, Value } from './ast.ts';
import { asciiLower, cidrSpec, sqlGlob, wordPatternSource, wordPrefix, words } from './values.ts';

/** A WHERE clause with its parameters. */
export interface SqlFilter {
  sql: string;
  /** named parameters (`@q0`, `@q1`, ...) */
  params: Record<string, unknown>;
}

/** What the compiler needs to know about the data. */
export interface SqlContext {
  /** true when an attribute path needs the array-aware evaluation (see values.complexPaths) */
  isComplexPath(path: string): boolean;
  /** the index expression of an attribute, when one exists (so the planner can use the index) */
  indexedExpr(path: string): string | undefined;
}

/** What differs between SQL databases. Expressions receive parameter placeholders already pushed. */
export interface SqlDialect {
  /** a full-text match (FTS5 query syntax) restricted to the message or over every column */
  fullText(ftsQuery: string, p: Params): string;
  /** the word-pattern test (values.wordsMatch) of an expression */
  wordsMatch(source: string, expr: string, p: Params): string;
  /** the JSON value and type at a plain attribute path */
  jsonValue(path: string, p: Params): string;
  jsonType(path: string, p: Params): string;
  /** EXISTS over the nodes at an attribute path through arrays; `cond` sees `j.type` and `j.atom` */
  jsonNodesAt(path: string, cond: (type: string, atom: string) => string, p: Params): string;
  /** EXISTS over every leaf of the attributes (full-text patterns) */
  jsonAnyLeaf(cond: (type: string, atom: string) => string): string;
  /** EXISTS over the tags with a condition on `value` */
  anyTag(cond: (value: string) => string): string;
  /** an IP test (values.inCidr) */
  cidr(spec: string, expr: string, p: Params): string;
  glob(expr: string, pattern: string, p: Params): string;
  /** ASCII case-insensitive equality (and lower-case for patterns) */
  equalsNoCase(expr: string, text: string, p: Params): string;
  lower(expr: string): string;
}

/** Collects named parameters; a placeholder may appear several times in the SQL. */
export class Params {
  readonly values: Record<string, unknown> = {};
  private n = 0;
  add(v: unknown): string {
    const name = `q${this.n++}`;
    this.values[name] = v;
    return `@${name}`;
  }
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const TEXT_LEAVES = "('text','integer','real','true','false')";

/** Compiles a query into a WHERE clause that is 1 or 0 for every row (never NULL under NOT). */
export function compileSql(q: Query, dialect: SqlDialect, ctx: SqlContext): SqlFilter {
  const p = new Params();
  const sql = new Compiler(dialect, ctx, p).node(q);
  return { sql, params: p.values };
}

class Compiler {
  constructor(
    private readonly d: SqlDialect,
    private readonly ctx: SqlContext,
    private readonly p: Params,
  ) {}

  node(q: Query): string {
    switch (q.kind) {
      case 'all':
        return '1';
      case 'none':
        return '0';
      case 'and':
        return `(${q.children.map((c) => this.node(c)).join(' AND ')})`;
      case 'or':
        return `(${q.children.map((c) => this.node(c)).join(' OR ')})`;
      case 'not':
        // NULL (a missing value) counts as false, so a NOT must see 0, not NULL.
        return `NOT coalesce(${this.node(q.child)}, 0)`;
      case 'exists':
        return this.exists(q.field);
      case 'cidr': {
        const spec = cidrSpec(q.blocks);
        if (q.field.kind === 'attr') return this.attr(q.field.path, (_t, x) => this.d.cidr(spec, x, this.p));
        if (q.field.kind === 'reserved') return this.d.cidr(spec, q.field.name, this.p);
        return '0';
      }
      case 'term':
        return this.term(q.field, q.value);
    }
  }

  private exists(field: Field): string {
    switch (field.kind) {
      case 'message':
      case 'fulltext':
        return '1';
      case 'attr':
        if (this.ctx.isComplexPath(field.path)) return this.d.jsonNodesAt(field.path, () => '1', this.p);
        return `${this.d.jsonType(field.path, this.p)} IS NOT NULL`;
      case 'reserved':
        return field.name === 'status' ? '1' : `${field.name} IS NOT NULL`;
      case 'tag':
        if (field.key === null) return this.d.anyTag(() => '1');
        return this.d.anyTag((v) => this.d.glob(v, `${sqlGlob([`${field.key}:`])}*`, this.p));
    }
  }

  /** A condition on the leaves at an attribute path; `cond` gets the type and value expressions. */
  private attr(path: string, cond: (type: string, value: string) => string): string {
    if (this.ctx.isComplexPath(path)) return this.d.jsonNodesAt(path, cond, this.p);
    const value = this.ctx.indexedExpr(path) ?? this.d.jsonValue(path, this.p);
    return cond(this.d.jsonType(path, this.p), value);
  }

  private term(field: Field, value: Value): string {
    switch (field.kind) {
      case 'message':
      case 'fulltext':
        return this.text(field.kind === 'fulltext', value);
      case 'attr':
        return this.attrTerm(field.path, value);
      case 'reserved': {
        const col = field.name;
        if (col === 'status' || col === 'trace_id') {
          if (value.kind === 'exact') return `${col} = ${this.p.add(value.text)}`;
          if (value.kind === 'pattern') return this.d.glob(col, sqlGlob(value.parts), this.p);
          return '0';
        }
        if (value.kind === 'exact') return this.d.equalsNoCase(col, value.text, this.p);
        if (value.kind === 'pattern') {
          const parts = value.parts.map((x) => (typeof x === 'string' ? asciiLower(x) : x));
          return this.d.glob(this.d.lower(col), sqlGlob(parts), this.p);
        }
        return '0';
      }
      case 'tag': {
        const prefix = field.key === null ? '' : `${field.key}:`;
        if (value.kind === 'exact') return this.d.anyTag((v) => `${v} = ${this.p.add(prefix + value.text)}`);
        if (value.kind === 'pattern') {
          const parts = prefix ? [prefix, ...value.parts] : value.parts;
          return this.d.anyTag((v) => this.d.glob(v, sqlGlob(parts), this.p));
        }
        return '0';
      }
    }
  }

  private attrTerm(path: string, value: Value): string {
    return this.attr(path, (t, x) => this.leaf(value, t, x));
  }

  /** A leaf condition on a type and a value expression (values.leafEquals/leafCompare/leafInRange). */
  private leaf(value: Value, t: string, x: string): string {
    switch (value.kind) {
      case 'exact': {
        const text = this.p.add(value.text);
        if (value.text === 'true' || value.text === 'false') return `(${x} = ${text} OR ${t} = ${text})`;
        if (NUMERIC.test(value.text))
          return `(${x} = ${text} OR (${t} IN ('integer','real') AND ${x} = ${this.p.add(Number(value.text))}))`;
        return `${x} = ${text}`;
      }
      case 'pattern':
        return `(${t} = 'text' AND ${this.d.glob(x, sqlGlob(value.parts), this.p)})`;
      case 'compare':
        return this.bound(t, x, value.op, value.bound);
      case 'range': {
        const { low, high } = value;
        if (!low && !high) return `${t} IN ('integer','real','text')`;
        const parts: string[] = [];
        if (low) parts.push(this.bound(t, x, value.lowInclusive ? '>=' : '>', low));
        if (high) parts.push(this.bound(t, x, value.highInclusive ? '<=' : '<', high));
        return `(${parts.join(' AND ')})`;
      }
    }
  }

  private bound(t: string, x: string, op: string, b: Bound): string {
    const types = b.kind === 'number' ? "IN ('integer','real')" : "= 'text'";
    return `(${t} ${types} AND ${x} ${op} ${this.p.add(b.value)})`;
  }

  private text(full: boolean, value: Value): string {
    const scope = full ? '' : '{message} : ';
    if (value.kind === 'exact') {
      const w = words(value.text);
      if (w.length === 0) return '0';
      return this.d.fullText(`${scope}"${w.join(' ')}"`, this.p);
    }
    if (value.kind !== 'pattern') return '0';
    const prefix = wordPrefix(value.parts);
    if (prefix !== undefined) return this.d.fullText(`${scope}"${prefix}" *`, this.p);
    const source = wordPatternSource(value.parts);
    if (!full) return this.d.wordsMatch(source, 'message', this.p);
    const cols = ['message', 'service', 'source', 'host', 'status', 'trace_id'].map((c) =>
      this.d.wordsMatch(source, c, this.p),
    );
    const leaves = this.d.jsonAnyLeaf((type, atom) =>
      this.d.wordsMatch(
        source,
        `CASE ${type} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE ${atom} END`,
        this.p,
      ),
    );
    return `(${cols.join(' OR ')} OR ${leaves})`;
  }
}

/** The SQLite dialect (FTS5 table logs_fts, JSONB attributes, functions registered by the store). */
export const sqliteDialect: SqlDialect = {
  fullText: (q, p) => `seq IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ${p.add(q)})`,
  wordsMatch: (source, expr, p) => `fw_words_match(${p.add(source)}, ${expr})`,
  jsonValue: (path, p) => `json_extract(attributes, ${p.add(jsonPath(path))})`,
  jsonType: (path, p) => `json_type(attributes, ${p.add(jsonPath(path))})`,
  jsonNodesAt: (path, cond, p) =>
    `EXISTS (SELECT 1 FROM json_tree(logs.attributes) AS j WHERE fw_path(j.fullkey) = ${p.add(path)} AND ${cond('j.type', 'j.atom')})`,
  jsonAnyLeaf: (cond) =>
    `EXISTS (SELECT 1 FROM json_tree(logs.attributes) AS j WHERE j.type IN ${TEXT_LEAVES} AND ${cond('j.type', 'j.atom')})`,
  anyTag: (cond) => `EXISTS (SELECT 1 FROM json_each(logs.tags) AS t WHERE ${cond('t.value')})`,
  cidr: (spec, expr, p) => `fw_cidr(${p.add(spec)}, ${expr})`,
  glob: (expr, pattern, p) => `${expr} GLOB ${p.add(pattern)}`,
  equalsNoCase: (expr, text, p) => `${expr} = ${p.add(text)} COLLATE NOCASE`,
  lower: (expr) => `lower(${expr})`,
};

/** A JSON path for a plain attribute path (every key quoted). */
export function jsonPath(path: string): string {
  return `$${path
    .split('.')
    .map((k) => `."${k}"`)
    .join('')}`;
}
