// The hand-checked search corpus (docs/search.md): every case must give exactly its expected events both
// in memory (search/match.ts) and in the store (search/sql.ts through SqliteStore.readLogs).
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../src/domain/log-event.ts';
import { compileMatcher } from '../src/search/match.ts';
import { parseQuery } from '../src/search/parse.ts';
import { SharedMatchers } from '../src/search/shared-match.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { tempDir } from './helpers/server.ts';
import { ALL, CASES, ERRORS } from './search-corpus.cases.ts';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/search-events.json');
const EVENTS = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { name: string; event: LogEvent }[];

const sorted = (names: string[]) => [...names].sort();

describe('search corpus fixture', () => {
  it('has unique names, listed in ALL in fixture order', () => {
    expect(EVENTS.map((e) => e.name)).toEqual(ALL);
  });

  it('has each query once', () => {
    expect(new Set(CASES.map((c) => c.query)).size).toBe(CASES.length);
  });

  it('names only known events in every case', () => {
    const known = new Set(ALL);
    for (const c of CASES) for (const n of c.expect) expect(known.has(n), `${c.query}: ${n}`).toBe(true);
  });
});

describe('search corpus, in memory', () => {
  it.each(CASES.map((c) => [c.query, c] as const))('%j', (_q, c) => {
    const match = compileMatcher(parseQuery(c.query));
    const got = EVENTS.filter((e) => match(e.event)).map((e) => e.name);
    expect(sorted(got), c.why).toEqual(sorted(c.expect));
  });
});

describe('search corpus, all queries as one family of shared matchers (the monitors)', () => {
  it('gives every case its expected events, log by log across the family', () => {
    const family = new SharedMatchers();
    const matchers = CASES.map((c) => family.compile(parseQuery(c.query)));
    // fewer distinct conjuncts than queries' conjuncts: some are shared
    expect(family.size).toBeLessThan(CASES.length * 2);
    const got = CASES.map(() => [] as string[]);
    // as the evaluator: each log through every query, so remembered conjunct results are reused
    for (const e of EVENTS) for (const [i, m] of matchers.entries()) if (m(e.event)) got[i]?.push(e.name);
    CASES.forEach((c, i) => {
      expect(sorted(got[i] ?? []), `${c.query}: ${c.why}`).toEqual(sorted(c.expect));
    });
  });
});

describe('search corpus, SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  /** stored id → event name */
  const names = new Map<string, string>();

  beforeAll(async () => {
    dir = tempDir('fw-search-corpus-');
    store = new SqliteStore({ dataDir: dir });
    const stored = await store.appendLogs(EVENTS.map((e) => e.event));
    expect(stored.every(Boolean)).toBe(true);
    // appendLogs inserts in order: ids are "1", "2", … in fixture order.
    EVENTS.forEach((e, i) => {
      names.set(String(i + 1), e.name);
    });
  });

  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every event under the expected id', async () => {
    const page = await store.readLogs({ from: 0, to: 8.64e15, sort: 'asc', limit: 1000 });
    expect(page.logs.map((l) => names.get(l.id))).toEqual(ALL);
  });

  it.each(CASES.map((c) => [c.query, c] as const))('%j', async (_q, c) => {
    const page = await store.readLogs({
      from: 0,
      to: 8.64e15,
      sort: 'asc',
      limit: 1000,
      filter: parseQuery(c.query),
    });
    const got = page.logs.map((l) => names.get(l.id) ?? `unknown id ${l.id}`);
    expect(sorted(got), c.why).toEqual(sorted(c.expect));
  });
});

describe('search corpus, syntax errors', () => {
  it.each(ERRORS.map((c) => [c.query, c] as const))('%j', (_q, c) => {
    let error: unknown;
    try {
      parseQuery(c.query);
    } catch (e) {
      error = e;
    }
    expect(error, 'parseQuery should throw').toBeInstanceOf(Error);
    const err = error as Error & { column?: number };
    expect({ column: err.column, message: err.message }).toMatchObject({ column: c.column });
    expect(err.message).toContain(`column ${c.column}`);
    if (c.message) expect(err.message).toMatch(c.message);
  });
});
