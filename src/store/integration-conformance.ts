// The conformance suite of IntegrationStore (recipients of Datadog's integration APIs), for every Store.
import { describe, expect, it } from 'vitest';
import type { IntegrationRecord } from './integrations.ts';
import type { Store } from './store.ts';

const rec = (over: Partial<IntegrationRecord>): IntegrationRecord => ({
  kind: 'pagerduty',
  id: 'x',
  scope: '',
  name: 'x',
  secret: 'k',
  attributes: {},
  created_at: 1,
  modified_at: 1,
  ...over,
});

/** Runs the integration store suite against a store factory. */
export function integrationStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`IntegrationStore conformance: ${name}`, () => {
    it('keeps names unique per kind and scope, case-insensitively, and ids per kind', async () => {
      const s = (await open()).integrations;
      expect(await s.insertIntegration(rec({ id: 'Ops', name: 'Ops' }))).toBe(true);
      expect(await s.insertIntegration(rec({ id: 'ops2', name: 'OPS' }))).toBe(false);
      expect(await s.insertIntegration(rec({ id: 'Ops', name: 'other' }))).toBe(false);
      // Same name, other kind or other scope: no clash.
      expect(await s.insertIntegration(rec({ kind: 'opsgenie', id: 'u1', name: 'ops' }))).toBe(true);
      expect(await s.insertIntegration(rec({ kind: 'slack', id: 's1', scope: 'a', name: '#ops' }))).toBe(
        true,
      );
      expect(await s.insertIntegration(rec({ kind: 'slack', id: 's2', scope: 'B', name: '#ops' }))).toBe(
        true,
      );
      expect(await s.insertIntegration(rec({ kind: 'slack', id: 's3', scope: 'b', name: '#OPS' }))).toBe(
        false,
      );
      expect((await s.findIntegration('slack', 'A', '#Ops'))?.id).toBe('s1');
      expect((await s.findIntegration('pagerduty', '', 'ops'))?.name).toBe('Ops');
      expect(await s.findIntegration('pagerduty', '', 'nope')).toBeUndefined();
      expect((await s.listIntegrations('slack')).map((r) => `${r.scope}/${r.name}`)).toEqual([
        'a/#ops',
        'B/#ops',
      ]);
    });

    it('keeps attributes and secrets, replaces by id (renames without clashing) and deletes', async () => {
      const s = (await open()).integrations;
      await s.insertIntegration(rec({ kind: 'opsgenie', id: 'u1', name: 'a', attributes: { region: 'eu' } }));
      await s.insertIntegration(rec({ kind: 'opsgenie', id: 'u2', name: 'b' }));
      expect(await s.getIntegration('opsgenie', 'u1')).toEqual(
        rec({ kind: 'opsgenie', id: 'u1', name: 'a', attributes: { region: 'eu' } }),
      );
      expect(await s.getIntegration('pagerduty', 'u1')).toBeUndefined();
      expect(await s.replaceIntegration(rec({ kind: 'opsgenie', id: 'u1', name: 'B' }))).toBe('conflict');
      expect(await s.replaceIntegration(rec({ kind: 'opsgenie', id: 'nope', name: 'c' }))).toBe('missing');
      const next = rec({
        kind: 'opsgenie',
        id: 'u1',
        name: 'c',
        secret: 'k2',
        attributes: {},
        modified_at: 9,
      });
      expect(await s.replaceIntegration(next)).toBe('ok');
      expect(await s.getIntegration('opsgenie', 'u1')).toEqual(next);
      expect(await s.deleteIntegration('opsgenie', 'u1')).toBe(true);
      expect(await s.deleteIntegration('opsgenie', 'u1')).toBe(false);
      expect((await s.listIntegrations('opsgenie')).map((r) => r.name)).toEqual(['b']);
    });
  });
}
