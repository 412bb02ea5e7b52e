// The conformance suite of NotificationStore (webhooks and the delivery outbox), for every Store.
import { describe, expect, it } from 'vitest';
import type { WebhookRecord } from './notifications.ts';
import type { Store } from './store.ts';

const hook = (name: string, over: Partial<WebhookRecord> = {}): WebhookRecord => ({
  name,
  url: 'https://example.com/h',
  payload: null,
  custom_headers: null,
  encode_as: 'json',
  created_at: 1,
  modified_at: 1,
  ...over,
});

async function event(store: Store, handles: string[], group = 'g') {
  const [e] = await store.saveMonitorProgress(
    [],
    [{ monitor_id: 1, group_key: group, at: 5, body: { handles } }],
  );
  return e!;
}

const plan = (e: { body: Record<string, unknown> }) => ({
  jobs: (e.body.handles as string[]).map((handle) => ({ handle, channel: 'webhook' })),
  deadline_at: 1000,
});

/** Runs the notification store suite against a store factory. */
export function notificationStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`NotificationStore conformance: ${name}`, () => {
    it('stores webhooks by name, case-insensitively, and renames without clashing', async () => {
      const s = (await open()).notifications;
      expect(await s.insertWebhook(hook('Ops'))).toBe(true);
      expect(await s.insertWebhook(hook('ops'))).toBe(false);
      expect(await s.insertWebhook(hook('dev', { encode_as: 'form', payload: '{}' }))).toBe(true);
      expect((await s.getWebhook('OPS'))?.name).toBe('Ops');
      expect((await s.listWebhooks()).map((w) => w.name)).toEqual(['dev', 'Ops']);
      expect(await s.replaceWebhook('ops', hook('dev'))).toBe('conflict');
      expect(await s.replaceWebhook('nope', hook('x'))).toBe('missing');
      expect(await s.replaceWebhook('ops', hook('oncall', { url: 'https://example.com/2' }))).toBe('ok');
      expect(await s.getWebhook('ops')).toBeUndefined();
      expect((await s.getWebhook('oncall'))?.url).toBe('https://example.com/2');
      expect(await s.deleteWebhook('ONCALL')).toBe(true);
      expect(await s.deleteWebhook('oncall')).toBe(false);
    });

    it('dispatches each event once into one job per handle, and marks it dispatched', async () => {
      const store = await open();
      const s = store.notifications;
      const e = await event(store, ['@webhook-a', '@webhook-b']);
      expect(await s.dispatchEvents(10, 100, plan)).toBe(1);
      expect(await s.dispatchEvents(10, 100, plan)).toBe(0);
      const jobs = await s.listJobs({ limit: 10 });
      expect(jobs.map((j) => j.idempotency_key).sort()).toEqual([`${e.id}:@webhook-a`, `${e.id}:@webhook-b`]);
      expect(jobs[0]).toMatchObject({
        state: 'pending',
        attempts: 0,
        next_attempt_at: 100,
        deadline_at: 1000,
      });
      const [stored] = await store.listMonitorEvents({ limit: 1 });
      expect(stored?.delivered_at).toBe(100);
    });

    it('lists jobs filtered by monitor and state, newest first', async () => {
      const store = await open();
      const s = store.notifications;
      const a = await event(store, ['@webhook-a', '@webhook-b']);
      const [b] = await store.saveMonitorProgress(
        [],
        [{ monitor_id: 2, group_key: 'g', at: 6, body: { handles: ['@webhook-a'] } }],
      );
      await s.dispatchEvents(10, 100, plan);
      expect((await s.listJobs({ limit: 10, monitorId: 2 })).map((j) => j.event_id)).toEqual([b!.id]);
      const first = await s.listJobs({ limit: 10, monitorId: 1 });
      expect(first.map((j) => [j.event_id, j.handle])).toEqual([
        [a.id, '@webhook-b'],
        [a.id, '@webhook-a'],
      ]);
      expect(await s.listJobs({ limit: 10, monitorId: 3 })).toEqual([]);
      expect(await s.listJobs({ limit: 10, monitorId: 2, state: 'dead' })).toEqual([]);
      expect(await s.listJobs({ limit: 1, monitorId: 1, beforeId: first[0]!.id })).toEqual([first[1]]);
    });

    it('offers only the due head of each queue, skipping busy queues, and records attempts', async () => {
      const store = await open();
      const s = store.notifications;
      const a = await event(store, ['@webhook-a']);
      const b = await event(store, ['@webhook-a']);
      const c = await event(store, ['@webhook-a'], 'other');
      await s.dispatchEvents(10, 100, plan);
      let due = await s.dueJobs(100, 10, new Set());
      expect(due.map((d) => d.event.id)).toEqual([a.id, c.id]);
      expect(due[0]?.event.body).toEqual({ handles: ['@webhook-a'] });
      const head = due[0]!.job;
      await s.recordAttempt(head.id, {
        kind: 'retry',
        at: 101,
        next_attempt_at: 200,
        status: 500,
        reason: 'http_5xx',
        error: 'x',
      });
      expect(await s.nextDue()).toBe(100);
      due = await s.dueJobs(150, 10, new Set([`@webhook-a\n1\nother`]));
      expect(due).toEqual([]);
      await s.recordAttempt(head.id, { kind: 'delivered', at: 201, status: 200 });
      due = await s.dueJobs(250, 10, new Set());
      expect(due.map((d) => d.event.id)).toEqual([b.id, c.id]);
      await s.recordAttempt(due[0]!.job.id, {
        kind: 'dead',
        at: 251,
        status: 400,
        reason: 'http_4xx',
        error: 'bad',
      });
      expect(await s.getJob(head.id)).toMatchObject({
        state: 'delivered',
        attempts: 2,
        delivered_at: 201,
        last_status: 200,
      });
      const dead = (await s.listJobs({ state: 'dead', limit: 10 }))[0]!;
      expect(dead).toMatchObject({ last_reason: 'http_4xx', last_error: 'bad', attempts: 1 });
      expect(await s.countJobs()).toEqual({ pending: 1, delivered: 1, dead: 1 });
      expect(await s.retryJob(dead.id, 300, 900)).toMatchObject({
        state: 'pending',
        attempts: 0,
        next_attempt_at: 300,
        deadline_at: 900,
      });
      expect((await s.retryJob(head.id, 300, 900))?.state).toBe('delivered');
    });

    it('lastJobs: the newest job not in dead letter of each recipient and group of a monitor, with its event', async () => {
      const store = await open();
      const s = store.notifications;
      const byPrefix = (e: { body: Record<string, unknown> }) => ({
        jobs: (e.body.handles as string[]).map((handle) => ({
          handle,
          channel: handle.slice(1).split('-')[0]!.toLowerCase(),
        })),
        deadline_at: 1000,
      });
      const first = await event(store, ['@pagerduty-a', '@webhook-x', '@opsgenie-b']);
      const again = await event(store, ['@PagerDuty-A']);
      const other = await event(store, ['@pagerduty-a'], 'h');
      await store.saveMonitorProgress(
        [],
        [{ monitor_id: 2, group_key: 'g', at: 5, body: { handles: ['@pagerduty-a'] } }],
      );
      await s.dispatchEvents(10, 100, byPrefix);
      const dead = (await s.listJobs({ limit: 10 })).find((j) => j.event_id === other.id)!;
      await s.recordAttempt(dead.id, {
        kind: 'dead',
        at: 101,
        status: 400,
        reason: 'http_4xx',
        error: 'bad',
      });
      const last = await s.lastJobs(1, ['pagerduty', 'opsgenie']);
      expect(last.map((d) => [d.job.handle, d.event.id])).toEqual([
        ['@opsgenie-b', first.id],
        ['@PagerDuty-A', again.id],
      ]);
      expect(last[1]!.event.body).toEqual({ handles: ['@PagerDuty-A'] });
      expect(await s.lastJobs(1, ['slack'])).toEqual([]);
      expect(await s.lastJobs(3, ['pagerduty'])).toEqual([]);
    });

    it("newerJob: a later delivered or bundled state of the group (of a summary: of its alerts' groups)", async () => {
      const store = await open();
      const s = store.notifications;
      const plain = await event(store, ['@webhook-b'], 'p');
      const plainLater = await event(store, ['@WEBHOOK-B'], 'p');
      await s.dispatchEvents(10, 100, plan);
      const jobs = async () => s.listJobs({ limit: 20 });
      const of = async (e: { id: number }) => (await jobs()).find((j) => j.event_id === e.id)!;
      const p1 = await of(plain);
      const p2 = await of(plainLater);
      // A later job still waiting is sent after a retried one: not out of date.
      expect(await s.newerJob(p1.id)).toBeUndefined();
      await s.recordAttempt(p2.id, { kind: 'delivered', at: 101, status: 200 });
      expect((await s.newerJob(p1.id))?.id).toBe(p2.id);
      expect(await s.newerJob(p2.id)).toBeUndefined();

      // Bundling: a lead alert, then two alerts held in its window (groups g and h) behind one summary.
      const lead = await event(store, ['@webhook-a'], 'g');
      const held1 = await event(store, ['@webhook-a'], 'g');
      const held2 = await event(store, ['@webhook-a'], 'h');
      await s.dispatchEvents(10, 200, (e, ctx) => {
        const open = ctx.openBundle('@webhook-a', 200);
        const bundle = open
          ? { kind: 'hold' as const, bundle_id: open.id }
          : { kind: 'lead' as const, closes_at: 10_000 };
        return { jobs: [{ handle: '@webhook-a', channel: 'webhook', bundle }], deadline_at: 20_000 };
      });
      const l = await of(lead);
      const h1 = await of(held1);
      const h2 = await of(held2);
      expect(h1.bundle_id).not.toBeNull();
      expect(h2.bundle_id).toBe(h1.bundle_id);
      const summary = h1.bundle_id!;
      // The held alert is sent when the window closes, whatever the queue's order: the lead is out of date.
      expect((await s.newerJob(l.id))?.id).toBe(h1.id);
      // The summary's own alerts do not count against it; a delivered later state of one of their groups does.
      expect(await s.newerJob(summary)).toBeUndefined();
      const recovery = await event(store, ['@webhook-a'], 'h');
      await s.dispatchEvents(10, 300, plan);
      const r = await of(recovery);
      await s.recordAttempt(r.id, { kind: 'delivered', at: 301, status: 200 });
      expect((await s.newerJob(summary))?.id).toBe(r.id);
      expect(await s.newerJob(424242)).toBeUndefined();
    });

    it('pruneHistory keeps a delivered trigger while its recovery may still fail, and drops old recoveries and summaries', async () => {
      const store = await open();
      const s = store.notifications;
      const save = async (group: string, to: string) =>
        (
          await store.saveMonitorProgress(
            [],
            [{ monitor_id: 1, group_key: group, at: 5, body: { handles: ['@pagerduty-a'], to } }],
          )
        )[0]!;
      const byPd = (e: { body: Record<string, unknown> }) => ({
        jobs: (e.body.handles as string[]).map((handle) => ({ handle, channel: 'pagerduty' })),
        deadline_at: 1000,
      });
      const trigger = await save('g', 'Alert');
      await s.dispatchEvents(10, 100, byPd);
      const jobOf = async (e: { id: number }) =>
        (await s.listJobs({ limit: 20 })).find((j) => j.event_id === e.id)!;
      await s.recordAttempt((await jobOf(trigger)).id, { kind: 'delivered', at: 101, status: 202 });
      const recovery = await save('g', 'OK');
      await s.dispatchEvents(10, 102, byPd);

      // The recovery is still pending (PagerDuty failing): the trigger is what an open incident hangs on.
      expect((await s.pruneHistory(1000, 100)).jobs).toBe(0);
      const fail = { status: 500, reason: 'http_5xx', error: 'down' };
      await s.recordAttempt((await jobOf(recovery)).id, { kind: 'dead', at: 103, ...fail });
      // the dead recovery and its event
      expect(await s.pruneHistory(1000, 100)).toEqual({ jobs: 1, events: 1, bundles: 0 });
      expect((await s.lastJobs(1, ['pagerduty'])).map((d) => d.event.id)).toEqual([trigger.id]);

      // A recovery delivered later closes the cycle: then all of it may go, trigger and recovery.
      const recovered = await save('g', 'OK');
      await s.dispatchEvents(10, 104, byPd);
      await s.recordAttempt((await jobOf(recovered)).id, { kind: 'delivered', at: 105, status: 202 });
      expect(await s.pruneHistory(1000, 100)).toEqual({ jobs: 2, events: 2, bundles: 0 });
      expect(await s.lastJobs(1, ['pagerduty'])).toEqual([]);
      expect(await s.listJobs({ limit: 10 })).toEqual([]);
    });

    it('pruneHistory removes old history but keeps pending jobs, the newest job of each queue and their events', async () => {
      const store = await open();
      const s = store.notifications;
      const e1 = await event(store, ['@webhook-a']);
      const e2 = await event(store, ['@webhook-a']);
      const e3 = await event(store, ['@webhook-a'], 'h');
      const e4 = await event(store, ['@webhook-b'], 'k');
      await s.dispatchEvents(10, 100, plan);
      const e5 = await event(store, ['@webhook-a'], 'later');
      const jobOf = async (e: { id: number }) =>
        (await s.listJobs({ limit: 10 })).find((j) => j.event_id === e.id)!;
      await s.recordAttempt((await jobOf(e1)).id, { kind: 'delivered', at: 101, status: 200 });
      await s.recordAttempt((await jobOf(e2)).id, { kind: 'delivered', at: 102, status: 200 });
      const fail = { status: 400, reason: 'http_4xx', error: 'bad' };
      await s.recordAttempt((await jobOf(e3)).id, { kind: 'dead', at: 103, ...fail });

      // Nothing is older than the cut yet: jobs were last touched at 101–103.
      expect(await s.pruneHistory(50, 100)).toEqual({ jobs: 0, events: 0, bundles: 0 });
      // One at a time when the limit says so: the oldest first.
      expect(await s.pruneHistory(1000, 1)).toMatchObject({ jobs: 1 });
      expect(await s.pruneHistory(1000, 100)).toMatchObject({ jobs: 1 });
      expect(await s.pruneHistory(1000, 100)).toEqual({ jobs: 0, events: 0, bundles: 0 });

      const left = await s.listJobs({ limit: 10 });
      expect(left.map((j) => j.event_id).sort()).toEqual([e2.id, e4.id].sort());
      expect(left.find((j) => j.event_id === e4.id)?.state).toBe('pending');
      const events = (await store.listMonitorEvents({ limit: 10 })).map((e) => e.id).sort();
      expect(events).toEqual([e2.id, e4.id, e5.id].sort());
      // What lastJobs reads (an incident may still be open) is still there, with its event.
      const last = await s.lastJobs(1, ['webhook']);
      expect(last.map((d) => d.event.id).sort()).toEqual([e2.id, e4.id].sort());
      // The undispatched event is dispatched as usual after a prune.
      expect(await s.dispatchEvents(10, 2000, plan)).toBe(1);
    });
  });
}
