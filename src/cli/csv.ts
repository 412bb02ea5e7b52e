// CSV export of logs: RFC 4180 quoting, CRLF records, a header row, and cells that a spreadsheet would run
// as a formula (starting with = + - @, tab or CR) prefixed with a single quote.
import type { ApiLog } from './format.ts';

/** Columns of `--columns` besides `@attribute.path`. */
const FIELDS = ['id', 'timestamp', 'status', 'service', 'host', 'message', 'tags'] as const;
/** The default `--columns`. */
export const DEFAULT_COLUMNS = 'timestamp,status,service,host,message';

/** A column reads one cell value from a log. */
type Column = { name: string; read: (l: ApiLog) => unknown };

/** Parses `--columns` (comma-separated names or `@paths`); throws naming a bad one. */
export function parseColumns(spec: string): Column[] {
  const names = spec.split(',').map((c) => c.trim());
  if (names.some((n) => n === '' || n === '@')) throw new Error(`--columns: empty column name in "${spec}"`);
  return names.map((name) => {
    if (name.startsWith('@')) {
      const path = name.slice(1);
      return { name, read: (l: ApiLog) => attributeAt(l.attributes.attributes, path) };
    }
    if (name === 'id') return { name, read: (l: ApiLog) => l.id };
    if ((FIELDS as readonly string[]).includes(name)) {
      const key = name as Exclude<(typeof FIELDS)[number], 'id'>;
      return { name, read: (l: ApiLog) => l.attributes[key] };
    }
    throw new Error(`--columns: unknown column "${name}": use ${FIELDS.join(', ')} or @attribute.path`);
  });
}

/** The value at a dotted path (a key spelled with dots literally wins over nesting). */
function attributeAt(obj: unknown, path: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (path in rec) return rec[path];
  const dot = path.indexOf('.');
  if (dot === -1) return undefined;
  return attributeAt(rec[path.slice(0, dot)], path.slice(dot + 1));
}

/** One cell: strings are protected against formula injection; objects and arrays become JSON. */
export function csvCell(v: unknown): string {
  let s: string;
  if (v === undefined || v === null) s = '';
  else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
  else {
    s = typeof v === 'string' ? v : JSON.stringify(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV record, CRLF-terminated. */
export function csvRow(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header record of `columns` (protected like any cell: `@flow_name` becomes `'@flow_name`). */
export function csvHeader(columns: Column[]): string {
  return csvRow(columns.map((c) => c.name));
}

/** A log as one CSV record. */
export function csvLog(columns: Column[], l: ApiLog): string {
  return csvRow(columns.map((c) => c.read(l)));
}
