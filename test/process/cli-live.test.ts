// `flowwatch tail QUERY` over the live stream and `flowwatch search` exports, as real processes against a
// real `flowwatch serve`: live matches, SIGINT, reconnection across a server restart, query errors with a
// caret, CSV and NDJSON output checked byte for byte, and paging over more than one page.
import { describe, expect, it } from 'vitest';
import { API_KEY, APP_KEY } from '../helpers/server.ts';
import {
  cleanEnv,
  cli,
  KEY_ENV,
  type Proc,
  serve,
  sleep,
  spawnFlowwatch,
  stop,
  tempDirsPerTest,
  waitHealthy,
} from './helpers.ts';

const dir = tempDirsPerTest();
const clientArgs = (url: string) => ['--url', url, '--api-key', API_KEY, '--app-key', APP_KEY];

/** Posts plain Datadog logs; resolves once they are committed. */
async function ingest(url: string, logs: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${url}/api/v2/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dd-api-key': API_KEY },
    body: JSON.stringify(logs),
  });
  if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
}

/** Waits until `p` printed `text` on stdout (or `stream`), failing with its output after `ms`. */
async function printed(p: Proc, text: string, ms = 20_000, stream: 'stdout' | 'stderr' = 'stdout') {
  const deadline = Date.now() + ms;
  while (!p[stream]().includes(text)) {
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.stdout()} ${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`"${text}" not printed: ${p.stdout()} ${p.stderr()}`);
    await sleep(50);
  }
}

const messages = (out: string) =>
  out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { attributes: { message: string } }).attributes.message);

describe('tail', () => {
  it('prints live matches only, and exits 0 on SIGINT', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-tail-live-')]);
    await ingest(server.url, [{ message: 'backlog match', service: 'web', status: 'error' }]);
    const tail = spawnFlowwatch(['tail', 'service:web status:error', '--json', ...clientArgs(server.url)]);
    await printed(tail, 'backlog match');
    await ingest(server.url, [
      { message: 'live other service', service: 'api', status: 'error' },
      { message: 'live other status', service: 'web', status: 'info' },
    ]);
    await ingest(server.url, [{ message: 'live match', service: 'web', status: 'error' }]);
    await printed(tail, 'live match');
    const { code, signal } = await stop(tail, 'SIGINT');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(messages(tail.stdout())).toEqual(['backlog match', 'live match']);
    expect(tail.stderr()).toBe('');
  }, 60_000);

  it('reconnects after the server restarts and resumes after the last log it saw', async () => {
    const dataDir = dir('flowwatch-tail-restart-');
    const first = await serve(['--data-dir', dataDir]);
    const tail = spawnFlowwatch(['tail', '@kind:keep', '-n', '0', '--json', ...clientArgs(first.url)]);
    // the stream is up once a log posted now is printed
    for (let i = 0; !tail.stdout().includes('before restart'); i++) {
      await ingest(first.url, [
        { message: i === 0 ? 'before restart' : `before restart ${i}`, kind: 'keep' },
      ]);
      await sleep(200);
    }
    // a server with an open stream stops promptly
    expect((await stop(first, 'SIGTERM', 15_000)).code).toBe(0);
    await printed(tail, 'reconnecting', 20_000, 'stderr');
    const second = spawnFlowwatch(
      ['serve', '--port', String(first.port), '--data-dir', dataDir],
      cleanEnv(KEY_ENV),
    );
    await waitHealthy(second, first.url);
    await ingest(first.url, [
      { message: 'after restart', kind: 'keep' },
      { message: 'skipped', kind: 'other' },
    ]);
    await printed(tail, 'after restart');
    await printed(tail, 'reconnected', 20_000, 'stderr');
    expect((await stop(tail, 'SIGINT')).code).toBe(0);
    const seen = messages(tail.stdout());
    expect(seen.filter((m) => m === 'after restart')).toHaveLength(1);
    expect(seen).not.toContain('skipped');
    expect(new Set(seen).size).toBe(seen.length);
  }, 90_000);

  it('a syntax error prints the server message with a caret under the column and exits 1', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-tail-syntax-')]);
    for (const cmd of [['tail'], ['tail', '-n', '0'], ['search']]) {
      const res = await cli([...cmd, 'status:error OR )', ...clientArgs(server.url)]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toBe(
        'flowwatch: invalid query: unexpected ")" at column 17: expected a term\n' +
          '  status:error OR )\n' +
          '                  ^\n',
      );
    }
  }, 60_000);
});

describe('search export', () => {
  const base = Date.now() - 10 * 60_000;
  const hostile = [
    { message: 'plain', flow_name: 'Sync Users', execution_id: 'e1' },
    { message: 'comma, and "quotes"', flow_name: 'a,b', execution_id: 'e2' },
    { message: 'two\nlines\r\nand CRLF', flow_name: '"quoted"', execution_id: 'e3' },
    { message: '=HYPERLINK("http://evil","x")', flow_name: "=cmd|' /C calc'!A0", execution_id: '+1' },
    { message: '-2+3', flow_name: '@SUM(A1:A2)', execution_id: -7 },
  ];

  it('writes RFC 4180 CSV with formula protection and exact NDJSON', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-export-')]);
    await ingest(
      server.url,
      hostile.map((h, i) => ({
        ...h,
        service: 'okta',
        hostname: i === 1 ? 'host,1' : 'h',
        status: 'error',
        date: new Date(base + i).toISOString(),
      })),
    );
    const ts = (i: number) => new Date(base + i).toISOString();
    const args = ['--from', 'now-1h', '--oldest-first', ...clientArgs(server.url)];
    const csv = await cli(['search', 'service:okta', '--format', 'csv', ...args]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe(
      [
        'timestamp,status,service,host,message',
        `${ts(0)},error,okta,h,plain`,
        `${ts(1)},error,okta,"host,1","comma, and ""quotes"""`,
        `${ts(2)},error,okta,h,"two\nlines\r\nand CRLF"`,
        `${ts(3)},error,okta,h,"'=HYPERLINK(""http://evil"",""x"")"`,
        `${ts(4)},error,okta,h,'-2+3`,
        '',
      ].join('\r\n'),
    );
    expect(csv.stderr).toBe('5 logs\n');

    const cols = await cli([
      'search',
      '*',
      '--format',
      'csv',
      '--columns',
      '@flow_name,@execution_id',
      ...args,
    ]);
    expect(cols.code, cols.stderr).toBe(0);
    expect(cols.stdout).toBe(
      [
        "'@flow_name,'@execution_id",
        'Sync Users,e1',
        '"a,b",e2',
        '"""quoted""",e3',
        "'=cmd|' /C calc'!A0,'+1",
        "'@SUM(A1:A2),-7",
        '',
      ].join('\r\n'),
    );

    for (const flag of [['--json'], ['--format', 'ndjson']]) {
      const nd = await cli(['search', '*', ...flag, ...args]);
      expect(nd.code, nd.stderr).toBe(0);
      expect(nd.stderr).toBe('');
      const lines = nd.stdout.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l))).toEqual(
        hostile.map((h, i) => ({
          id: expect.any(String),
          type: 'log',
          attributes: {
            timestamp: ts(i),
            status: 'error',
            service: 'okta',
            host: i === 1 ? 'host,1' : 'h',
            message: h.message,
            tags: expect.any(Array),
            attributes: expect.objectContaining({ flow_name: h.flow_name, execution_id: h.execution_id }),
          },
        })),
      );
    }

    const bad = await cli(['search', '*', '--format', 'xml', ...args]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--format must be one of text, ndjson, csv/);
    const badCol = await cli(['search', '*', '--format', 'csv', '--columns', 'timestamp,nope', ...args]);
    expect(badCol.code).toBe(1);
    expect(badCol.stderr).toMatch(/unknown column "nope"/);
  }, 90_000);

  it('pages through more than 1000 results and returns every log exactly once', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-export-paging-')]);
    const total = 2345;
    for (let start = 0; start < total; start += 1000) {
      const n = Math.min(1000, total - start);
      await ingest(
        server.url,
        Array.from({ length: n }, (_, i) => ({ message: `bulk ${start + i}`, kind: 'bulk', n: start + i })),
      );
    }
    await ingest(server.url, [{ message: 'not bulk', kind: 'other' }]);
    const args = ['--from', 'now-1h', '--to', 'now+1h', '--limit', 'all', ...clientArgs(server.url)];
    const nd = await cli(['search', '@kind:bulk', '--format', 'ndjson', ...args]);
    expect(nd.code, nd.stderr).toBe(0);
    const logs = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; attributes: { attributes: { n: number } } });
    expect(logs).toHaveLength(total);
    expect(new Set(logs.map((l) => l.id)).size).toBe(total);
    expect(logs.map((l) => l.attributes.attributes.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );

    const csv = await cli(['search', '@kind:bulk', '--format', 'csv', '--columns', '@n', ...args]);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout.split('\r\n');
    expect(rows.shift()).toBe("'@n");
    expect(rows.pop()).toBe('');
    expect(rows.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(csv.stderr).toBe(`${total} logs\n`);
  }, 90_000);
});
