// `flowwatch monitors list|show|history` against a real server process: a monitor created through the API,
// a FLOW_FAIL posted as Okta posts it, and the CLI (a real process too) reading the result.
import { describe, expect, it } from 'vitest';
import { API_KEY, APP_KEY, appHeaders } from '../helpers/server.ts';
import { cleanEnv, cli, elsEvent, postEvent, serve, sleep, tempDirsPerTest } from './helpers.ts';

const dir = tempDirsPerTest();
const clientArgs = (url: string) => ['--url', url, '--api-key', API_KEY, '--app-key', APP_KEY];

async function createMonitor(url: string, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${url}/api/v1/monitor`, {
    method: 'POST',
    headers: appHeaders,
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { id: number }).id;
}

describe('monitors list|show|history', () => {
  it('prints monitors, their groups and their events; --json gives the raw answers', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-cli-monitors-')]);
    const failures = await createMonitor(server.url, {
      name: 'Okta flow failures',
      type: 'log alert',
      query:
        'logs("service:okta @event_type:FLOW_FAIL").index("*").rollup("count").by("@flow_name").last("5m") > 0',
      message: '{{#is_alert}}{{@flow_name.name}} failed @slack-ops{{/is_alert}}',
      priority: 1,
      tags: ['team:iam'],
      options: { thresholds: { critical: 0 }, new_group_delay: 0 },
    });
    const quiet = await createMonitor(server.url, {
      name: 'Throttled',
      type: 'log alert',
      query: 'logs("@event_type:FLOW_THROTTLE").last("5m") > 10',
      options: { thresholds: { critical: 10 } },
    });
    expect(await postEvent(server.url, elsEvent({ event_type: 'FLOW_FAIL', flow_name: 'Sync Users' }))).toBe(
      202,
    );
    // the transition is committed with the log; wait until the API shows it
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.url}/api/flowwatch/v1/monitor/${failures}/history`, {
        headers: appHeaders,
      });
      if (((await res.json()) as { data: unknown[] }).data.length > 0) break;
      await sleep(50);
    }

    const list = await cli(['monitors', 'list', ...clientArgs(server.url)]);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+PRIORITY\s+NAME\s+QUERY$/);
    expect(lines.find((l) => l.startsWith(`${failures} `))).toMatch(
      /^\d+\s+Alert\s+P1\s+Okta flow failures\s+logs\("service:okta @event_type:FLOW_FAIL"\)/,
    );
    expect(lines.find((l) => l.startsWith(`${quiet} `))).toMatch(/^\d+\s+OK\s+-\s+Throttled\s+logs\(/);

    // keys from the environment, as the other commands
    const listJson = await cli(
      ['monitors', 'list', '--json', '--url', server.url],
      cleanEnv({ FLOWWATCH_API_KEY: API_KEY, FLOWWATCH_APP_KEY: APP_KEY }),
    );
    expect(listJson.code, listJson.stderr).toBe(0);
    const raw = JSON.parse(listJson.stdout) as { id: number; overall_state: string }[];
    expect(raw.map((m) => [m.id, m.overall_state])).toEqual([
      [failures, 'Alert'],
      [quiet, 'OK'],
    ]);

    const show = await cli(['monitors', 'show', String(failures), ...clientArgs(server.url)]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Monitor ${failures}: Okta flow failures`);
    expect(show.stdout).toMatch(/state\s+Alert/);
    expect(show.stdout).toMatch(/priority\s+P1/);
    expect(show.stdout).toContain('Groups (1):');
    expect(show.stdout).toMatch(
      /\n {2}Alert\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z\s+-\s+@flow_name:Sync Users\n/,
    );
    const showJson = await cli(['monitors', 'show', String(failures), '--json', ...clientArgs(server.url)]);
    expect(JSON.parse(showJson.stdout)).toMatchObject({
      id: failures,
      state: { groups: { '@flow_name:Sync Users': { status: 'Alert' } } },
    });

    // a second flow fails: history lists both, newest first
    expect(await postEvent(server.url, elsEvent({ event_type: 'FLOW_FAIL', flow_name: 'Payroll' }))).toBe(
      202,
    );
    let hist = { code: 0 as number | null, stdout: '', stderr: '' };
    for (let i = 0; i < 100; i++) {
      hist = await cli(['monitors', 'history', String(failures), ...clientArgs(server.url)]);
      if (hist.stdout.includes('Payroll')) break;
      await sleep(100);
    }
    expect(hist.code, hist.stderr).toBe(0);
    const h = hist.stdout.trimEnd().split('\n');
    expect(h[0]).toMatch(/^TIME\s+GROUP\s+TRANSITION\s+VALUE\s+TITLE$/);
    expect(h[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+@flow_name:Payroll\s+Triggered\s+1\s+\[P1\] \[Triggered on \{@flow_name:Payroll\}\] Okta flow failures$/,
    );
    expect(h[2]).toMatch(/@flow_name:Sync Users\s+Triggered\s+1\s+\[P1\]/);
    const limited = await cli([
      'monitors',
      'history',
      String(failures),
      '--limit',
      '1',
      '--json',
      ...clientArgs(server.url),
    ]);
    const events = limited.stdout.trimEnd().split('\n');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!)).toMatchObject({
      monitor_id: failures,
      group_key: '@flow_name:Payroll',
      body: { transition: 'Triggered', handles: ['@slack-ops'] },
    });
    const none = await cli(['monitors', 'history', String(quiet), ...clientArgs(server.url)]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain(`Monitor ${quiet} has no events yet.`);
  }, 90_000);

  it('an unknown id, a bad id, a bad --limit, missing keys and no server exit 1 saying what to do', async () => {
    const server = await serve(['--data-dir', dir('flowwatch-cli-monitors-bad-')]);
    for (const cmd of ['show', 'history']) {
      const r = await cli(['monitors', cmd, '4242', ...clientArgs(server.url)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('flowwatch: no monitor with id 4242; see flowwatch monitors list\n');
    }
    const bad = await cli(['monitors', 'show', 'abc', ...clientArgs(server.url)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"abc"');
    const limit = await cli(['monitors', 'history', '1', '--limit', '0', ...clientArgs(server.url)]);
    expect(limit.code).toBe(1);
    expect(limit.stderr).toContain('--limit');
    const empty = await cli(['monitors', 'list', ...clientArgs(server.url)]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('No monitors yet');
    const keys = await cli(['monitors', 'list', '--url', server.url]);
    expect(keys.code).toBe(1);
    expect(keys.stderr).toContain('--api-key and --app-key');
    const wrong = await cli([
      'monitors',
      'list',
      '--url',
      server.url,
      '--api-key',
      API_KEY,
      '--app-key',
      'nope',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/403 .*flowwatch keys create/);
    const down = await cli(['monitors', 'list', ...clientArgs('http://127.0.0.1:9')]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach Flowwatch at http://127.0.0.1:9');
  }, 60_000);
});
