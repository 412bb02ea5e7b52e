// API keys (intake) and application keys (read and manage): generated, stored as sha256 hashes,
// compared in constant time, reloaded when another process (the CLI) changes them.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { KeyRecord, Store } from '../store/store.ts';

/** The two kinds of key, as Datadog has them. */
export type KeyKind = 'api' | 'app';

/** Result of checking a presented key. */
export type KeyCheck = 'ok' | 'missing' | 'invalid';

/** A new random key: 32 hex characters for API keys and 40 for application keys, as Datadog's. */
export function generateKey(kind: KeyKind): string {
  return randomBytes(kind === 'api' ? 16 : 20).toString('hex');
}

/** sha256 of a key, hex. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Builds the stored record of a key; the secret itself is not kept. */
export function keyRecord(kind: KeyKind, name: string, key: string, now: number): KeyRecord {
  return {
    id: randomUUID(),
    kind,
    name,
    hash: hashKey(key),
    hint: key.slice(-4),
    created_at: now,
    revoked_at: null,
  };
}

/** The in-memory set of active keys used on every request. */
export class Keyring {
  private active = new Map<string, KeyRecord>();
  /** presented key → kind it is valid for; skips hashing on every request, cleared on reload */
  private valid = new Map<string, KeyKind>();

  constructor(private readonly store: Store) {}

  /** Reloads the keys from the store. */
  async reload(): Promise<void> {
    const next = new Map<string, KeyRecord>();
    for (const k of await this.store.listKeys())
      if (k.revoked_at === null) next.set(`${k.kind}:${k.hash}`, k);
    this.active = next;
    this.valid = new Map();
  }

  /** Reloads only when another process changed the database. */
  async refreshIfChanged(): Promise<void> {
    if (await this.store.changedElsewhere()) await this.reload();
  }

  /** Checks a presented key of a kind: missing or empty, unknown or revoked, or valid. */
  check(kind: KeyKind, presented: string | undefined): KeyCheck {
    if (presented === undefined || presented.trim() === '') return 'missing';
    if (this.valid.get(presented) === kind) return 'ok';
    const hash = hashKey(presented.trim());
    const rec = this.active.get(`${kind}:${hash}`);
    if (!rec) return 'invalid';
    if (!timingSafeEqual(Buffer.from(rec.hash, 'hex'), Buffer.from(hash, 'hex'))) return 'invalid';
    // Only valid keys are remembered (a handful), so garbage keys cannot grow the map.
    if (this.valid.size < 1000) this.valid.set(presented, kind);
    return 'ok';
  }

  /** Number of active keys of a kind. */
  count(kind: KeyKind): number {
    let n = 0;
    for (const k of this.active.values()) if (k.kind === kind) n++;
    return n;
  }
}

/** What bootstrap did, for the start-up banner; `generated` keys are shown once and never again. */
export interface BootstrapResult {
  generated: { api?: string; app?: string };
  warnings: string[];
}

/**
 * Honours FLOWWATCH_API_KEY / FLOWWATCH_APP_KEY (stored as hashes on first sight) and, when a kind has no
 * active key at all, generates one. A bootstrap key revoked with `flowwatch keys revoke` stays revoked.
 */
export async function bootstrapKeys(
  store: Store,
  env: NodeJS.ProcessEnv,
  now: number,
): Promise<BootstrapResult> {
  const result: BootstrapResult = { generated: {}, warnings: [] };
  if (env.FLOWWATCH_API_KEY?.trim() && env.FLOWWATCH_API_KEY.trim() === env.FLOWWATCH_APP_KEY?.trim()) {
    throw new Error(
      'FLOWWATCH_API_KEY and FLOWWATCH_APP_KEY are the same: an application key must differ from the API key',
    );
  }
  const existing = await store.listKeys();
  for (const [kind, name] of [
    ['api', 'FLOWWATCH_API_KEY'],
    ['app', 'FLOWWATCH_APP_KEY'],
  ] as const) {
    const value = env[name]?.trim();
    if (!value) continue;
    const hash = hashKey(value);
    const clash = existing.find((k) => k.hash === hash && k.kind !== kind);
    if (clash) {
      throw new Error(
        `${name} is already stored as an ${clash.kind} key ("${clash.name}", id ${clash.id}): API and application keys must differ`,
      );
    }
    const found = existing.find((k) => k.hash === hash && k.kind === kind);
    if (!found) {
      const rec = { ...keyRecord(kind, name, value, now) };
      await store.insertKey(rec);
      existing.push(rec);
    } else if (found.revoked_at !== null) {
      result.warnings.push(
        `${name} was revoked (key ${found.id}); it is not accepted. Set a new value or create a key.`,
      );
    }
  }
  for (const kind of ['api', 'app'] as const) {
    if (existing.some((k) => k.kind === kind && k.revoked_at === null)) continue;
    const key = generateKey(kind);
    await store.insertKey(keyRecord(kind, `generated at first start`, key, now));
    result.generated[kind] = key;
  }
  return result;
}
