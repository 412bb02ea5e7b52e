// `flowwatch notify test|log|retry` against a real server process configured with an email channel that
// points at an SMTP server in this process: a test message delivered and one refused (550), unknown handles,
// a monitor's deliveries listed and filtered, a dead delivery retried, and the SMTP password in no output.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKey } from '../../src/store/notifications.ts';
import { API_KEY, APP_KEY, appHeaders } from '../helpers/server.ts';
import { SMTP_PASSWORD, type Smtp, startSmtp } from '../helpers/smtp.ts';
import {
  cleanEnv,
  cli,
  elsEvent,
  KEY_ENV,
  postEvent,
  type Server,
  serve,
  sleep,
  tempDirsPerTest,
} from './helpers.ts';

const dir = tempDirsPerTest();
const clientArgs = (url: string) => ['--url', url, '--api-key', API_KEY, '--app-key', APP_KEY];

let smtp: Smtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp.close());

async function start(): Promise<Server> {
  const d = dir('flowwatch-cli-notify-');
  const config = path.join(d, 'flowwatch.yaml');
  writeFileSync(
    config,
    `notifications:
  email:
    from: "Flowwatch <alerts@flowwatch.example.com>"
    smtp:
      host: 127.0.0.1
      port: ${smtp.port}
      starttls: "off"
      user: flowwatch
      password: \${env:SMTP_PASSWORD}
`,
  );
  return serve(
    ['--data-dir', path.join(d, 'data'), '--config', config, '--public-url', 'https://flowwatch.example.com'],
    cleanEnv({ ...KEY_ENV, SMTP_PASSWORD, FLOWWATCH_LOG_LEVEL: 'info' }),
  );
}

async function jobsOf(
  url: string,
  monitorId: number,
  n: number,
): Promise<{ id: number; state: string; attempts: number }[]> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${url}/api/flowwatch/v1/notifications?monitor_id=${monitorId}`, {
      headers: appHeaders,
    });
    const { data } = (await res.json()) as { data: { id: number; state: string; attempts: number }[] };
    if (data.filter((j) => j.state !== 'pending').length >= n) return data;
    await sleep(50);
  }
  throw new Error('deliveries did not finish');
}

describe('notify test|log|retry', () => {
  it('tests recipients, lists and filters deliveries, retries a dead one; the password never shows', async () => {
    const server = await start();

    // a test message through the email channel
    const ok = await cli(['notify', 'test', '@oncall@example.com', ...clientArgs(server.url)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(
      'Sent "[TEST] [Triggered] Flowwatch test notification" to @oncall@example.com (email): delivered, the receiver answered 250.\n',
    );
    const mail = smtp.received.at(-1)!;
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.mail.subject).toBe('[TEST] [Triggered] Flowwatch test notification');
    expect(mail.mail.text).toContain('This is a test notification from Flowwatch to @oncall@example.com');
    expect(mail.mail.html).toContain('https://flowwatch.example.com/logs?query=source%3Aflowwatch-test');
    const recovered = await cli([
      'notify',
      'test',
      'oncall@example.com',
      '--state',
      'ok',
      '--json',
      ...clientArgs(server.url),
    ]);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(JSON.parse(recovered.stdout)).toMatchObject({
      handle: '@oncall@example.com',
      channel: 'email',
      state: 'OK',
      result: { ok: true, status: 250 },
    });
    // the test alert and its recovery are one thread
    expect(smtp.received.at(-1)!.mail.subject).toBe('[TEST] [Recovered] Flowwatch test notification');
    expect(smtp.received.at(-1)!.mail.inReplyTo).toMatch(
      /^<flowwatch\.[0-9a-f]{32}@flowwatch\.example\.com>$/,
    );
    expect(smtp.received.at(-1)!.mail.inReplyTo).toBe(smtp.received.at(-2)!.mail.inReplyTo);

    // failures exit 1, say why and what to do next
    const refused = await cli(['notify', 'test', '@nobody@example.com', ...clientArgs(server.url)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^flowwatch: test notification to @nobody@example.com \(email\) failed \(smtp_5xx, not retryable\): SMTP server 127\.0\.0\.1:\d+ answered 550 5\.1\.1/,
    );
    expect(refused.stderr).toContain('next: the SMTP server refused the message');
    const unknown = await cli(['notify', 'test', '@slack-nowhere', ...clientArgs(server.url)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      '(slack) failed (unknown_handle, not retryable): no Slack channel named "nowhere"',
    );
    expect(unknown.stderr).toContain('next: check the name');
    const noChannel = await cli(['notify', 'test', '@jira-ops', ...clientArgs(server.url)]);
    expect(noChannel.code).toBe(1);
    expect(noChannel.stderr).toContain('(unknown) failed (unknown_channel, not retryable)');
    const badState = await cli(['notify', 'test', '@slack-ops', '--state', 'red', ...clientArgs(server.url)]);
    expect(badState.code).toBe(1);
    expect(badState.stderr).toContain('--state must be one of alert, warn, no-data, ok');
    const badHandle = await cli(['notify', 'test', 'two words', ...clientArgs(server.url)]);
    expect(badHandle.code).toBe(1);
    expect(badHandle.stderr).toMatch(/400 .*handle must be a recipient/);

    // a monitor notifies two addresses: one is delivered, one refused for good (dead at once)
    const res = await fetch(`${server.url}/api/v1/monitor`, {
      method: 'POST',
      headers: appHeaders,
      body: JSON.stringify({
        name: 'Okta flow failures',
        type: 'log alert',
        query: 'logs("service:okta @event_type:FLOW_FAIL").index("*").rollup("count").last("5m") > 0',
        message: '{{#is_alert}}Flows failing @oncall@example.com @nobody@example.com{{/is_alert}}',
        options: { thresholds: { critical: 0 }, new_group_delay: 0 },
      }),
    });
    const monitor = ((await res.json()) as { id: number }).id;
    expect(await postEvent(server.url, elsEvent({ event_type: 'FLOW_FAIL', flow_name: 'Sync Users' }))).toBe(
      202,
    );
    const jobs = await jobsOf(server.url, monitor, 2);
    const dead = jobs.find((j) => j.state === 'dead')!;
    const delivered = jobs.find((j) => j.state === 'delivered')!;
    expect(dead && delivered).toBeTruthy();
    expect(smtp.received.at(-1)!.mail.subject).toBe('[Triggered] Okta flow failures');

    const log = await cli(['notify', 'log', ...clientArgs(server.url)]);
    expect(log.code, log.stderr).toBe(0);
    const lines = log.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+HANDLE\s+MONITOR\s+ATTEMPTS\s+UPDATED\s+LAST ERROR$/);
    expect(lines.find((l) => l.startsWith(`${dead.id} `))).toMatch(
      new RegExp(
        `^${dead.id}\\s+dead\\s+@nobody@example.com\\s+${monitor}\\s+1\\s+\\S+Z\\s+smtp_5xx: SMTP server .* answered 550`,
      ),
    );
    expect(lines.find((l) => l.startsWith(`${delivered.id} `))).toMatch(
      new RegExp(`^${delivered.id}\\s+delivered\\s+@oncall@example.com\\s+${monitor}\\s+1\\s+\\S+Z\\s+-$`),
    );
    expect(log.stdout).toContain('All deliveries: pending 0, delivered 1, dead 1.');
    expect(log.stdout).toContain('Send a dead delivery again: flowwatch notify retry ID');

    const onlyDead = await cli(['notify', 'log', '--state', 'dead', '--json', ...clientArgs(server.url)]);
    expect(onlyDead.code, onlyDead.stderr).toBe(0);
    const deadJobs = onlyDead.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(deadJobs).toHaveLength(1);
    expect(deadJobs[0]).toMatchObject({
      id: dead.id,
      handle: '@nobody@example.com',
      last_status: 550,
      last_reason: 'smtp_5xx',
    });
    const byMonitor = await cli([
      'notify',
      'log',
      '--monitor',
      String(monitor),
      '--limit',
      '1',
      ...clientArgs(server.url),
    ]);
    expect(byMonitor.stdout.split('\n').filter((l) => /^\d+ /.test(l))).toHaveLength(1);
    expect(byMonitor.stdout).toContain(`Older: add --before ${Math.max(dead.id, delivered.id)}`);
    const other = await cli(['notify', 'log', '--monitor', String(monitor + 1), ...clientArgs(server.url)]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toBe('No deliveries match (all deliveries: pending 0, delivered 1, dead 1).\n');
    const badLimit = await cli(['notify', 'log', '--limit', '0', ...clientArgs(server.url)]);
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('--limit must be an integer from 1 to 1000');
    const badFilter = await cli(['notify', 'log', '--state', 'failed', ...clientArgs(server.url)]);
    expect(badFilter.code).toBe(1);
    expect(badFilter.stderr).toContain('--state must be pending, delivered or dead');

    // retry: the dead one is due again (and refused again); delivered and unknown ids are errors
    const again = await cli(['notify', 'retry', String(dead.id), ...clientArgs(server.url)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      `Delivery ${dead.id} to @nobody@example.com is due again now; follow it with flowwatch notify log --monitor ${monitor}\n`,
    );
    const twice = await cli(['notify', 'retry', String(delivered.id), ...clientArgs(server.url)]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe(
      `flowwatch: delivery ${delivered.id} was delivered already; a delivered notification is never sent again\n`,
    );
    const missing = await cli(['notify', 'retry', '4242', ...clientArgs(server.url)]);
    expect(missing.stderr).toBe('flowwatch: no delivery with id 4242; see flowwatch notify log\n');
    const after = await jobsOf(server.url, monitor, 2);
    expect(after.find((j) => j.id === dead.id)).toMatchObject({
      state: 'dead',
      attempts: 1,
      last_status: 550,
    });

    const noKeys = await cli(['notify', 'log', '--url', server.url]);
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toContain('--api-key and --app-key');
    const down = await cli(['notify', 'test', '@a@example.com', ...clientArgs('http://127.0.0.1:9')]);
    expect(down.stderr).toContain('cannot reach Flowwatch at http://127.0.0.1:9');

    // the server logged the sends (info level) without the password
    expect(server.stdout()).toContain('test notification sent');
    expect(server.stdout() + server.stderr()).not.toContain(SMTP_PASSWORD);
    for (const out of [ok, refused, log, onlyDead])
      expect(out.stdout + out.stderr).not.toContain(SMTP_PASSWORD);
  }, 120_000);
  it('retry refuses an out-of-date delivery and says which flag sends it anyway', async () => {
    const data = path.join(dir('flowwatch-cli-notify-stale-'), 'data');
    const server = await serve(['--data-dir', data]);
    // A dead trigger and the group's recovery delivered after it, written beside the running server (WAL),
    // already dispatched and not pending, so the server leaves them alone until the retry.
    const db = new Database(path.join(data, 'flowwatch.db'));
    db.pragma('busy_timeout = 5000');
    const now = Date.now();
    const group = 'flow:x';
    const handle = '@webhook-stale';
    const add = (state: string, to: string) => {
      const e = db
        .prepare(
          'INSERT INTO monitor_events (monitor_id, group_key, at, body, delivered_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(990, group, now, JSON.stringify({ to }), now).lastInsertRowid;
      return Number(
        db
          .prepare(
            `INSERT INTO notification_jobs (idem_key, event_id, monitor_id, group_key, handle, channel, state,
               attempts, created_at, next_attempt_at, deadline_at, updated_at, queue_key, kind)
             VALUES (?, ?, 990, ?, ?, 'webhook', ?, 1, ?, ?, ?, ?, ?, 'alert')`,
          )
          .run(
            `${e}:${handle}`,
            e,
            group,
            handle,
            state,
            now,
            now,
            now + 3_600_000,
            now,
            queueKey({ handle, monitor_id: 990, group_key: group }),
          ).lastInsertRowid,
      );
    };
    const trigger = add('dead', 'Alert');
    const recovery = add('delivered', 'OK');
    db.close();

    const refused = await cli(['notify', 'retry', String(trigger), ...clientArgs(server.url)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `flowwatch: delivery ${trigger} is out of date: ${handle} got a later state of the same group in notification ${recovery}, and sending ${trigger} now could re-open what that one resolved (flowwatch notify retry --force sends it anyway)\n`,
    );
    const forced = await cli(['notify', 'retry', String(trigger), '--force', ...clientArgs(server.url)]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe(
      `Delivery ${trigger} to ${handle} is due again now; follow it with flowwatch notify log --monitor 990\n`,
    );
  });
});
