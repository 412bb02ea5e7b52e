// The durable outbox on a real SQLite file and a real local HTTP receiver: one job per recipient, retries
// (500, 429 with Retry-After), no retry on 400, dead letter and retry, unknown handles, order within a
// queue, and restarts (during a send, and between save and dispatch) without loss or duplicate.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleEvent } from '../../test/helpers/notify.ts';
import { type Receiver, startReceiver } from '../../test/helpers/receiver.ts';
import type { NotificationJob } from '../store/notifications.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { ChannelRegistry } from './channel.ts';
import { backoffMs, DeliveryWorker } from './deliver.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import { Dispatcher } from './outbox.ts';

let dir: string;
let store: SqliteStore;
let rx: Receiver;
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

function notifier(over: Partial<NotifierOptions> = {}): Notifier {
  const n = new Notifier({
    store: store.notifications,
    registry: new Registry(),
    retry: { baseMs: 10, maxMs: 50 },
    deadLetterAfterMs: 60_000,
    ...over,
  });
  notifiers.push(n);
  n.start();
  return n;
}

async function addEvent(over: Record<string, unknown> = {}, groupKey = '@flow_name:Sync Users') {
  const e = sampleEvent(over);
  const [rec] = await store.saveMonitorProgress(
    [],
    [{ monitor_id: e.monitor_id, group_key: groupKey, at: Date.now(), body: e.body }],
  );
  return rec!;
}

/** Dispatches the saved events into jobs, then starts a delivery worker on them (fast retries). */
async function dispatchAndDeliver(
  registry: ChannelRegistry,
  over: Partial<ConstructorParameters<typeof DeliveryWorker>[0]> = {},
): Promise<DeliveryWorker> {
  await new Dispatcher({ store: store.notifications, registry, deadLetterAfterMs: 60_000 }).dispatch();
  const worker = new DeliveryWorker({
    store: store.notifications,
    registry,
    retry: { baseMs: 10, maxMs: 50 },
    ...over,
  });
  worker.wake();
  return worker;
}

const jobs = async (state?: NotificationJob['state']) => store.notifications.listJobs({ state, limit: 100 });
const jobOf = async (eventId: number, handle = '@webhook-ops') =>
  (await jobs()).find((j) => j.event_id === eventId && j.handle === handle);

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fw-notify-'));
  store = new SqliteStore({ dataDir: dir });
  rx = await startReceiver();
  await store.notifications.insertWebhook({
    name: 'ops',
    url: `${rx.url}/hook`,
    payload: null,
    custom_headers: null,
    encode_as: 'json',
    created_at: 0,
    modified_at: 0,
  });
});

afterEach(async () => {
  for (const n of notifiers.splice(0)) await n.stop(0);
  await rx.close();
  await store.close();
});

describe('delivery outbox', () => {
  it('creates one job per distinct handle of a notifying, unmuted event, and delivers it once', async () => {
    const n = notifier();
    const e = await addEvent({ handles: ['@webhook-ops', '@WEBHOOK-OPS', '@slack-okta'] });
    await addEvent({ notify: false });
    await addEvent({ muted: true });
    n.wake();
    const [req] = await rx.waitFor(1);
    expect(req!.url).toBe('/hook');
    expect(JSON.parse(req!.body).id).toBe(String(e.id));
    const j = await until(async () => {
      const x = await jobOf(e.id);
      return x?.state === 'delivered' ? x : undefined;
    });
    expect(j).toMatchObject({ idempotency_key: `${e.id}:@webhook-ops`, attempts: 1, last_status: 200 });
    const all = await jobs();
    expect(all.map((x) => x.handle).sort()).toEqual(['@slack-okta', '@webhook-ops']);
    // no Slack channel "okta" is configured: dead letter at once, with the reason
    expect(all.find((x) => x.handle === '@slack-okta')).toMatchObject({
      state: 'dead',
      last_reason: 'unknown_handle',
    });
    n.wake();
    await n.stop();
    expect(rx.requests).toHaveLength(1);
  });

  it("posts Datadog's default payload as JSON, and a form-encoded payload with custom headers", async () => {
    await store.notifications.insertWebhook({
      name: 'form',
      url: `${rx.url}/form`,
      payload: '{"title": "$EVENT_TITLE", "text": "$TEXT_ONLY_MSG", "monitor": $ALERT_ID}',
      custom_headers: '{"X-Token": "t0k"}',
      encode_as: 'form',
      created_at: 0,
      modified_at: 0,
    });
    const n = notifier();
    const e = await addEvent({ handles: ['@webhook-ops', '@webhook-form'] });
    n.wake();
    const reqs = await rx.waitFor(2);
    const json = reqs.find((r) => r.url === '/hook')!;
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body)).toEqual({
      body: expect.stringMatching(/^%%%\nSync Users failed: "Workday" said\n503/),
      last_updated: String(e.at),
      event_type: 'log_alert_monitor',
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      date: String(e.at),
      org: { id: '0', name: 'Flowwatch' },
      id: String(e.id),
    });
    const form = reqs.find((r) => r.url === '/form')!;
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(form.headers['x-token']).toBe('t0k');
    const fields = new URLSearchParams(form.body);
    expect(fields.get('text')).toContain('Sync Users failed: "Workday" said\n503');
    expect(fields.get('monitor')).toBe('7');
  });

  it('retries 500s with backoff until delivered', async () => {
    rx.script = [{ status: 500 }, { status: 502 }];
    const n = notifier();
    const e = await addEvent();
    n.wake();
    await rx.waitFor(3);
    const j = await until(async () => {
      const x = await jobOf(e.id);
      return x?.state === 'delivered' ? x : undefined;
    });
    expect(j.attempts).toBe(3);
    expect(rx.requests.map((r) => r.status)).toEqual([500, 502, 200]);
  });

  it('honours Retry-After on 429', async () => {
    rx.script = [{ status: 429, headers: { 'retry-after': '1' } }];
    const n = notifier();
    const e = await addEvent();
    n.wake();
    await rx.waitFor(1);
    const waiting = await until(async () => {
      const x = await jobOf(e.id);
      return x?.attempts === 1 ? x : undefined;
    });
    expect(waiting).toMatchObject({ state: 'pending', last_status: 429, last_reason: 'rate_limited' });
    expect(waiting.next_attempt_at - waiting.updated_at).toBeGreaterThanOrEqual(1000);
    await rx.waitFor(2);
    await until(async () => (await jobOf(e.id))?.state === 'delivered');
  });

  it('does not retry a 400, and names unknown webhooks', async () => {
    rx.script = [{ status: 400 }];
    const n = notifier();
    const e = await addEvent({ handles: ['@webhook-ops', '@webhook-nope'] });
    n.wake();
    const dead = await until(async () => {
      const x = await jobOf(e.id);
      return x?.state === 'dead' ? x : undefined;
    });
    expect(dead).toMatchObject({ attempts: 1, last_status: 400, last_reason: 'http_4xx' });
    expect(dead.last_error).toContain('answered 400');
    expect(dead.last_error).not.toContain('?');
    const unknown = await until(async () => {
      const x = await jobOf(e.id, '@webhook-nope');
      return x?.state === 'dead' ? x : undefined;
    });
    expect(unknown.last_reason).toBe('unknown_handle');
    expect(unknown.last_error).toMatch(/no webhook named "nope"/);
    expect(rx.requests).toHaveLength(1);
  });

  it('dead-letters a job still failing at its deadline, and a retry delivers it', async () => {
    rx.otherwise = { status: 503 };
    const n = notifier({ deadLetterAfterMs: 300 });
    const e = await addEvent();
    n.wake();
    const dead = await until(async () => {
      const x = await jobOf(e.id);
      return x?.state === 'dead' ? x : undefined;
    });
    expect(dead.last_reason).toBe('expired');
    expect(dead.last_error).toMatch(
      /still failing at the deadline after \d+ attempts: webhook "ops" .* answered 503/,
    );
    rx.otherwise = { status: 204 };
    const again = await n.retry(dead.id);
    expect(again).toMatchObject({ state: 'pending', attempts: 0 });
    await until(async () => (await jobOf(e.id))?.state === 'delivered');
  });

  it('delivers the transitions of one alert to one recipient in order', async () => {
    rx.script = [{ status: 500 }];
    const n = notifier();
    const t = await addEvent();
    const r = await addEvent({ transition: 'Recovered', from: 'Alert', to: 'OK' });
    n.wake();
    await rx.waitFor(3);
    expect(rx.requests.map((x) => [JSON.parse(x.body).id, x.status])).toEqual([
      [String(t.id), 500],
      [String(t.id), 200],
      [String(r.id), 200],
    ]);
  });

  it('a restart during a send loses nothing and never re-sends a delivered job', async () => {
    const n1 = notifier();
    const first = await addEvent();
    n1.wake();
    await until(async () => (await jobOf(first.id))?.state === 'delivered');
    rx.script = ['hold'];
    const second = await addEvent();
    n1.wake();
    await rx.waitFor(2);
    // stop while the receiver holds the request: the job stays pending
    await n1.stop(50);
    expect((await jobOf(second.id))?.state).toBe('pending');
    await store.close();
    store = new SqliteStore({ dataDir: dir });
    notifier();
    await until(async () => (await jobOf(second.id))?.state === 'delivered');
    const ok = rx.requests.filter((x) => x.status === 200).map((x) => JSON.parse(x.body).id);
    expect(ok).toEqual([String(first.id), String(second.id)]);
    expect(rx.requests).toHaveLength(3);
  });

  it('records a send the receiver accepted as delivered even when a stop aborted it meanwhile', async () => {
    // The receiver's 2xx arrives just as the stop's grace ends: the answer is known, so the job must not
    // stay pending (the next start would send it a second time).
    let sends = 0;
    const registry = new ChannelRegistry().add({
      name: 'webhook',
      send: (d) =>
        new Promise((resolve) => {
          sends++;
          d.signal.addEventListener('abort', () => resolve({ ok: true, status: 200 }), { once: true });
        }),
    });
    const e = await addEvent();
    const worker = await dispatchAndDeliver(registry);
    await until(async () => sends === 1);
    await worker.stop(20);
    expect((await jobOf(e.id))?.state).toBe('delivered');
  });

  it('dead-letters a job whose channel throws instead of trying it again in a tight loop', async () => {
    let sends = 0;
    const registry = new ChannelRegistry().add({
      name: 'webhook',
      send: async () => {
        sends++;
        throw new TypeError('a bug in the payload builder');
      },
    });
    const e = await addEvent();
    const worker = await dispatchAndDeliver(registry);
    const job = await until(async () => {
      const j = await jobOf(e.id);
      return j?.state === 'dead' && j;
    });
    await new Promise((r) => setTimeout(r, 100));
    await worker.stop(0);
    expect(sends).toBe(1);
    expect(job).toMatchObject({ last_reason: 'bad_config', attempts: 1 });
    expect(job.last_error).toContain('a bug in the payload builder');
  });

  it('waits for the next poll when recording an attempt fails, instead of starving the event loop', async () => {
    let sends = 0;
    const registry = new ChannelRegistry().add({
      name: 'webhook',
      send: async () => {
        sends++;
        return { ok: true, status: 200 };
      },
    });
    let refusals = 1;
    const notifications = store.notifications;
    const flaky = Object.create(notifications) as typeof notifications;
    flaky.recordAttempt = async (id, r) => {
      if (refusals-- > 0) throw new Error('SQLITE_BUSY: database is locked');
      return notifications.recordAttempt(id, r);
    };
    const e = await addEvent();
    const worker = await dispatchAndDeliver(registry, { store: flaky, pollMs: 100 });
    // A timer fires: the loop yields (before the fix, the same job was taken again at once, forever).
    await new Promise((r) => setTimeout(r, 30));
    expect(sends).toBe(1);
    await until(async () => (await jobOf(e.id))?.state === 'delivered');
    await worker.stop(0);
    expect(sends).toBe(2);
  });

  it('dispatches events saved before a crash at the next start', async () => {
    const e = await addEvent();
    expect(await jobs()).toHaveLength(0);
    notifier();
    await rx.waitFor(1);
    await until(async () => (await jobOf(e.id))?.state === 'delivered');
  });

  it('reports deliveries and dead letters in metrics', async () => {
    rx.script = [{ status: 400 }];
    const registry = new Registry();
    const n = notifier({ registry });
    const a = await addEvent();
    n.wake();
    await until(async () => (await jobOf(a.id))?.state === 'dead');
    const b = await addEvent({}, 'other');
    n.wake();
    await until(async () => (await jobOf(b.id))?.state === 'delivered');
    const text = await registry.metrics();
    expect(text).toContain('flowwatch_notify_deliveries_total{channel="webhook",outcome="delivered"} 1');
    expect(text).toContain('flowwatch_notify_dead_letters_total{channel="webhook",reason="http_4xx"} 1');
    expect(text).toContain('flowwatch_notify_jobs{state="dead"} 1');
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = { baseMs: 1000, maxMs: 8000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, p, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffMs(3, p, () => 0)).toBe(2000);
  });
});
