// `flowwatch serve` and the configuration file's notification channels: SIGHUP re-reads them without a
// restart (a new Slack channel is used at once), an invalid file is refused with file:line and the old
// channels stay, and a missing ${env:…} variable stops the start with file:line and the variable.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fake, startSlackFake } from '../helpers/chat-fakes.ts';
import { elsEvent, oktaBody } from '../helpers/els.ts';
import { API_KEY, appHeaders } from '../helpers/server.ts';
import { cleanEnv, KEY_ENV, serve, sleep, spawnFlowwatch, stop, tempDirsPerTest } from './helpers.ts';

const dir = tempDirsPerTest();
let slack: Fake;
beforeAll(async () => {
  slack = await startSlackFake();
});
afterAll(() => slack.close());

const channels = (names: string[]) =>
  `notifications:\n  slack:\n    channels:\n${names.map((n) => `      ${n}: \${env:SLACK_URL}\n`).join('')}`;

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

describe('serve: notification channels from the configuration file', () => {
  it('SIGHUP reloads them without a restart; an invalid file keeps the old ones', async () => {
    const d = dir('flowwatch-sighup-');
    const file = path.join(d, 'flowwatch.yaml');
    writeFileSync(file, channels(['first']));
    const env = cleanEnv({ ...KEY_ENV, SLACK_URL: `${slack.url}/services/T/B/hupsecret` });
    const server = await serve(['--config', file, '--data-dir', path.join(d, 'data')], env);

    writeFileSync(file, channels(['first', 'second']));
    server.child.kill('SIGHUP');
    await eventually(() => server.stderr().includes('notification channels reloaded'));

    writeFileSync(file, 'notifications:\n  slack:\n    channels:\n      second: ${env:MISSING_VAR}\n');
    server.child.kill('SIGHUP');
    await eventually(() => server.stderr().includes('configuration not reloaded'));
    expect(server.stderr()).toContain(
      `${file}:4:15: notifications.slack.channels.second: environment variable MISSING_VAR is not set`,
    );

    // Still running, with the channels of the last valid file: @slack-second is delivered.
    const m = await fetch(`${server.url}/api/v1/monitor`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({
        name: 'Okta flow failures',
        type: 'log alert',
        query: 'logs("service:okta status:error").index("*").rollup("count").last("5m") > 0',
        message: 'failed @slack-second',
        options: { thresholds: { critical: 0 } },
      }),
    });
    expect(m.status).toBe(200);
    const run = `hup-${Date.now()}`;
    const posted = await fetch(`${server.url}/api/v2/logs`, {
      method: 'POST',
      headers: { 'dd-api-key': API_KEY, 'content-type': 'application/json' },
      body: oktaBody(elsEvent('flow_fail', { execution_id: run, idempotency_key: run })),
    });
    expect(posted.status).toBe(202);
    await slack.waitFor(1, 20_000);
    expect(slack.received[0]!.path).toBe('/services/T/B/hupsecret');
    expect(slack.rejected).toEqual([]);
    expect(server.stderr() + server.stdout()).not.toContain('hupsecret');
    expect((await stop(server)).code).toBe(0);
  }, 60_000);

  it('a missing ${env:…} variable stops the start with the file:line and the variable', async () => {
    const d = dir('flowwatch-envref-');
    const file = path.join(d, 'flowwatch.yaml');
    writeFileSync(file, channels(['ops']));
    const p = spawnFlowwatch(
      ['serve', '--config', file, '--data-dir', path.join(d, 'data')],
      cleanEnv(KEY_ENV),
    );
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    const exit = await p.exited;
    clearTimeout(timer);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(p.stderr() + p.stdout()).toContain(
      `${file}:4:12: notifications.slack.channels.ops: environment variable SLACK_URL is not set`,
    );
  }, 60_000);
});
