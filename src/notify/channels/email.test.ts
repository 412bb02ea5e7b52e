// The email channel against a real SMTP server in-process (smtp-server on port 0, messages parsed with
// mailparser): subject, text and HTML parts, threading headers per alert cycle, auth, 4xx and 5xx replies,
// a refused connection, the allow-list, and the password never in a result, a job record or a log line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AT, sampleEvent } from '../../../test/helpers/notify.ts';
import { SMTP_PASSWORD, SMTP_USER, type Smtp, startSmtp } from '../../../test/helpers/smtp.ts';
import { ConfigError } from '../../config/settings.ts';
import type { NotificationJob } from '../../store/notifications.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { summaryEvent } from '../bundle.ts';
import type { Delivery } from '../channel.ts';
import {
  describeNotifications,
  type EmailConfig,
  emptyNotificationsConfig,
  loadNotificationsConfig,
  type NotificationsConfig,
} from '../config.ts';
import { Notifier } from '../notifier.ts';
import { buildEmailMessage, createEmailChannel } from './email.ts';

const USER = SMTP_USER;
const PASSWORD = SMTP_PASSWORD;

let smtp: Smtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp.close());

function emailConfig(over: Partial<EmailConfig> = {}): NotificationsConfig {
  const c = emptyNotificationsConfig();
  c.email = {
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    starttls: 'off',
    user: USER,
    password: PASSWORD,
    from: 'Flowwatch <alerts@flowwatch.example.com>',
    allowedDomains: [],
    timeoutMs: 5000,
    ...over,
  };
  return c;
}

const delivery = (handle: string, over: Record<string, unknown> = {}): Delivery => ({
  handle,
  event: sampleEvent(over),
  idempotencyKey: `42:@${handle}`,
  signal: new AbortController().signal,
});

const last = () => smtp.received.at(-1)!;

describe('email configuration', () => {
  const file = (text: string) => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'fw-ecfg-')), 'flowwatch.yaml');
    writeFileSync(f, text);
    return f;
  };

  it('reads notifications.email with env references for secrets and defaults; describes it without the password', () => {
    const f = file(`notifications:
  email:
    from: "Flowwatch <alerts@example.com>"
    smtp:
      host: smtp.example.com
      user: flowwatch
      password: \${env:SMTP_PASSWORD}
    allowed_domains: [Example.com, ops.example.org]
`);
    const c = loadNotificationsConfig(f, { SMTP_PASSWORD: PASSWORD });
    expect(c.email).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      starttls: 'required',
      user: 'flowwatch',
      password: PASSWORD,
      from: 'Flowwatch <alerts@example.com>',
      allowedDomains: ['example.com', 'ops.example.org'],
      timeoutMs: 15_000,
    });
    const d = describeNotifications(c);
    expect(d.email).toBe('smtp://smtp.example.com:587 from Flowwatch <alerts@example.com>');
    expect(JSON.stringify(d)).not.toContain(PASSWORD);
    const tls = file(
      'notifications:\n  email:\n    from: a@example.com\n    smtp: {host: mx, secure: true}\n',
    );
    expect(loadNotificationsConfig(tls, {}).email).toMatchObject({ port: 465, secure: true });
  });

  it('errors name the file:line and never echo the password', () => {
    const cases: [string, string][] = [
      [
        '    from: nobody\n    smtp: {host: mx}\n',
        ':3:11: notifications.email.from: from must be an address',
      ],
      [
        '    from: a@example.com\n    smtp: {host: mx, user: u}\n',
        'notifications.email.smtp.password: user and password go together',
      ],
      [
        '    from: a@example.com\n    smtp: {host: mx, starttls: maybe}\n',
        'notifications.email.smtp.starttls',
      ],
      [
        '    from: a@example.com\n    smtp: {host: mx, pasword: x}\n',
        'notifications.email.smtp: Unrecognized key: "pasword"',
      ],
      [
        `    from: a@example.com\n    smtp: {host: mx, user: u, password: "\${env:SMTP_PASSWORD}"}\n`,
        'environment variable SMTP_PASSWORD is not set',
      ],
    ];
    for (const [body, want] of cases) {
      const f = file(`notifications:\n  email:\n${body}`);
      expect(() => loadNotificationsConfig(f, {})).toThrow(ConfigError);
      expect(() => loadNotificationsConfig(f, {})).toThrow(want);
    }
    const bad = file(
      `notifications:\n  email:\n    from: a@example.com\n    smtp: {host: mx, port: "\${env:SMTP_PASSWORD}"}\n`,
    );
    expect(() => loadNotificationsConfig(bad, { SMTP_PASSWORD: PASSWORD })).toThrow(/smtp\.port/);
    try {
      loadNotificationsConfig(bad, { SMTP_PASSWORD: PASSWORD });
    } catch (err) {
      expect((err as Error).message).not.toContain(PASSWORD);
    }
  });
});

describe('email message', () => {
  it('threads one alert cycle: the trigger is the root, renotifications and the recovery answer it', () => {
    const from = 'Flowwatch <alerts@flowwatch.example.com>';
    const trigger = buildEmailMessage(sampleEvent(), { from });
    expect(trigger.messageId).toMatch(/^<flowwatch\.[0-9a-f]{32}@flowwatch\.example\.com>$/);
    expect(trigger.inReplyTo).toBeUndefined();
    const recovery = buildEmailMessage(
      { ...sampleEvent({ to: 'OK', from: 'Alert', transition: 'Recovered' }), id: 43, at: AT + 60_000 },
      { from },
    );
    expect(recovery.inReplyTo).toBe(trigger.messageId);
    expect(recovery.references).toBe(trigger.messageId);
    expect(recovery.messageId).not.toBe(trigger.messageId);
    // the same event gives the same message (a retry repeats the Message-ID); a new cycle a new thread
    expect(buildEmailMessage(sampleEvent(), { from })).toEqual(trigger);
    const next = buildEmailMessage(
      { ...sampleEvent({ first_triggered_at: AT + 600_000 }), at: AT + 600_000 },
      { from },
    );
    expect(next.messageId).not.toBe(trigger.messageId);
    expect(next.inReplyTo).toBeUndefined();
    // no sample log on a recovery
    expect(trigger.text).toContain('Sample log:\nFlow failed: Sync Users');
    expect(recovery.text).not.toContain('Sample log');
  });

  it('a bundle summary lists its alerts without a value of its own; the channel accepts bundling', () => {
    const members = ['Payroll', 'Sync Groups'].map((flow, i) => ({
      ...sampleEvent({ group: { '@flow_name': flow } }),
      id: 50 + i,
      group_key: `@flow_name:${flow}`,
      at: AT + 1000 * (i + 1),
    }));
    const job = {
      id: 9,
      handle: '@oncall@example.com',
      group_key: 'bundle:9',
      event_id: 50,
      monitor_id: 7,
      created_at: AT,
      next_attempt_at: AT + 300_000,
      detail: { opened_at: AT, closes_at: AT + 300_000 },
    } as unknown as NotificationJob;
    const summary = summaryEvent(job, members);
    const m = buildEmailMessage(summary, { from: 'alerts@example.com' });
    expect(m.subject).toBe(summary.body.title);
    expect(m.text).toContain('2 more flows failing for @oncall@example.com');
    expect(m.text).not.toContain('Value:');
    expect(m.text).toContain('Monitors: https://flowwatch.example.com/monitors/7');
    expect(m.html).toMatch(
      /<strong>Triggered<\/strong> <a href="https:\/\/flowwatch\.example\.com\/monitors\/7">Okta flow failures on @flow_name:Payroll<\/a>/,
    );
    expect(createEmailChannel({ config: () => emptyNotificationsConfig() }).bundles).toBe(true);
  });

  it('escapes HTML in every value the event carries', () => {
    const m = buildEmailMessage(
      sampleEvent({
        message: 'x <script>alert(1)</script> & [docs](https://example.com/a?b=1&c=2) **bold**',
      }),
      { from: 'alerts@example.com' },
    );
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('x &lt;script&gt;alert(1)&lt;/script&gt; &amp; ');
    expect(m.html).toContain('<a href="https://example.com/a?b=1&amp;c=2">docs</a>');
    expect(m.html).toContain('<strong>bold</strong>');
    expect(m.text).toContain('docs (https://example.com/a?b=1&c=2)');
  });
});

describe('email channel (real SMTP server)', () => {
  it('delivers a message with subject, text and HTML parts, links and threading headers', async () => {
    const channel = createEmailChannel({ config: () => emailConfig() });
    const r = await channel.send(delivery('oncall@example.com'));
    expect(r).toEqual({ ok: true, status: 250 });
    const got = last();
    expect(got.user).toBe(USER);
    expect(got.from).toBe('alerts@flowwatch.example.com');
    expect(got.to).toEqual(['oncall@example.com']);
    const m = got.mail;
    expect(m.subject).toBe('[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures');
    expect(m.from?.value[0]).toEqual({ address: 'alerts@flowwatch.example.com', name: 'Flowwatch' });
    expect(m.text).toContain('Sync Users failed: "Workday" said\n503 \\ Service Unavailable');
    expect(m.text).toContain('Value: 3');
    expect(m.text).toContain('Threshold: > 0');
    expect(m.text).toContain('Group: @flow_name:Sync Users');
    expect(m.text).toContain('Monitor: https://flowwatch.example.com/monitors/7');
    expect(m.text).toContain('Related logs: https://flowwatch.example.com/logs?query=service%3Aokta');
    expect(m.html).toContain(
      '<h2 style="margin:0 0 12px;font-size:18px">[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures</h2>',
    );
    expect(m.html).toContain('Sync Users failed: &quot;Workday&quot; said<br>');
    expect(m.html).toContain('<a href="https://flowwatch.example.com/monitors/7">Monitor</a>');
    expect(m.html).toContain(
      '<a href="https://flowwatch.example.com/logs?query=service%3Aokta">Related logs</a>',
    );
    expect(m.html).toMatch(/<th[^>]*>Value<\/th><td[^>]*>3<\/td>/);
    expect(m.messageId).toMatch(/^<flowwatch\.[0-9a-f]{32}@flowwatch\.example\.com>$/);
    expect(m.headers.get('auto-submitted')).toBe('auto-generated');
    expect(m.headers.get('x-flowwatch-monitor-id')).toBe('7');
    expect(m.headers.get('x-flowwatch-idempotency-key')).toBe('42:@oncall@example.com');

    // the recovery of the same cycle answers the trigger
    const recovery = await channel.send({
      ...delivery('oncall@example.com'),
      event: {
        ...sampleEvent({ to: 'OK', from: 'Alert', transition: 'Recovered' }),
        id: 43,
        at: AT + 60_000,
      },
    });
    expect(recovery.ok).toBe(true);
    expect(last().mail.inReplyTo).toBe(m.messageId);
    expect(last().mail.references).toBe(m.messageId);
    expect(last().mail.messageId).not.toBe(m.messageId);
  });

  it('a 5xx reply is not retried, a 4xx reply and a refused connection are', async () => {
    const channel = createEmailChannel({ config: () => emailConfig() });
    const before = smtp.received.length;
    const unknown = await channel.send(delivery('nobody@example.com'));
    expect(unknown).toMatchObject({ ok: false, retryable: false, reason: 'smtp_5xx', status: 550 });
    expect(unknown.ok || unknown.detail).toBe(
      `SMTP server 127.0.0.1:${smtp.port} answered 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown (to RCPT TO)`,
    );
    const full = await channel.send(delivery('full@example.com'));
    expect(full).toMatchObject({ ok: false, retryable: true, reason: 'smtp_4xx', status: 452 });
    expect(smtp.received.length).toBe(before);

    const badPassword = await createEmailChannel({
      config: () => emailConfig({ password: 'wrong-password-123' }),
    }).send(delivery('oncall@example.com'));
    expect(badPassword).toMatchObject({ ok: false, retryable: false, reason: 'smtp_5xx', status: 535 });
    expect(JSON.stringify(badPassword)).not.toContain('wrong-password-123');
    expect(badPassword.ok || badPassword.detail).toMatch(/answered 535 .*\(to AUTH PLAIN\)$/);

    const closed = await startSmtp();
    await closed.close();
    const refused = await createEmailChannel({ config: () => emailConfig({ port: closed.port }) }).send(
      delivery('oncall@example.com'),
    );
    expect(refused).toMatchObject({ ok: false, retryable: true, reason: 'network' });
    for (const r of [unknown, full, badPassword, refused]) expect(JSON.stringify(r)).not.toContain(PASSWORD);
  });

  it('refuses without sending: no email configuration, a bad address, a domain off the allow-list', async () => {
    const before = smtp.received.length;
    const none = await createEmailChannel({ config: () => emptyNotificationsConfig() }).send(
      delivery('oncall@example.com'),
    );
    expect(none).toMatchObject({ ok: false, retryable: false, reason: 'bad_config' });
    expect(none.ok || none.detail).toContain('add notifications.email');
    const allow = createEmailChannel({ config: () => emailConfig({ allowedDomains: ['example.com'] }) });
    expect(await allow.send(delivery('oncall@Example.COM'))).toEqual({ ok: true, status: 250 });
    const off = await allow.send(delivery('someone@evil.example.org'));
    expect(off).toMatchObject({ ok: false, retryable: false, reason: 'unknown_handle' });
    expect(off.ok || off.detail).toContain('evil.example.org is not in notifications.email.allowed_domains');
    expect(await allow.send(delivery('not an address@example.com'))).toMatchObject({
      ok: false,
      reason: 'unknown_handle',
    });
    expect(smtp.received.length).toBe(before + 1);
  });
});

describe('email through the outbox', () => {
  it('delivers, dead-letters a 550 at once, and never writes the password to a job or a log line', async () => {
    const store = new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-email-')) });
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(s) });
    const n = new Notifier({
      store: store.notifications,
      logger,
      retry: { baseMs: 10, maxMs: 50 },
      deadLetterAfterMs: 60_000,
      channelConfig: () => emailConfig(),
    });
    try {
      const e = sampleEvent({ handles: ['@oncall@example.com', '@nobody@example.com'] });
      await store.saveMonitorProgress(
        [],
        [{ monitor_id: 7, group_key: e.group_key, at: Date.now(), body: e.body }],
      );
      n.start();
      const end = Date.now() + 15_000;
      let jobs = await store.notifications.listJobs({ limit: 10 });
      while (jobs.filter((j) => j.state !== 'pending').length < 2 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
        jobs = await store.notifications.listJobs({ limit: 10 });
      }
      const byHandle = Object.fromEntries(jobs.map((j) => [j.handle, j]));
      expect(byHandle['@oncall@example.com']).toMatchObject({
        channel: 'email',
        state: 'delivered',
        last_status: 250,
      });
      expect(byHandle['@nobody@example.com']).toMatchObject({
        channel: 'email',
        state: 'dead',
        attempts: 1,
        last_status: 550,
        last_reason: 'smtp_5xx',
      });
      expect(lines.join('')).toContain('notification dead-lettered');
      expect(lines.join('')).not.toContain(PASSWORD);
      expect(JSON.stringify(jobs)).not.toContain(PASSWORD);
    } finally {
      await n.stop(0);
      await store.close();
    }
  });
});
