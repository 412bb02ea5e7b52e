// The configuration file's `notifications:` section: ${env:…} references, errors with file:line, names
// ignoring case, nothing secret in descriptions, and reloads that keep the old definitions on an error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../config/settings.ts';
import {
  describeNotifications,
  loadNotificationsConfig,
  NotificationsConfigSource,
  PAGERDUTY_EVENTS_URL,
} from './config.ts';

const file = (text: string) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'fw-ncfg-')), 'flowwatch.yaml');
  writeFileSync(f, text);
  return f;
};

const GOOD = `port: 9000
notifications:
  slack:
    channels:
      okta-alerts: \${env:SLACK_URL}
      Ops: https://hooks.slack.com/services/T0/B0/plain
  pagerduty:
    services:
      okta: \${env:PD_KEY}
`;
const ENV = { SLACK_URL: 'https://hooks.slack.com/services/T1/B1/secret1', PD_KEY: 'pdkey-secret-0001' };

describe('notifications configuration', () => {
  it('resolves ${env:NAME} and keys names ignoring case; settings still load from the same file', () => {
    const f = file(GOOD);
    const c = loadNotificationsConfig(f, ENV);
    expect(c.slack.get('okta-alerts')).toEqual({ name: 'okta-alerts', url: ENV.SLACK_URL });
    expect(c.slack.get('ops')?.name).toBe('Ops');
    expect(c.pagerduty).toEqual({
      url: PAGERDUTY_EVENTS_URL,
      services: new Map([['okta', { name: 'okta', routingKey: ENV.PD_KEY }]]),
    });
    expect(loadSettings({ configFile: f, env: {} }).port).toBe(9000);
    const nested = file(`settings:\n  port: 9001\n${GOOD.split('\n').slice(1).join('\n')}`);
    expect(loadSettings({ configFile: nested, env: {} }).port).toBe(9001);
    expect(loadNotificationsConfig(nested, ENV).slack.size).toBe(2);
  });

  it('Slack accounts of the integration API: one webhook URL per account', () => {
    const c = loadNotificationsConfig(
      file('notifications:\n  slack:\n    accounts:\n      Acme:\n        url: ${env:SLACK_URL}\n'),
      ENV,
    );
    expect(c.slackAccounts.get('acme')).toEqual({ name: 'Acme', url: ENV.SLACK_URL });
    expect(describeNotifications(c).slack_accounts).toEqual(['Acme']);
  });

  it('no file or no section: no channels', () => {
    expect(loadNotificationsConfig(undefined, {}).slack.size).toBe(0);
    expect(loadNotificationsConfig(file('port: 1\n'), {}).pagerduty.services.size).toBe(0);
  });

  it('a missing variable is an error naming the file:line and the variable', () => {
    const f = file(GOOD);
    expect(() => loadNotificationsConfig(f, { SLACK_URL: ENV.SLACK_URL })).toThrow(ConfigError);
    expect(() => loadNotificationsConfig(f, { SLACK_URL: ENV.SLACK_URL })).toThrow(
      `${f}:9:13: notifications.pagerduty.services.okta: environment variable PD_KEY is not set`,
    );
    expect(() =>
      loadNotificationsConfig(file('notifications:\n  slack:\n    channels:\n      a: ${SLACK}\n'), {}),
    ).toThrow(/:4:10: notifications\.slack\.channels\.a: "\$\{SLACK\}" is not a reference/);
  });

  it('validation errors carry file:line and never the secret', () => {
    const bad = (text: string, env = {}) => {
      try {
        loadNotificationsConfig(file(text), env);
      } catch (err) {
        return (err as Error).message.replace(/^.*flowwatch\.yaml/, '');
      }
      return 'no error';
    };
    expect(bad('notifications:\n  slack:\n    channels:\n      ops: not-a-url-secret\n')).toBe(
      ':4:12: notifications.slack.channels.ops: a Slack incoming webhook must be an http or https URL',
    );
    expect(bad('notifications:\n  slak: {}\n')).toMatch(/^:2:9: notifications: Unrecognized key.*slak/);
    expect(bad('notifications:\n  pagerduty:\n    services:\n      okta: ""\n')).toMatch(
      /^:4:13: .*routing key is required/,
    );
    expect(bad('notifications:\n  pagerduty:\n    services:\n      "bad name": x\n')).toMatch(
      /^:4:.*names may hold/,
    );
    expect(
      bad('notifications:\n  slack:\n    channels:\n      ops: https://a/1\n      OPS: https://a/2\n'),
    ).toMatch(/^:5:12: .*"OPS" is defined twice/);
    expect(bad('notifications:\n  slack:\n    accounts:\n      a:\n        url: nope-secret\n')).toMatch(
      /^:5:14: notifications.slack.accounts.a.url: a Slack incoming webhook must be an http or https URL$/,
    );
    expect(bad('notifications:\n  pagerduty:\n    url: ftp://x\n')).toMatch(
      /^:3:10: notifications.pagerduty.url: /,
    );
    expect(bad('notifications: [1,\n')).toMatch(/^:2:1: /);
  });

  it('describes itself without secrets', () => {
    const d = describeNotifications(loadNotificationsConfig(file(GOOD), ENV));
    expect(d).toEqual({
      slack_channels: ['okta-alerts', 'Ops'],
      slack_accounts: [],
      pagerduty_services: ['okta'],
      pagerduty_url: PAGERDUTY_EVENTS_URL,
      teams_webhooks: [],
      opsgenie_services: [],
    });
    expect(JSON.stringify(d)).not.toMatch(/secret|plain/);
  });

  it('reload swaps the definitions; an invalid file keeps the old ones and logs the error with file:line', () => {
    const f = file(GOOD);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(s) });
    const env: Record<string, string> = { ...ENV };
    const src = new NotificationsConfigSource({ file: f, env, logger });
    expect(src.current().slack.has('okta-alerts')).toBe(true);

    writeFileSync(f, GOOD.replace('okta-alerts', 'iam-alerts'));
    expect(src.reload()).toEqual({ ok: true });
    expect(src.current().slack.has('iam-alerts')).toBe(true);
    expect(src.current().slack.has('okta-alerts')).toBe(false);

    delete env.PD_KEY;
    const r = src.reload();
    expect(r).toEqual({ ok: false, error: expect.stringContaining(`${f}:9:13:`) });
    expect(src.current().slack.has('iam-alerts')).toBe(true);
    expect(src.current().pagerduty.services.get('okta')?.routingKey).toBe(ENV.PD_KEY);
    expect(lines.join('')).toContain('environment variable PD_KEY is not set');
    expect(lines.join('')).not.toMatch(/secret1|pdkey-secret/);
  });
});
