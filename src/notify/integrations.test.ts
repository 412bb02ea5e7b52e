import { describe, expect, it } from 'vitest';
import type { IntegrationRecord } from '../store/integrations.ts';
import { emptyNotificationsConfig, OPSGENIE_URLS } from './config.ts';
import { mergeRecipients } from './integrations.ts';

const rec = (over: Partial<IntegrationRecord>): IntegrationRecord => ({
  kind: 'pagerduty',
  id: over.name ?? 'x',
  scope: '',
  name: 'x',
  secret: 'secret',
  attributes: {},
  created_at: 1,
  modified_at: 1,
  ...over,
});

function fileConfig() {
  const c = emptyNotificationsConfig();
  c.pagerduty.services.set('okta', { name: 'okta', routingKey: 'file-key' });
  c.slack.set('ops', { name: 'ops', url: 'https://file.example/ops' });
  c.slack.set('acme-iam', { name: 'acme-iam', url: 'https://file.example/acme-iam' });
  c.slackAccounts.set('acme', { name: 'Acme', url: 'https://hooks.example/acme' });
  c.slackAccounts.set('beta', { name: 'beta', url: 'https://hooks.example/beta' });
  c.teams.set('ops', { name: 'ops', url: 'https://teams.example/file' });
  return c;
}

describe('mergeRecipients: the file and the integration APIs', () => {
  it('adds API services beside the file; the file wins a name both define, and the conflict is reported', () => {
    const file = fileConfig();
    const m = mergeRecipients(file, [
      rec({ name: 'OKTA', secret: 'api-key' }),
      rec({ name: 'payments', secret: 'pay-key' }),
      rec({ kind: 'teams', id: 'u1', name: 'Ops', secret: 'https://teams.example/api' }),
      rec({ kind: 'opsgenie', id: 'u2', name: 'og', secret: 'gk', attributes: { region: 'eu' } }),
      rec({
        kind: 'opsgenie',
        id: 'u3',
        name: 'og2',
        secret: 'gk2',
        attributes: { region: 'custom', custom_url: 'https://og.example' },
      }),
    ]);
    expect(m.config.pagerduty.services.get('okta')?.routingKey).toBe('file-key');
    expect(m.config.pagerduty.services.get('payments')).toEqual({ name: 'payments', routingKey: 'pay-key' });
    expect(m.conflicts.get('pagerduty/OKTA')).toMatch(/configuration file also defines @pagerduty-OKTA/);
    expect(m.conflicts.has('pagerduty/payments')).toBe(false);
    expect(m.config.teams.get('ops')?.url).toBe('https://teams.example/file');
    expect(m.conflicts.get('teams/u1')).toMatch(/@teams-Ops/);
    expect(m.config.opsgenie.get('og')).toEqual({
      name: 'og',
      apiKey: 'gk',
      region: 'eu',
      url: OPSGENIE_URLS.eu,
    });
    expect(m.config.opsgenie.get('og2')?.url).toBe('https://og.example');
    // The file's own maps are untouched (a reload compares them).
    expect(file.pagerduty.services.size).toBe(1);
    expect(file.teams.size).toBe(1);
  });

  it('Slack: @slack-ACCOUNT-CHANNEL always, @slack-CHANNEL when one account has it; account URL + channel', () => {
    const m = mergeRecipients(fileConfig(), [
      rec({ kind: 'slack', id: 's1', scope: 'Acme', name: '#alerts', secret: null }),
      rec({ kind: 'slack', id: 's2', scope: 'beta', name: '#alerts', secret: null }),
      rec({
        kind: 'slack',
        id: 's3',
        scope: 'beta',
        name: '#okta-flows',
        secret: 'https://own.example/hook',
      }),
      rec({ kind: 'slack', id: 's4', scope: 'acme', name: '#ops', secret: null }),
      rec({ kind: 'slack', id: 's5', scope: 'acme', name: '#iam', secret: null }),
      rec({ kind: 'slack', id: 's6', scope: 'gone', name: '#x', secret: null }),
    ]);
    const s = m.config.slack;
    expect(s.get('acme-alerts')).toEqual({
      name: 'Acme-alerts',
      url: 'https://hooks.example/acme',
      channel: '#alerts',
    });
    expect(s.get('beta-alerts')?.url).toBe('https://hooks.example/beta');
    // Two accounts have #alerts: the short handle is ambiguous and resolves to nothing.
    expect(s.has('alerts')).toBe(false);
    // A channel given its own webhook posts there, without `channel`.
    expect(s.get('okta-flows')).toEqual({ name: 'beta-okta-flows', url: 'https://own.example/hook' });
    expect(s.get('beta-okta-flows')).toBe(s.get('okta-flows'));
    // The file's @slack-ops wins the short handle; the full one is the API's.
    expect(s.get('ops')?.url).toBe('https://file.example/ops');
    expect(s.get('acme-ops')?.channel).toBe('#ops');
    expect(m.conflicts.get('slack/s4')).toMatch(/@slack-ops/);
    // The file defines acme-iam itself.
    expect(s.get('acme-iam')?.url).toBe('https://file.example/acme-iam');
    expect(s.get('iam')?.channel).toBe('#iam');
    expect(m.conflicts.get('slack/s5')).toMatch(/@slack-acme-iam/);
    // An account without a webhook URL: not deliverable, and said why.
    expect(s.has('gone-x')).toBe(false);
    expect(m.unresolved.get('slack/s6')).toMatch(/notifications\.slack\.accounts\.gone\.url/);
  });
});
