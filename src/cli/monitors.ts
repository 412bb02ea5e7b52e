// `flowwatch monitors list|show ID|history ID`: the monitors of a running server, their groups and their
// events (the transitions the notification layer delivers), read through the API with the usual keys.
import type { Command } from 'commander';
import {
  ApiError,
  apiRequest,
  type ClientOptions,
  exitOnClosedStdout,
  withClientOptions,
} from './options.ts';

/** A monitor as GET /api/v1/monitor answers (the fields printed). */
interface ApiMonitor {
  id: number;
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  priority: number | null;
  overall_state: string;
  created: string;
  modified: string;
  options: Record<string, unknown>;
  state?: {
    groups?: Record<
      string,
      {
        name: string;
        status: string;
        last_triggered_ts: number | null;
        last_notified_ts: number | null;
        last_resolved_ts: number | null;
        last_nodata_ts: number | null;
      }
    >;
  };
}

/** One event of GET /api/flowwatch/v1/monitor/:id/history. */
interface ApiEvent {
  id: number;
  monitor_id: number;
  group_key: string;
  at: number;
  body: Record<string, unknown>;
  delivered_at: number | null;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}

/** The monitor id argument; throws saying what is expected. */
function monitorId(raw: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id))
    throw new Error(`the monitor id must be a positive integer, got "${raw}"; see flowwatch monitors list`);
  return id;
}

const notFound = (id: number) => new Error(`no monitor with id ${id}; see flowwatch monitors list`);

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : '-');
const priority = (p: number | null) => (p ? `P${p}` : '-');
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

async function getMonitor(o: ClientOptions, id: number): Promise<ApiMonitor> {
  try {
    return (await apiRequest(o, `/api/v1/monitor/${id}?group_states=all`)) as ApiMonitor;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw notFound(id);
    throw err;
  }
}

async function list(o: ClientOptions & { json?: boolean }): Promise<void> {
  exitOnClosedStdout();
  const monitors = (await apiRequest(o, '/api/v1/monitor')) as ApiMonitor[];
  if (o.json) {
    process.stdout.write(`${JSON.stringify(monitors)}\n`);
    return;
  }
  if (monitors.length === 0) {
    process.stdout.write('No monitors yet: create one with POST /api/v1/monitor (docs/monitors.md).\n');
    return;
  }
  const rows = [['ID', 'STATE', 'PRIORITY', 'NAME', 'QUERY']];
  for (const m of monitors)
    rows.push([String(m.id), m.overall_state, priority(m.priority), oneLine(m.name), oneLine(m.query)]);
  process.stdout.write(table(rows));
}

async function show(raw: string, o: ClientOptions & { json?: boolean }): Promise<void> {
  exitOnClosedStdout();
  const id = monitorId(raw);
  const m = await getMonitor(o, id);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(m)}\n`);
    return;
  }
  const groups = Object.values(m.state?.groups ?? {});
  let out = `Monitor ${m.id}: ${m.name}\n`;
  out += table([
    ['  state', m.overall_state],
    ['  priority', priority(m.priority)],
    ['  type', m.type],
    ['  query', m.query],
    ['  tags', m.tags.length ? m.tags.join(', ') : '-'],
    ['  created', m.created],
    ['  modified', m.modified],
  ]);
  if (m.message) out += `  message\n${m.message.replace(/^/gm, '    ')}\n`;
  if (groups.length === 0) {
    out += '\nNo groups yet (no matching logs since the monitor was created or the server started).\n';
  } else {
    out += `\nGroups (${groups.length}):\n`;
    const rows = [['  STATUS', 'LAST TRIGGERED', 'LAST RESOLVED', 'GROUP']];
    const rank: Record<string, number> = { Alert: 0, 'No Data': 1, Warn: 2, OK: 3 };
    groups.sort((a, b) => (rank[a.status] ?? 9) - (rank[b.status] ?? 9) || a.name.localeCompare(b.name));
    for (const g of groups)
      rows.push([
        `  ${g.status}`,
        iso(g.last_triggered_ts ? g.last_triggered_ts * 1000 : null),
        iso(g.last_resolved_ts ? g.last_resolved_ts * 1000 : null),
        g.name,
      ]);
    out += table(rows);
  }
  out += `\nHistory: flowwatch monitors history ${m.id}\n`;
  process.stdout.write(out);
}

async function history(raw: string, o: ClientOptions & { json?: boolean; limit: string }): Promise<void> {
  exitOnClosedStdout();
  const id = monitorId(raw);
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new Error(`--limit must be an integer from 1 to 1000, got "${o.limit}"`);
  const { data } = (await apiRequest(o, `/api/flowwatch/v1/monitor/${id}/history?limit=${limit}`)) as {
    data: ApiEvent[];
  };
  // A deleted monitor keeps its history; an id that never existed has none and is an error.
  if (data.length === 0) await getMonitor(o, id);
  if (o.json) {
    for (const e of data) process.stdout.write(`${JSON.stringify(e)}\n`);
    return;
  }
  if (data.length === 0) {
    process.stdout.write(`Monitor ${id} has no events yet.\n`);
    return;
  }
  const rows = [['TIME', 'GROUP', 'TRANSITION', 'VALUE', 'TITLE']];
  for (const e of data) {
    const b = e.body;
    const value = b.value === null || b.value === undefined ? '-' : String(b.value);
    const muted = b.muted === true ? ' (muted)' : '';
    const title = typeof b.title === 'string' ? b.title : '';
    rows.push([iso(e.at), e.group_key, `${String(b.transition ?? '?')}${muted}`, value, oneLine(title)]);
  }
  process.stdout.write(table(rows));
}

/** Registers `monitors` and its subcommands. */
export function registerMonitors(program: Command): void {
  const monitors = program
    .command('monitors')
    .description('log monitors of a running server: their states, groups and events');

  withClientOptions(monitors.command('list'))
    .description('list monitors: id, overall state, priority, name and query')
    .option('--json', 'print the API answer as JSON')
    .action(list);

  withClientOptions(monitors.command('show'))
    .description('show a monitor with its groups, their states and last triggered times')
    .argument('<id>', 'monitor id (see flowwatch monitors list)')
    .option('--json', 'print the API answer as JSON')
    .action(show);

  withClientOptions(monitors.command('history'))
    .description('the events of a monitor (transitions and renotifications), newest first')
    .argument('<id>', 'monitor id (see flowwatch monitors list)')
    .option('--limit <n>', 'at most this many events (1 to 1000)', '50')
    .option('--json', 'print each event as one line of JSON (NDJSON)')
    .action(history);
}
