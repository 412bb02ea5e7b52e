// A 202 from intake means the log is committed: SIGKILL the server in the middle of a load of ELS posts,
// restart it on the same data directory, and every acknowledged event must be there, once.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { appHeaders, tempDir } from '../helpers/server.ts';
import { countByExecution, killAll, loadGenerator, type Server, searchAll, serve, sleep } from './helpers.ts';

const dirs: string[] = [];

afterEach(async () => {
  await killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('durability of acknowledged logs', () => {
  it('keeps every event answered 202 across a SIGKILL in the middle of the load, and stores none twice', async () => {
    const dataDir = tempDir('flowwatch-durability-');
    dirs.push(dataDir);
    const first: Server = await serve(['--data-dir', dataDir]);

    const load = loadGenerator(first.url, 20);
    const started = Date.now();
    // Kill after ~1.5 s of load; keep going a little longer (at most 8 s) until a few thousand are acked.
    await sleep(1500);
    while (load.acked.length < 3000 && Date.now() - started < 8000) await sleep(50);
    const inFlightAtKill = load.sent.size - [...load.statuses.values()].reduce((a, b) => a + b, 0);
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    await load.stop();
    const acked = [...load.acked];

    expect(exit.signal).toBe('SIGKILL');
    expect(acked.length, `statuses: ${JSON.stringify(Object.fromEntries(load.statuses))}`).toBeGreaterThan(
      500,
    );
    // the kill really happened mid-load: requests were still open when the process died
    expect(inFlightAtKill).toBeGreaterThan(0);
    // nothing but 202, "server busy" and dropped connections
    for (const status of load.statuses.keys())
      expect(['202', '503', 'TypeError', 'AbortError', 'TimeoutError']).toContain(status);

    const second = await serve(['--data-dir', dataDir]);
    const logs = await searchAll(second.url, appHeaders);
    const found = countByExecution(logs);

    const missing = acked.filter((id) => !found.has(id));
    expect(
      missing,
      `${missing.length} of ${acked.length} acknowledged events are missing after the crash`,
    ).toEqual([]);
    const twice = [...found].filter(([, n]) => n > 1);
    expect(twice, 'events stored more than once').toEqual([]);
    // and the store holds nothing that was never sent
    const unknown = [...found.keys()].filter((id) => !load.sent.has(id));
    expect(unknown).toEqual([]);
    // events that were in flight at the kill may or may not be there, but no more than were sent
    expect(found.size).toBeGreaterThanOrEqual(acked.length);
    expect(found.size).toBeLessThanOrEqual(load.sent.size);
  }, 60_000);
});
