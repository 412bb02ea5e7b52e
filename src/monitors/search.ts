// The query language of Datadog's monitor search (`GET /api/v1/monitor/search` and `/groups/search`, the
// "Manage Monitors" search box): space-separated `attribute:value` terms (all must hold), `OR` between
// terms, `-` or `NOT` to negate, `attribute:(a OR b)` for alternatives, `"quoted values"`, `*` wildcards in
// values, and free text matched against the monitor name (and the group). Pure: the caller supplies the
// facts of each monitor or group. docs/monitors.md, "Searching monitors".

/** What a search term can look at. */
export interface SearchFacts {
  id: number;
  name: string;
  /** Alert, Warn, No Data, OK */
  status: string;
  tags: string[];
  priority: number | null;
  muted: boolean;
  multi: boolean;
  /** @-handles of the message, without the @ */
  notifications: string[];
  /** groups search: the group key (`@flow_name:Sync Users`, `*`) */
  group?: string;
}

export class MonitorSearchError extends Error {}

type Term = { negate: boolean; key: string | null; values: string[] };
/** OR of ANDs */
export type MonitorSearch = Term[][];

/** Parses a search; throws MonitorSearchError with the position of what it cannot read. */
export function parseMonitorSearch(query: string): MonitorSearch {
  const tokens = tokenize(query);
  const alternatives: Term[][] = [[]];
  for (let i = 0; i < tokens.length; i++) {
    let tok = tokens[i] as string;
    if (tok === 'OR') {
      if ((alternatives.at(-1) as Term[]).length === 0 || i === tokens.length - 1)
        throw new MonitorSearchError(`"OR" needs a term on each side in "${query}"`);
      alternatives.push([]);
      continue;
    }
    if (tok === 'AND') continue;
    let negate = false;
    if (tok === 'NOT') {
      negate = true;
      tok = tokens[++i] ?? '';
      if (!tok) throw new MonitorSearchError(`"NOT" needs a term after it in "${query}"`);
    } else if (tok.startsWith('-') && tok.length > 1) {
      negate = true;
      tok = tok.slice(1);
    }
    (alternatives.at(-1) as Term[]).push({ negate, ...term(tok) });
  }
  return alternatives.filter((a) => a.length > 0);
}

/** Splits on spaces outside quotes and parentheses. */
function tokenize(q: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const ch = q[i] as string;
    if (ch === '\\' && i + 1 < q.length) {
      cur += ch + q[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') {
      if (--depth < 0) throw new MonitorSearchError(`unbalanced ")" at column ${i + 1} of "${q}"`);
    } else if (!quoted && depth === 0 && /\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quoted) throw new MonitorSearchError(`unterminated quote in "${q}"`);
  if (depth > 0) throw new MonitorSearchError(`unbalanced "(" in "${q}"`);
  if (cur) out.push(cur);
  return out;
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

function term(tok: string): { key: string | null; values: string[] } {
  const colon = tok.startsWith('"') ? -1 : tok.indexOf(':');
  if (colon <= 0) return { key: null, values: [unquote(tok)] };
  const key = tok.slice(0, colon).toLowerCase();
  let value = tok.slice(colon + 1);
  if (value.startsWith('(') && value.endsWith(')')) {
    const values = value
      .slice(1, -1)
      .split(/\s+OR\s+/)
      .map((v) => unquote(v.trim()))
      .filter(Boolean);
    if (values.length === 0) throw new MonitorSearchError(`no value in "${tok}"`);
    return { key, values };
  }
  value = unquote(value);
  if (!value) throw new MonitorSearchError(`no value after "${key}:"`);
  return { key, values: [value] };
}

/** A value pattern: case-insensitive, `*` any run of characters. */
function like(pattern: string, value: string, exact = true): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  if (!p.includes('*')) return exact ? v === p : v.includes(p);
  const re = p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(exact ? `^${re.join('.*')}$` : re.join('.*')).test(v);
}

const STATUS_ALIASES: Record<string, string> = { nodata: 'no data', no_data: 'no data' };

function holds(key: string | null, value: string, f: SearchFacts): boolean {
  switch (key) {
    case null:
      return like(value, f.name, false) || (f.group !== undefined && like(value, f.group, false));
    case 'title':
    case 'name':
      return like(value, f.name, false);
    case 'status': {
      const v = value.toLowerCase();
      return like(STATUS_ALIASES[v] ?? v, f.status);
    }
    case 'type':
      return ['log', 'logs', 'log alert'].some((t) => like(value, t));
    case 'id':
    case 'monitor_id':
      return String(f.id) === value;
    case 'priority':
      return f.priority !== null && value.toLowerCase().replace(/^p/, '') === String(f.priority);
    case 'muted':
      return String(f.muted) === value.toLowerCase();
    case 'multi':
      return String(f.multi) === value.toLowerCase();
    case 'notification':
      return f.notifications.some((h) => like(value.replace(/^@/, ''), h));
    case 'creator':
      return like(value, 'flowwatch') || like(value, 'flowwatch@localhost');
    case 'tag':
      return f.tags.some((t) => like(value, t));
    case 'group':
      return f.group !== undefined && like(value, f.group, false);
    default:
      // env:prod, team:iam, service:okta… are monitor tags
      return f.tags.some((t) => like(`${key}:${value}`, t));
  }
}

/** Whether the facts satisfy the search (an empty search matches everything). */
export function matchesSearch(s: MonitorSearch, f: SearchFacts): boolean {
  if (s.length === 0) return true;
  return s.some((all) => all.every((t) => t.values.some((v) => holds(t.key, v, f)) !== t.negate));
}

const STATUS_RANK: Record<string, number> = { OK: 0, Warn: 1, 'No Data': 2, Alert: 3 };

/** `name,asc` / `status,desc` … into a comparator over facts; throws MonitorSearchError. */
export function parseSearchSort(sort: string | undefined, fields: readonly string[]) {
  if (!sort) return undefined;
  const [field = '', dir = 'asc'] = sort.split(',').map((s) => s.trim().toLowerCase());
  if (!fields.includes(field) || (dir !== 'asc' && dir !== 'desc'))
    throw new MonitorSearchError(
      `sort must be "<field>,asc" or "<field>,desc" with a field among ${fields.join(', ')}; got "${sort}"`,
    );
  const sign = dir === 'asc' ? 1 : -1;
  const key = (f: SearchFacts): string | number => {
    if (field === 'status') return STATUS_RANK[f.status] ?? -1;
    if (field === 'id') return f.id;
    if (field === 'priority') return f.priority ?? 6;
    if (field === 'tags') return [...f.tags].sort().join(',').toLowerCase();
    if (field === 'group') return (f.group ?? '').toLowerCase();
    return f.name.toLowerCase();
  };
  return (a: SearchFacts, b: SearchFacts) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * sign || a.id - b.id || (a.group ?? '').localeCompare(b.group ?? '');
  };
}

/** Datadog's `counts` facet: `[{name, count}]`, largest first. */
export function countBy<T>(items: readonly T[], names: (x: T) => (string | boolean)[]) {
  const c = new Map<string | boolean, number>();
  for (const x of items) for (const n of new Set(names(x))) c.set(n, (c.get(n) ?? 0) + 1);
  return [...c]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || String(a.name).localeCompare(String(b.name)));
}
