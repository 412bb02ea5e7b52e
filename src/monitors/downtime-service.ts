// Downtimes at run time: the stored list kept in memory, the muting decision the evaluator asks for on each
// transition, and the end of a downtime. A tick (1 s) notices windows that ended (expired): for each covered
// group then in a state listed in `notify_end_states`, when `notify_end_types` has `expired`, one event is
// recorded through the evaluator's outbox (transition "Triggered", "Warn" or "No Data" from and to that state,
// cause `downtime_expired`), unless another active downtime still covers the group. Canceling an active
// downtime does the same with `canceled` / `downtime_canceled`. `ended_through` is persisted, so a window
// that ended while Flowwatch was stopped is handled once at the next start, and never twice. The tick also
// notices windows that began and calls the `onWindowStart` hook (closing open incidents of the muted groups);
// that is kept in memory only, so a start calls it again for every active window: the hook must tolerate it.
// Notices to the handles of the downtime's own message (downtime-notice.ts: scheduled, started, canceled,
// expired) are saved with the downtime change that marks them sent (`notified`, `ended_through`,
// `canceled_at`) in one transaction, so each is recorded once, across restarts. Changes to a downtime (API and
// tick) run one at a time, so none overwrites another's marks.
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import {
  coversMonitor,
  type Downtime,
  type DowntimeEndState,
  isMuted,
  type MonitorRef,
  type Muting,
  nextWindow,
} from './downtime.ts';
import { type DowntimeNoticeKind, downtimeNotice, type NoticeEvent } from './downtime-notice.ts';
import { type ScopeTarget, scopeMatches } from './downtime-scope.ts';
import { evalOptions, type MonitorEvaluator, type MonitorEvent } from './evaluator.ts';
import { parseMonitorQuery } from './query.ts';
import type { MonitorStatus, Transition } from './state.ts';

const END_STATE: Record<MonitorStatus, DowntimeEndState | null> = {
  Alert: 'alert',
  Warn: 'warn',
  'No Data': 'no data',
  OK: null,
};
const END_NAME: Record<'Alert' | 'Warn' | 'No Data', Transition['name']> = {
  Alert: 'Triggered',
  Warn: 'Warn',
  'No Data': 'No Data',
};

/** What a downtime scope sees of a monitor's live group (undefined: no such group). */
export type ScopeLookup = (monitorId: number, groupKey: string) => ScopeTarget | undefined;

export interface DowntimeServiceOptions {
  store: Store;
  logger?: Logger;
  now?: () => number;
  /** 0 = no timer (tests call tick) */
  tickMs?: number;
  /** base URL of the notices' links; without it no notice is recorded */
  baseUrl?: () => string;
  /** notices were saved (wakes the outbox) */
  onNotices?: () => void;
}

export class DowntimeService {
  private list: Downtime[] = [];
  /** per downtime id: the next window ending after its `ended_through` (cached until that window ends) */
  private windows = new Map<string, { start: number; end: number } | null>();
  private evaluator: MonitorEvaluator | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  /** per downtime id: the start of the window whose beginning was handled */
  private readonly begun = new Map<string, number>();
  private onBegin: ((d: Downtime, at: number, scopeOf: ScopeLookup) => Promise<unknown>) | undefined;
  private readonly now: () => number;

  constructor(private readonly o: DowntimeServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.list = await this.o.store.listDowntimes();
    if (this.o.tickMs !== 0) {
      this.timer = setInterval(() => {
        void this.tick();
      }, this.o.tickMs ?? 1000);
      this.timer.unref();
    }
  }

  /** The evaluator whose outbox receives end-of-downtime events. */
  attach(evaluator: MonitorEvaluator): void {
    this.evaluator = evaluator;
  }

  /**
   * Called once per window when it begins (and for active windows at start): mute side effects. `scopeOf`
   * gives what scopes see of a live group of the attached evaluator.
   */
  onWindowStart(fn: (d: Downtime, at: number, scopeOf: ScopeLookup) => Promise<unknown>): void {
    this.onBegin = fn;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
  }

  all(): Downtime[] {
    return [...this.list];
  }

  get(id: string): Downtime | undefined {
    return this.list.find((d) => d.id === id);
  }

  /** The muting decision for a transition (the evaluator's hook). */
  muting(monitor: MonitorRef, group: ScopeTarget, t: Transition): Muting {
    return isMuted(
      this.list.filter((d) => d.canceled_at === null),
      monitor,
      group,
      t.at,
      t,
    );
  }

  /** Runs changes one at a time (API requests and ticks). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.ticking.then(fn);
    this.ticking = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Adds a downtime; its scheduled or started notice follows at once (a tick). */
  async create(d: Downtime): Promise<Downtime> {
    await this.serial(async () => {
      await this.o.store.insertDowntime(d);
      this.list.push(d);
    });
    void this.tick();
    return d;
  }

  /**
   * An API change, made from the downtime as read before: what the service marked meanwhile (notices sent,
   * windows ended, a cancel) is kept.
   */
  update(d: Downtime): Promise<Downtime | undefined> {
    return this.serial(() => {
      const current = this.get(d.id);
      if (!current) return Promise.resolve(undefined);
      const ended = Math.max(d.ended_through ?? 0, current.ended_through ?? 0);
      return this.save({
        ...d,
        canceled_at: current.canceled_at,
        ended_through: d.ended_through === null && current.ended_through === null ? null : ended,
        ...(current.notified ? { notified: current.notified } : {}),
      });
    });
  }

  private async save(d: Downtime, notices: NoticeEvent[] = []): Promise<Downtime | undefined> {
    if (!(await this.o.store.updateDowntime(d, notices))) return undefined;
    this.list = this.list.map((x) => (x.id === d.id ? d : x));
    this.windows.delete(d.id);
    if (notices.length > 0) this.o.onNotices?.();
    return d;
  }

  /**
   * Cancels a downtime (its canceled notice with it, unless it had ended); when it was active and
   * `notify_end_types` has `canceled`, records the end events.
   */
  cancel(id: string): Promise<Downtime | undefined> {
    return this.serial(async () => {
      const d = this.get(id);
      if (!d) return undefined;
      if (d.canceled_at !== null) return d;
      const at = this.now();
      const w = nextWindow(d.schedule, at);
      const wasActive = w !== null && w.start <= at;
      const canceled = { ...d, canceled_at: at, modified_at: at, ended_through: at };
      await this.save(canceled, w ? await this.notices('canceled', d, at, w) : []);
      if (wasActive && d.notify_end_types.includes('canceled'))
        await this.endEvents(d, 'downtime_canceled', at);
      return canceled;
    });
  }

  /** Handles windows that ended and began; runs one at a time. */
  tick(): Promise<void> {
    return this.serial(async () => {
      try {
        await this.endExpired();
        await this.noticeStarts();
        await this.beginStarted();
      } catch (err) {
        this.o.logger?.error({ err }, 'handling the end of downtimes failed');
      }
    });
  }

  /** The notice of `kind` (none when notices are off, for downtimes older than them, or without handles). */
  private async notices(
    kind: DowntimeNoticeKind,
    d: Downtime,
    at: number,
    window: { start: number; end: number } | null,
  ): Promise<NoticeEvent[]> {
    if (!this.o.baseUrl || !d.notified) return [];
    const monitors = (await this.o.store.listMonitors()).filter((m) => coversMonitor(d, m));
    const e = downtimeNotice(kind, d, { at, window, monitors, baseUrl: this.o.baseUrl() });
    return e ? [e] : [];
  }

  /** Scheduled and started notices: a window to come not yet announced, a window that began not yet noticed. */
  private async noticeStarts(): Promise<void> {
    const at = this.now();
    for (const d of this.list) {
      const n = d.notified;
      const w = d.canceled_at === null ? this.windowOf(d) : null;
      if (!n || !w || at >= w.end) continue;
      if (w.start > at && !n.scheduled)
        await this.save(
          { ...d, notified: { ...n, scheduled: true } },
          await this.notices('scheduled', d, at, w),
        );
      else if (w.start <= at && n.started !== w.start)
        await this.save(
          { ...d, notified: { scheduled: true, started: w.start } },
          await this.notices('started', d, at, w),
        );
    }
  }

  private async endExpired(): Promise<void> {
    const at = this.now();
    for (const d of this.list) {
      if (d.canceled_at !== null) continue;
      const w = this.windowOf(d);
      if (!w || at < w.end) continue;
      // A window ended (maybe several while stopped: their end is handled once, with the state of now).
      const ended = { ...d, ended_through: at };
      await this.save(ended, await this.notices('expired', d, at, w));
      if (d.notify_end_types.includes('expired')) await this.endEvents(d, 'downtime_expired', at);
    }
  }

  /** The next window ending after `ended_through` (cached until it ends or the downtime changes). */
  private windowOf(d: Downtime): { start: number; end: number } | null {
    let w = this.windows.get(d.id);
    if (w === undefined) {
      w = nextWindow(d.schedule, d.ended_through ?? d.created_at);
      this.windows.set(d.id, w);
    }
    return w;
  }

  /** Calls the onWindowStart hook for windows that began. */
  private async beginStarted(): Promise<void> {
    if (!this.onBegin) return;
    const at = this.now();
    for (const d of this.list) {
      const w = d.canceled_at === null ? this.windowOf(d) : null;
      if (!w || w.start > at || at >= w.end || this.begun.get(d.id) === w.start) continue;
      await this.onBegin(
        d,
        at,
        (id, key) => this.evaluator?.groups(id).find((g) => g.key === key)?.scopeTarget,
      );
      this.begun.set(d.id, w.start);
    }
  }

  /** One event per covered group in a `notify_end_states` state, unless another active downtime covers it. */
  private async endEvents(
    d: Downtime,
    cause: 'downtime_expired' | 'downtime_canceled',
    at: number,
  ): Promise<void> {
    const ev = this.evaluator;
    if (!ev) return;
    const others = this.list.filter((x) => x.id !== d.id && x.canceled_at === null);
    const events: MonitorEvent[] = [];
    for (const m of await this.o.store.listMonitors()) {
      if (!coversMonitor(d, m) || !ev.definition(m.id)) continue;
      const query = parseMonitorQuery(m.query);
      const opts = evalOptions(m, query);
      for (const g of ev.groups(m.id)) {
        const s = g.state;
        const wanted = s ? END_STATE[s.status] : null;
        if (!s || !wanted || !d.notify_end_states.includes(wanted) || s.status === 'OK') continue;
        if (!scopeMatches(d.scope, g.scopeTarget)) continue;
        if (isMuted(others, m, g.scopeTarget, at).muted) continue;
        events.push({
          monitor: {
            id: m.id,
            name: m.name,
            priority: m.priority,
            tags: m.tags,
            query: m.query,
            message: m.message,
          },
          group_key: g.key,
          group: g.by,
          transition: {
            name: END_NAME[s.status],
            from: s.status,
            to: s.status,
            at,
            value: g.value,
            notify: true,
            cause,
            firstTriggeredAt: s.firstTriggeredAt ?? null,
            lastTriggeredAt: s.lastTriggeredAt ?? null,
          },
          thresholds: opts.thresholds,
          comparator: query.comparator,
          muting: { muted: false, downtime_id: d.id },
        });
      }
    }
    if (events.length > 0) await ev.record(events);
  }
}
