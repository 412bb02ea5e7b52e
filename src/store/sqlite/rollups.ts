// Hourly count rollups for analytics. `rollup_hourly` is kept in step with `logs` in the same transaction:
// the writer adds each committed batch with one grouped upsert (ROLLUP_BATCH_SQL; a per-row trigger cost a
// third of the write path), and a trigger subtracts deleted logs. It counts logs per hour and per (service,
// source, status, flow_name, event_type). A count request whose filter and group-bys only use those fields is answered from the
// rollups for its whole hours and from the logs for the partial hours at its edges, exactly as the
// log-by-log answer (src/search/aggregate.test.ts checks both agree).
import type Database from 'better-sqlite3';
import type { AggregateRequest, Aggregator, Facet } from '../../search/aggregate.ts';
import { partialAcc } from '../../search/aggregate.ts';
import type { Query } from '../../search/ast.ts';
import { compileSql, type SqlDialect, sqliteDialect } from '../../search/sql.ts';

export const HOUR = 3_600_000;

/** The rolled-up attributes (top-level text values). */
const ROLLED_ATTRS = ['flow_name', 'event_type'] as const;
const ROLLED_RESERVED = new Set(['service', 'source', 'status']);

const text = (row: 'new' | 'old', a: string) =>
  `CASE json_type(${row}.attributes, '$.${a}') WHEN 'text' THEN json_extract(${row}.attributes, '$.${a}') END`;
/** 1 when both attributes are absent or text (else the row cannot stand for the logs' facet values). */
const pure = (row: 'new' | 'old') =>
  `(${ROLLED_ATTRS.map((a) => `coalesce(json_type(${row}.attributes, '$.${a}') = 'text', 1)`).join(' AND ')})`;
const key = (row: 'new' | 'old') =>
  `json_array(${row}.service, ${row}.source, ${row}.status, ${ROLLED_ATTRS.map((a) => text(row, a)).join(', ')}, ${pure(row)})`;

/** Table, triggers and backfill (a migration; migration 11 then drops the insert trigger for ROLLUP_BATCH_SQL). */
export const ROLLUP_SQL = `
  CREATE TABLE rollup_hourly (
    hour INTEGER NOT NULL,
    key TEXT NOT NULL,
    service TEXT,
    source TEXT,
    status TEXT NOT NULL,
    flow_name TEXT,
    event_type TEXT,
    pure INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, key)
  ) WITHOUT ROWID;
  CREATE TRIGGER logs_rollup_insert AFTER INSERT ON logs BEGIN
    INSERT INTO rollup_hourly (hour, key, service, source, status, flow_name, event_type, pure, n)
    VALUES (new.ts - new.ts % ${HOUR}, ${key('new')}, new.service, new.source, new.status,
            ${ROLLED_ATTRS.map((a) => text('new', a)).join(', ')}, ${pure('new')}, 1)
    ON CONFLICT (hour, key) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER logs_rollup_delete AFTER DELETE ON logs BEGIN
    UPDATE rollup_hourly SET n = n - 1 WHERE hour = old.ts - old.ts % ${HOUR} AND key = ${key('old')};
    DELETE FROM rollup_hourly WHERE hour = old.ts - old.ts % ${HOUR} AND key = ${key('old')} AND n <= 0;
  END;
  INSERT INTO rollup_hourly (hour, key, service, source, status, flow_name, event_type, pure, n)
    SELECT new.ts - new.ts % ${HOUR}, ${key('new')}, new.service, new.source, new.status,
           ${ROLLED_ATTRS.map((a) => text('new', a)).join(', ')}, ${pure('new')}, count(*)
    FROM logs AS new GROUP BY 1, 2;
`;

/**
 * Adds the logs with seq in [?, ?] (the rows one write transaction inserted) to the rollups: one upsert per
 * (hour, key) instead of one per log. Same key expressions as the delete trigger, so deletes find their rows.
 */
export const ROLLUP_BATCH_SQL = `
  INSERT INTO rollup_hourly (hour, key, service, source, status, flow_name, event_type, pure, n)
    SELECT new.ts - new.ts % ${HOUR}, ${key('new')}, new.service, new.source, new.status,
           ${ROLLED_ATTRS.map((a) => text('new', a)).join(', ')}, ${pure('new')}, count(*)
    FROM logs AS new WHERE new.seq BETWEEN ? AND ? GROUP BY 1, 2
  ON CONFLICT (hour, key) DO UPDATE SET n = n + excluded.n
`;

function rolledFacet(f: Facet): string | undefined {
  if (f.kind === 'reserved' && ROLLED_RESERVED.has(f.column)) return f.column;
  if (f.kind === 'attr' && (ROLLED_ATTRS as readonly string[]).includes(f.path)) return f.path;
  return undefined;
}

/** True when a filter only reads rolled-up fields with exact values, patterns or existence. */
function rolledFilter(q: Query): boolean {
  switch (q.kind) {
    case 'all':
    case 'none':
      return true;
    case 'and':
    case 'or':
      return q.children.every(rolledFilter);
    case 'not':
      return rolledFilter(q.child);
    case 'cidr':
      return false;
    case 'exists':
    case 'term': {
      const f = q.field;
      const fieldOk =
        (f.kind === 'reserved' && ROLLED_RESERVED.has(f.name)) ||
        (f.kind === 'attr' && (ROLLED_ATTRS as readonly string[]).includes(f.path));
      return fieldOk && (q.kind === 'exists' || q.value.kind === 'exact' || q.value.kind === 'pattern');
    }
  }
}

/** Whether rollups can answer a request (counts only, rolled-up facets and filter, hour intervals). */
export function rollupEligible(req: AggregateRequest, filter: Query | undefined): boolean {
  return (
    req.computes.every((c) => c.aggregation === 'count' && (c.type === 'total' || c.interval % HOUR === 0)) &&
    req.groupBy.every(
      (g) =>
        rolledFacet(g.facet) !== undefined &&
        (g.sort.type === 'alphabetical' || g.sort.aggregation === 'count'),
    ) &&
    (!filter || rolledFilter(filter))
  );
}

/** The dialect over rollup_hourly: the rolled attributes are text columns. */
const rollupDialect: SqlDialect = {
  ...sqliteDialect,
  jsonValue: (path) => path,
  jsonType: (path) => `CASE WHEN ${path} IS NULL THEN NULL ELSE 'text' END`,
};

/**
 * Adds the counts of the whole hours [hs, he) from the rollups to `agg`; false (and nothing added) when a
 * rollup row in the range is impure (a rolled attribute that is not text somewhere), so the caller falls
 * back to the logs.
 */
export function addRollups(
  db: Database.Database,
  req: AggregateRequest,
  filter: Query | undefined,
  agg: Aggregator,
  hs: number,
  he: number,
): boolean {
  const impure = db
    .prepare('SELECT 1 FROM rollup_hourly WHERE hour >= ? AND hour < ? AND pure = 0 LIMIT 1')
    .get(hs, he);
  if (impure) return false;
  const f = filter
    ? compileSql(filter, rollupDialect, { isComplexPath: () => false, indexedExpr: () => undefined })
    : { sql: '1', params: {} };
  const params: Record<string, unknown> = { ...f.params, hs, he };
  const groups = req.groupBy.map((g, i) => {
    const col = rolledFacet(g.facet) as string;
    if (g.missing === undefined) return { expr: `${col} AS g${i}`, notNull: `g${i} IS NOT NULL` };
    params[`m${i}`] = g.missing;
    return { expr: `coalesce(${col}, @m${i}) AS g${i}`, notNull: '' };
  });
  const series = req.computes.some((c) => c.type === 'timeseries');
  if (series) params.iv = agg.interval;
  const cols = [
    ...groups.map((g) => g.expr),
    `${series ? 'hour - hour % @iv' : 'NULL'} AS b`,
    'sum(n) AS cnt',
  ];
  const gcols = req.groupBy.map((_g, i) => `g${i}`);
  const having = groups.map((g) => g.notNull).filter(Boolean);
  const sql = `SELECT ${cols.join(', ')} FROM rollup_hourly WHERE hour >= @hs AND hour < @he AND ${f.sql}
    GROUP BY ${[...gcols, 'b'].join(', ')} ${having.length ? `HAVING ${having.join(' AND ')}` : ''}`;
  for (const r of db.prepare(sql).iterate(params) as Iterable<Record<string, string | number | null>>) {
    const acc = partialAcc(r.cnt as number, 0, null, null, null);
    agg.addPartial(
      gcols.map((g) => r[g] as string | number),
      r.b as number | null,
      req.computes.map(() => acc).concat(req.groupBy.filter((g) => g.sort.type === 'measure').map(() => acc)),
    );
  }
  return true;
}
