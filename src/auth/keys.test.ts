import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { bootstrapKeys, generateKey, hashKey, Keyring, keyRecord } from './keys.ts';

const store = () => new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-keys-')) });

describe('keys', () => {
  it('generates Datadog-shaped keys and stores only a hash and a hint', () => {
    expect(generateKey('api')).toMatch(/^[0-9a-f]{32}$/);
    expect(generateKey('app')).toMatch(/^[0-9a-f]{40}$/);
    const rec = keyRecord('api', 'ci', 'secret-key-1234', 0);
    expect(rec.hash).toBe(hashKey('secret-key-1234'));
    expect(JSON.stringify(rec)).not.toContain('secret-key-1234');
    expect(rec.hint).toBe('1234');
  });

  it('checks missing, invalid, wrong-kind and valid keys, and forgets revoked ones on reload', async () => {
    const s = store();
    await s.insertKey(keyRecord('api', 'a', 'api-1', 0));
    await s.insertKey(keyRecord('app', 'b', 'app-1', 0));
    const ring = new Keyring(s);
    await ring.reload();
    expect(ring.check('api', undefined)).toBe('missing');
    expect(ring.check('api', '  ')).toBe('missing');
    expect(ring.check('api', 'nope')).toBe('invalid');
    expect(ring.check('api', 'app-1')).toBe('invalid');
    expect(ring.check('api', 'api-1')).toBe('ok');
    expect(ring.check('api', 'api-1')).toBe('ok');
    await s.revokeKey('a', 1);
    await ring.reload();
    expect(ring.check('api', 'api-1')).toBe('invalid');
    await s.close();
  });

  it('bootstraps env keys once, generates missing kinds, and refuses clashing keys clearly', async () => {
    const s = store();
    const first = await bootstrapKeys(s, { FLOWWATCH_API_KEY: 'env-api' }, 0);
    expect(first.generated.api).toBeUndefined();
    expect(first.generated.app).toMatch(/^[0-9a-f]{40}$/);
    const again = await bootstrapKeys(s, { FLOWWATCH_API_KEY: 'env-api' }, 0);
    expect(again.generated).toEqual({});
    expect(await s.listKeys()).toHaveLength(2);
    await expect(bootstrapKeys(s, { FLOWWATCH_APP_KEY: 'env-api' }, 0)).rejects.toThrow(
      /already stored as an api key/,
    );
    await expect(
      bootstrapKeys(s, { FLOWWATCH_API_KEY: 'same', FLOWWATCH_APP_KEY: 'same' }, 0),
    ).rejects.toThrow(/are the same/);
    await s.revokeKey('FLOWWATCH_API_KEY', 1);
    const revoked = await bootstrapKeys(s, { FLOWWATCH_API_KEY: 'env-api' }, 0);
    expect(revoked.warnings[0]).toMatch(/was revoked/);
    await s.close();
  });
});
