// Bundling and the dead-letter fallback in the durable outbox, on a real SQLite file and real local HTTP
// receivers, with an injected clock: held alerts survive restarts and go out once, in one summary, when the
// window closes; a recovery waits behind the summary that holds its trigger; a dead job tells the fallback
// recipient what failed, and a failed notice never starts another.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleEvent } from '../../test/helpers/notify.ts';
import { type Receiver, startReceiver } from '../../test/helpers/receiver.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { emptyNotificationsConfig } from './config.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';

const T0 = Date.parse('2026-11-27T03:00:00Z');
const WINDOW = 5 * 60_000;
let dir: string;
let store: SqliteStore;
let rx: Receiver;
let fb: Receiver;
let clock = T0;
const notifiers: Notifier[] = [];

async function until<T>(f: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 300));

function notifier(over: Partial<NotifierOptions> = {}): Notifier {
  const n = new Notifier({
    store: store.notifications,
    registry: new Registry(),
    retry: { baseMs: 10, maxMs: 50 },
    deadLetterAfterMs: 60 * 60_000,
    now: () => clock,
    bundleWindows: async () => () => WINDOW,
    ...over,
  });
  notifiers.push(n);
  n.start();
  return n;
}

async function alert(flow: string, over: Record<string, unknown> = {}) {
  const e = sampleEvent({ group: { '@flow_name': flow }, ...over });
  const [rec] = await store.saveMonitorProgress(
    [],
    [{ monitor_id: 7, group_key: `@flow_name:${flow}`, at: clock, body: e.body }],
  );
  return rec!;
}
const recovery = (flow: string) =>
  alert(flow, { transition: 'Recovered', from: 'Alert', to: 'OK', title: `[Recovered] ${flow}` });

const hook = (name: string, url: string) =>
  store.notifications.insertWebhook({
    name,
    url,
    payload: '{"title": "$EVENT_TITLE", "n": $BUNDLE_COUNT, "body": "$TEXT_ONLY_MSG"}',
    custom_headers: null,
    encode_as: 'json',
    created_at: 0,
    modified_at: 0,
  });
const titles = (r: Receiver) => r.requests.map((q) => (JSON.parse(q.body) as { title: string }).title);

beforeEach(async () => {
  clock = T0;
  dir = mkdtempSync(path.join(tmpdir(), 'fw-bundle-'));
  store = new SqliteStore({ dataDir: dir });
  rx = await startReceiver();
  fb = await startReceiver();
  await hook('ops', `${rx.url}/hook`);
  await hook('fallback', `${fb.url}/fallback`);
});

afterEach(async () => {
  for (const n of notifiers.splice(0)) await n.stop(0);
  await rx.close();
  await fb.close();
  await store.close();
});

describe('bundling in the outbox', () => {
  it('sends the first alert at once; the held ones survive restarts and go out once, as one summary', async () => {
    let n = notifier();
    await alert('Flow 01');
    n.wake();
    await rx.waitFor(1);
    for (let i = 2; i <= 5; i++) {
      clock += 10_000;
      await alert(`Flow 0${i}`);
      n.wake();
    }
    await until(async () => (await store.notifications.countJobs()).pending === 5); // 4 held + the summary
    await settle();
    expect(rx.requests).toHaveLength(1);
    const held = (await store.notifications.listJobs({ limit: 20 })).filter((j) => j.bundle_id !== null);
    expect(held).toHaveLength(4);

    // A restart inside the window: nothing is lost, nothing sent early.
    await n.stop(0);
    n = notifier();
    await settle();
    expect(rx.requests).toHaveLength(1);

    // The window closes: one summary naming the four.
    clock = T0 + WINDOW;
    n.wake();
    await rx.waitFor(2);
    const summary = JSON.parse(rx.requests[1]!.body) as { title: string; n: number; body: string };
    expect(summary.n).toBe(4);
    expect(summary.title).toBe(
      '[Bundled] 4 more flows failing (Okta flow failures): Flow 02, Flow 03, Flow 04, Flow 05',
    );
    expect(summary.body).toContain('- Triggered: Okta flow failures on @flow_name:Flow 05');
    await until(async () => (await store.notifications.countJobs()).pending === 0);
    expect(await store.notifications.countJobs()).toEqual({ pending: 0, delivered: 6, dead: 0 });

    // Another restart after delivery: never sent twice.
    await n.stop(0);
    n = notifier();
    clock += WINDOW;
    n.wake();
    await settle();
    expect(rx.requests).toHaveLength(2);

    // After the window an alert goes out at once again, opening a new window.
    await alert('Flow 06');
    n.wake();
    await rx.waitFor(3);
    expect(titles(rx)[2]).toMatch(/^\[P2\] \[Triggered on \{@flow_name:Sync Users\}\]/);
  });

  it('delivers a recovery on its own, after the summary that holds its trigger', async () => {
    const n = notifier();
    await alert('Flow 01');
    n.wake();
    await rx.waitFor(1);
    clock += 1000;
    await alert('Flow 02'); // held
    clock += 1000;
    await recovery('Flow 02'); // never held, but waits behind its trigger
    clock += 1000;
    await recovery('Flow 01'); // its trigger went out: sent at once
    n.wake();
    await rx.waitFor(2);
    await settle();
    expect(titles(rx)).toEqual([expect.stringContaining('[Triggered'), '[Recovered] Flow 01']);
    clock = T0 + WINDOW;
    n.wake();
    await rx.waitFor(4);
    expect(titles(rx).slice(2)).toEqual([
      '[Bundled] 1 more flow failing (Okta flow failures): Flow 02',
      '[Recovered] Flow 02',
    ]);
  });

  it('does not bundle when the window is 0 (off), nor recoveries', async () => {
    const n = notifier({ bundleWindows: async () => () => 0 });
    for (let i = 1; i <= 3; i++) await alert(`Flow 0${i}`);
    n.wake();
    await rx.waitFor(3);
    expect(titles(rx).every((t) => t.includes('[Triggered'))).toBe(true);
  });
});

describe('dead-letter fallback', () => {
  const config = (notify: string[]) => () => ({ ...emptyNotificationsConfig(), dead_letter_notify: notify });

  it('tells the fallback recipient what failed and why; a failed notice starts no other', async () => {
    rx.otherwise = { status: 400, body: 'bad' };
    fb.otherwise = { status: 410, body: 'gone' };
    const n = notifier({ bundleWindows: undefined, channelConfig: config(['webhook-fallback']) });
    const e = await alert('Flow 01');
    n.wake();
    await fb.waitFor(1);
    const notice = JSON.parse(fb.requests[0]!.body) as { title: string; body: string };
    expect(notice.title).toBe(
      '[Flowwatch] Notification to @webhook-ops failed: [P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
    );
    expect(notice.body).toContain(`http_4xx: webhook "ops" (POST ${rx.url}/hook) answered 400`);
    await until(async () => (await store.notifications.countJobs()).dead === 2);
    await settle();
    const all = await store.notifications.listJobs({ limit: 10 });
    expect(all.map((j) => `${j.kind}:${j.handle}:${j.state}`).sort()).toEqual([
      'alert:@webhook-ops:dead',
      'fallback:@webhook-fallback:dead',
    ]);
    expect(all.find((j) => j.kind === 'fallback')).toMatchObject({ event_id: e.id, last_reason: 'http_4xx' });
    expect(fb.requests).toHaveLength(1);
    expect(rx.requests).toHaveLength(1);
  });

  it('a dead summary takes its alerts along, is reported once, and a retry delivers them all', async () => {
    const n = notifier({ channelConfig: config(['@webhook-fallback']) });
    await alert('Flow 01');
    n.wake();
    await rx.waitFor(1);
    clock += 1000;
    await alert('Flow 02');
    await alert('Flow 03');
    n.wake();
    await until(async () => (await store.notifications.countJobs()).pending === 3);
    rx.otherwise = { status: 400, body: 'bad' };
    clock = T0 + WINDOW;
    n.wake();
    await fb.waitFor(1);
    expect((JSON.parse(fb.requests[0]!.body) as { title: string }).title).toBe(
      '[Flowwatch] Notification to @webhook-ops failed: [Bundled] 2 more flows failing (Okta flow failures): Flow 02, Flow 03',
    );
    await until(async () => (await store.notifications.countJobs()).dead === 3);
    const summary = (await store.notifications.listJobs({ limit: 10 })).find((j) => j.kind === 'summary')!;
    rx.otherwise = { status: 200, body: 'ok' };
    expect((await n.retry(summary.id))?.state).toBe('pending');
    await rx.waitFor(3);
    await until(async () => (await store.notifications.countJobs()).delivered === 5);
    expect(fb.requests).toHaveLength(1);
    const jobs = await store.notifications.listJobs({ limit: 10 });
    expect(jobs.map((j) => `${j.kind}:${j.state}:${j.attempts}:${j.last_error}`)).toEqual([
      'fallback:delivered:1:null',
      'alert:delivered:0:null',
      'alert:delivered:0:null',
      'summary:delivered:1:null',
      'alert:delivered:1:null',
    ]);
  });
});
