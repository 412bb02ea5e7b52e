// Which monitor groups a downtime's `scope` covers (spec §6, docs/monitors.md "Downtimes"). Pure.
//
// The scope is a query in the log search language, evaluated by the search's own matcher against synthetic
// logs built from a group's values: `@flow_name` → attribute flow_name, `service`/`source`/`host`/`status` →
// those fields, other keys → the tag `key:value`. A group is one set of values (`{}` for an ungrouped
// monitor), or, for a notification group of `notify_by`, the values of each of its sub-groups. A scope term
// holds when any of them carries it, as Datadog's scoping guide describes groups with several values of a
// tag ("mutes any alert that includes the tag"); `AND`, `OR` and `-` then combine the terms. A key the
// monitor does not group by is absent, so it never matches.
import type { Json, LogEvent } from '../domain/log-event.ts';
import type { Field, Query } from '../search/ast.ts';
import { compileMatcher, type Matcher } from '../search/match.ts';
import { parseQuery } from '../search/parse.ts';

/** A group as scopes see it: its values, or the values of each sub-group of a notification group. */
export type ScopeTarget = Record<string, string> | readonly Record<string, string>[];

const RESERVED = new Set(['service', 'source', 'host', 'status']);

/** A log carrying a group's values, for the scope matcher. */
export function groupEvent(group: Record<string, string>): LogEvent {
  const e: LogEvent = {
    timestamp: 0,
    received_at: 0,
    status: 'info',
    service: null,
    source: null,
    host: null,
    message: '',
    tags: [],
    trace_id: null,
    attributes: {},
    raw: null,
    dedup_key: null,
  };
  for (const [key, value] of Object.entries(group)) {
    if (key.startsWith('@')) {
      const path = key.slice(1).split('.');
      let node = e.attributes as Record<string, Json>;
      for (const p of path.slice(0, -1)) {
        if (typeof node[p] !== 'object' || node[p] === null || Array.isArray(node[p])) node[p] = {};
        node = node[p] as Record<string, Json>;
      }
      node[path.at(-1)!] = value;
    } else if (RESERVED.has(key)) {
      (e as unknown as Record<string, string>)[key] = value;
    } else {
      e.tags.push(`${key.toLowerCase()}:${value}`);
    }
  }
  return e;
}

/** A scope over several value sets: a term holds when one of them holds it. */
type ScopeMatcher = (events: readonly LogEvent[]) => boolean;

function compileScope(q: Query): ScopeMatcher {
  switch (q.kind) {
    case 'and': {
      const cs = q.children.map(compileScope);
      return (es) => cs.every((c) => c(es));
    }
    case 'or': {
      const cs = q.children.map(compileScope);
      return (es) => cs.some((c) => c(es));
    }
    case 'not': {
      const c = compileScope(q.child);
      return (es) => !c(es);
    }
    default: {
      const m: Matcher = compileMatcher(q);
      return (es) => es.some(m);
    }
  }
}

const scopes = new Map<string, ScopeMatcher>();

/** Whether a scope covers a group (its values keyed as in `.by()`; `{}` for an ungrouped monitor). */
export function scopeMatches(scope: string, group: ScopeTarget): boolean {
  let m = scopes.get(scope);
  if (!m) {
    m = compileScope(parseQuery(scope));
    if (scopes.size > 1000) scopes.clear();
    scopes.set(scope, m);
  }
  const sets = Array.isArray(group) ? group : [group as Record<string, string>];
  return m((sets.length > 0 ? sets : [{}]).map(groupEvent));
}

/** The group-by key a scope term looks at (`@flow_name`, `service`, `env`); null: any key (free text). */
function fieldKey(f: Field): string | null {
  switch (f.kind) {
    case 'attr':
      return `@${f.path}`;
    case 'reserved':
      return f.name;
    case 'tag':
      return f.key === null ? null : f.key.toLowerCase();
    default:
      return null;
  }
}

/** true / false whatever the group's values; undefined when they decide. */
function decided(q: Query, keys: ReadonlySet<string>, empty: LogEvent): boolean | undefined {
  switch (q.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'not': {
      const v = decided(q.child, keys, empty);
      return v === undefined ? undefined : !v;
    }
    case 'and':
    case 'or': {
      const vs = q.children.map((c) => decided(c, keys, empty));
      const short = q.kind === 'or';
      if (vs.includes(short)) return short;
      return vs.every((v) => v === !short) ? !short : undefined;
    }
    default: {
      const key = fieldKey(q.field);
      if (key === null ? keys.size > 0 : keys.has(key)) return undefined;
      return compileMatcher(q)(empty);
    }
  }
}

/**
 * Whether a scope can cover some group of a monitor grouped by `groupBy` (facets as in `.by()`; [] when
 * ungrouped): false when its terms on keys the monitor does not group by decide it is never true (`env:staging`
 * on a monitor grouped by `@flow_name` only, or on an ungrouped one). Terms on grouped keys count as possible,
 * so `@flow_name:a AND @flow_name:b` is reported as possible.
 */
export function scopeCanMatch(scope: string, groupBy: readonly string[]): boolean {
  const keys = new Set(groupBy.map((k) => (k.startsWith('@') || RESERVED.has(k) ? k : k.toLowerCase())));
  return decided(parseQuery(scope), keys, groupEvent({})) !== false;
}
