// Streaming evaluation of log monitors. Committed logs (not HTTP requests) feed it: each log that a
// monitor's query matches (the in-memory predicate) goes into the sliding window of its group, and the group
// is evaluated at once, so a threshold crossing becomes a transition within the commit that carried the log.
// A tick (≤ 1 s) evaluates every group for what time alone changes: windows sliding past, recoveries,
// no data, renotify, timeouts. State changes and transitions are saved together in one transaction before
// anything else sees them (the outbox of the notification layer). After a restart, group states come from
// the store and windows are rebuilt from the stored logs, so an alert is neither forgotten nor sent twice.
//
// Multi-node: the evaluator only needs a stream of committed logs and the store. One node is the writer of
// monitor state; with PostgreSQL, the elected evaluator follows the logs table (Store.readLogsAfter) instead
// of its own writer's commits. `feed()` is the single entry point for either source.
import type { Logger } from 'pino';
import type { LogEvent } from '../domain/log-event.ts';
import { facetValues, parseFacet } from '../search/aggregate.ts';
import type { Matcher } from '../search/match.ts';
import { SharedMatchers } from '../search/shared-match.ts';
import type { MonitorEventRecord, Store } from '../store/store.ts';
import type { Muting } from './downtime.ts';
import type { ScopeTarget } from './downtime-scope.ts';
import type { Monitor } from './model.ts';
import { type MonitorQuery, parseMonitorQuery } from './query.ts';
import {
  type EvalOptions,
  evaluateGroup,
  type GroupState,
  type MonitorStatus,
  parseDuration,
  type Transition,
  worstValue,
} from './state.ts';
import { type GroupWindow, NotifyGroupWindow, SlidingWindow } from './window.ts';

/** What a group holds in memory. */
interface Group {
  key: string;
  /** group-by values as written in .by() (only the notify_by ones when notify_by aggregates) */
  by: Record<string, string>;
  window: GroupWindow;
  /** notify_by: the values of each query group (sub-group) met, by member key (the window says which live) */
  members?: Map<string, Record<string, string>>;
  state?: GroupState;
  /** the latest matching log, for templates and samples */
  sample?: LogEvent;
}

interface Compiled {
  monitor: Monitor;
  query: MonitorQuery;
  match: Matcher;
  opts: EvalOptions;
  facets: ReturnType<typeof parseFacet>[];
  measure: ReturnType<typeof parseFacet> | null;
  groups: Map<string, Group>;
  /** notify_by: the group-bys that name a notification group ([] = one simple alert); null = every group-by */
  notifyBy: string[] | null;
  /** groups of a measure monitor waiting for the debounced evaluation */
  dirty: Set<Group>;
}

/** A transition with what the notification layer needs. */
export interface MonitorEvent {
  monitor: {
    id: number;
    name: string;
    priority: number | null;
    tags: string[];
    query: string;
    message: string;
  };
  group_key: string;
  group: Record<string, string>;
  transition: Transition;
  thresholds: EvalOptions['thresholds'];
  comparator: string;
  /** the latest matching log of the group (absent for no-data transitions) */
  sample?: LogEvent;
  /** the downtime decision (downtime.ts): a muted event is recorded but does not notify */
  muting?: Muting;
}

export interface EvaluatorOptions {
  store: Store;
  logger?: Logger;
  now?: () => number;
  tickMs?: number;
  /** turns a transition into the stored event body (templates, handles); the default stores the facts */
  describe?: (e: MonitorEvent) => Record<string, unknown>;
  /** called after events are saved (the notification layer wakes up here) */
  onEvents?: (records: MonitorEventRecord[]) => void;
  /** downtimes: whether a transition of a group is muted (DowntimeService.muting) */
  muting?: (monitor: Monitor, group: ScopeTarget, t: Transition) => Muting;
}

export const UNGROUPED = '*';

/** How long measure monitors gather logs before one evaluation. */
export const MEASURE_DEBOUNCE_MS = 100;

/**
 * The group-bys that name a notification group under `options.notify_by`, in .by() order: null when every
 * query group notifies on its own (no notify_by, or one naming every group-by), [] for `["*"]` (one simple
 * alert over every group).
 */
export function notifyKeys(
  groupBy: readonly string[],
  notifyBy: readonly string[] | undefined,
): string[] | null {
  if (!notifyBy || notifyBy.length === 0 || groupBy.length === 0) return null;
  if (notifyBy.includes('*')) return [];
  const keep = groupBy.filter((f) => notifyBy.includes(f));
  return keep.length === groupBy.length ? null : keep;
}

/** Evaluator options from a monitor's definition. */
export function evalOptions(m: Monitor, q: MonitorQuery): EvalOptions {
  const o = m.options;
  // Multi alert (new_group_delay and group retention apply) unless notify_by ["*"] makes it a simple alert.
  const grouped = q.groupBy.length > 0 && notifyKeys(q.groupBy, o.notify_by)?.length !== 0;
  const t = o.thresholds ?? {};
  let onMissing = o.on_missing_data ?? 'default';
  if (!o.on_missing_data && o.notify_no_data) onMissing = 'show_and_notify_no_data';
  return {
    comparator: q.comparator,
    thresholds: {
      critical: t.critical ?? q.threshold,
      warning: t.warning ?? null,
      critical_recovery: t.critical_recovery ?? null,
      warning_recovery: t.warning_recovery ?? null,
    },
    onMissingData: onMissing,
    isCountRollup: q.rollup === 'count',
    renotifyIntervalMs: o.renotify_interval ? o.renotify_interval * 60_000 : null,
    renotifyOccurrences: o.renotify_occurrences ?? null,
    renotifyStatuses: o.renotify_statuses ?? [],
    newGroupDelayMs: grouped ? (o.new_group_delay ?? 60) * 1000 : 0,
    groupRetentionMs: grouped
      ? o.group_retention_duration
        ? parseDuration(o.group_retention_duration)
        : 86_400_000
      : Number.POSITIVE_INFINITY,
    timeoutMs: o.timeout_h ? o.timeout_h * 3_600_000 : null,
    // The older notify_no_data's no_data_timeframe (minutes); on_missing_data has no delay.
    noDataDelayMs:
      !o.on_missing_data && o.notify_no_data && o.no_data_timeframe ? o.no_data_timeframe * 60_000 : 0,
  };
}

export class MonitorEvaluator {
  private readonly monitors = new Map<number, Compiled>();
  /** the monitors' queries: a conjunct several share (`service:okta`) is tested once per log */
  private readonly matchers = new SharedMatchers();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** states and events waiting for the next save (queueProgress) */
  private pendingProgress:
    | {
        saves: { monitor_id: number; group_key: string; state: unknown | null }[];
        events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[];
      }
    | undefined;

  constructor(private readonly o: EvaluatorOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Loads monitors and their persisted states, rebuilds windows from the store, starts the tick. */
  async start(): Promise<void> {
    const states = await this.o.store.loadMonitorGroups();
    for (const m of await this.o.store.listMonitors()) await this.add(m, states.get(m.id));
    if (this.o.tickMs !== 0) {
      this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    await this.saving;
  }

  /** Starts evaluating a monitor (new, or changed: its groups restart from the persisted states). */
  async upsert(m: Monitor): Promise<void> {
    const states = (await this.o.store.loadMonitorGroups()).get(m.id);
    await this.add(m, states);
    this.evaluateAll(m.id);
    await this.saving;
  }

  /** The definition of a monitor being evaluated. */
  definition(id: number): Monitor | undefined {
    return this.monitors.get(id)?.monitor;
  }

  remove(id: number): void {
    this.monitors.delete(id);
  }

  /** The live status of a monitor's groups. */
  groups(id: number): {
    key: string;
    by: Record<string, string>;
    /** what downtime scopes see: `by`, or with notify_by the values of the live sub-groups */
    scopeTarget: ScopeTarget;
    state: GroupState | undefined;
    value: number | null;
  }[] {
    const c = this.monitors.get(id);
    if (!c) return [];
    const now = this.now();
    return [...c.groups.values()].map((g) => ({
      key: g.key,
      by: g.by,
      scopeTarget: scopeTarget(g),
      state: g.state,
      value: g.window.value(now),
    }));
  }

  /** Worst status over the groups (Alert, then No Data, then Warn, then OK), as Datadog's overall_state. */
  overallState(id: number): MonitorStatus | 'No Data' {
    const c = this.monitors.get(id);
    if (!c || c.groups.size === 0) return 'No Data';
    const rank: Record<MonitorStatus, number> = { Alert: 3, 'No Data': 2, Warn: 1, OK: 0 };
    let worst: MonitorStatus = 'OK';
    let any = false;
    for (const g of c.groups.values()) {
      if (!g.state) continue;
      any = true;
      if (rank[g.state.status] > rank[worst]) worst = g.state.status;
    }
    return any ? worst : 'No Data';
  }

  /** Committed logs: every monitor whose query matches updates the log's group and evaluates it. */
  feed(events: LogEvent[]): void {
    if (this.monitors.size === 0) return;
    const now = this.now();
    // Log by log, every monitor: the shared matchers test each log's common conjuncts once.
    let touched: Map<Compiled, Set<Group>> | undefined;
    for (const e of events) {
      for (const c of this.monitors.values()) {
        if (!c.match(e)) continue;
        const took = this.addLog(c, e, now);
        if (took.length === 0) continue;
        touched ??= new Map();
        const groups = touched.get(c);
        if (groups) for (const g of took) groups.add(g);
        else touched.set(c, new Set(took));
      }
    }
    if (!touched) return;
    for (const c of this.monitors.values()) {
      const groups = touched.get(c);
      if (!groups) continue;
      // Counts are cheap and are what pages people: evaluated on the log that crosses the threshold.
      // Measures (sums, averages, percentiles over whole windows) are evaluated at most every
      // MEASURE_DEBOUNCE_MS: a burst of logs costs one evaluation, not one per log.
      if (c.query.rollup === 'count') this.evaluate(c, [...groups], now);
      else {
        for (const g of groups) c.dirty.add(g);
        this.flushTimer ??= setTimeout(() => this.flush(), MEASURE_DEBOUNCE_MS);
      }
    }
  }

  /** Evaluates the groups of measure monitors that changed since the last flush. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const now = this.now();
    for (const c of this.monitors.values()) {
      if (c.dirty.size === 0) continue;
      const groups = [...c.dirty];
      c.dirty.clear();
      this.evaluate(c, groups, now);
    }
  }

  /** Evaluates every group of every monitor (time passing). */
  tick(): void {
    this.flush();
    const now = this.now();
    for (const c of this.monitors.values()) this.evaluate(c, [...c.groups.values()], now);
  }

  private evaluateAll(id: number): void {
    const c = this.monitors.get(id);
    if (c) this.evaluate(c, [...c.groups.values()], this.now());
  }

  private async add(m: Monitor, states: Map<string, unknown> | undefined): Promise<void> {
    const query = parseMonitorQuery(m.query);
    const c: Compiled = {
      monitor: m,
      query,
      match: this.matchers.compile(query.filter),
      opts: evalOptions(m, query),
      facets: query.groupBy.map(parseFacet),
      measure: query.measure ? parseFacet(query.measure) : null,
      groups: new Map(),
      notifyBy: notifyKeys(query.groupBy, m.options.notify_by),
      dirty: new Set(),
    };
    for (const [key, state] of states ?? []) {
      const s = state as GroupState & { by?: Record<string, string> };
      c.groups.set(key, { key, by: s.by ?? {}, window: newWindow(c), state: s });
    }
    // A simple alert (no group-by, or notify_by ["*"]) has its one group before any log.
    if ((query.groupBy.length === 0 || c.notifyBy?.length === 0) && !c.groups.has(UNGROUPED))
      c.groups.set(UNGROUPED, { key: UNGROUPED, by: {}, window: newWindow(c) });
    this.monitors.set(m.id, c);
    await this.rebuild(c);
  }

  /** Refills a monitor's windows from the stored logs of its window. */
  private async rebuild(c: Compiled): Promise<void> {
    const now = this.now();
    const delayMs = (c.monitor.options.evaluation_delay ?? 0) * 1000;
    let cursor: string | undefined;
    do {
      const page = await this.o.store.readLogs({
        from: now - delayMs - c.query.windowMs - 60_000,
        to: now + 1,
        sort: 'asc',
        limit: 1000,
        cursor,
        filter: c.query.filter,
      });
      for (const e of page.logs) this.addLog(c, e, now);
      cursor = page.cursor;
    } while (cursor);
  }

  /** Adds a matching log to the windows of its groups; returns the groups whose window took it. */
  private addLog(c: Compiled, e: LogEvent, now: number): Group[] {
    const took: Group[] = [];
    const values = c.measure ? facetValues(e, c.measure, undefined) : undefined;
    for (const { g, member } of this.groupsOf(c, e, now)) {
      if (g.window.add(e.timestamp, now, values, member)) {
        g.sample = e;
        took.push(g);
      }
    }
    return took;
  }

  /**
   * The groups a log belongs to (created on first sight), each with the query group (`member`) whose window
   * takes the log when notify_by aggregates; none when the log lacks a group-by facet.
   */
  private groupsOf(c: Compiled, e: LogEvent, _now: number): { g: Group; member: string }[] {
    if (c.facets.length === 0) return [{ g: c.groups.get(UNGROUPED) as Group, member: UNGROUPED }];
    if (c.facets.length === 1 && !c.notifyBy) {
      // the usual monitor (`.by("@flow_name")`): no combinations to build; key as groupKey() writes it
      const f = c.facets[0] as Compiled['facets'][number];
      const out: { g: Group; member: string }[] = [];
      for (const v of facetValues(e, f, undefined)) {
        const text = String(v);
        const key = `${f.name}:${text}`;
        let g = c.groups.get(key);
        if (!g) {
          g = { key, by: { [f.name]: text }, window: newWindow(c) };
          c.groups.set(key, g);
        }
        out.push({ g, member: key });
      }
      return out;
    }
    let combos: Record<string, string>[] = [{}];
    for (const f of c.facets) {
      const values = facetValues(e, f, undefined);
      if (values.length === 0) return [];
      combos = combos.flatMap((by) => values.map((v) => ({ ...by, [f.name]: String(v) })));
    }
    return combos.map((full) => {
      const member = groupKey(full);
      const by = c.notifyBy ? Object.fromEntries(c.notifyBy.map((k) => [k, full[k] as string])) : full;
      const key = c.notifyBy ? groupKey(by) || UNGROUPED : member;
      let g = c.groups.get(key);
      if (!g) {
        g = { key, by, window: newWindow(c) };
        c.groups.set(key, g);
      }
      if (c.notifyBy) {
        g.members ??= new Map();
        if (!g.members.has(member)) g.members.set(member, full);
      }
      return { g, member };
    });
  }

  private evaluate(c: Compiled, groups: Group[], now: number): void {
    const saves: { monitor_id: number; group_key: string; state: unknown | null }[] = [];
    const events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[] = [];
    // Whether any group has logs matters only to an empty group of a grouped count (state.ts rule 6).
    let hasData: boolean | undefined;
    const monitorHasData = () => {
      hasData ??= [...c.groups.values()].some((g) => g.window.hasData(now));
      return hasData;
    };
    for (const g of groups) {
      g.window.prune(now);
      const value = g.window.value(now);
      const prev = g.state;
      const ctx = value === null && c.facets.length > 0 ? { monitorHasData: monitorHasData() } : {};
      const { state, transitions } = evaluateGroup(prev, value, now, c.opts, ctx);
      if (state === null) {
        if (prev) saves.push({ monitor_id: c.monitor.id, group_key: g.key, state: null });
        // An ungrouped monitor keeps its single group; others forget the group.
        if (g.key !== UNGROUPED) c.groups.delete(g.key);
        else g.state = undefined;
        continue;
      }
      g.state = state;
      // Persist what a restart needs: status changes and notification bookkeeping, not every value.
      if (!prev || !samePersisted(prev, state))
        saves.push({ monitor_id: c.monitor.id, group_key: g.key, state: { ...state, by: g.by } });
      for (const t of transitions) {
        const ev: MonitorEvent = {
          monitor: {
            id: c.monitor.id,
            name: c.monitor.name,
            priority: c.monitor.priority,
            tags: c.monitor.tags,
            query: c.monitor.query,
            message: c.monitor.message,
          },
          group_key: g.key,
          group: g.by,
          transition: t,
          thresholds: c.opts.thresholds,
          comparator: c.query.comparator,
          sample: t.to === 'No Data' || t.from === 'No Data' ? undefined : g.sample,
          muting: this.o.muting?.(c.monitor, scopeTarget(g), t),
        };
        events.push({ monitor_id: c.monitor.id, group_key: g.key, at: t.at, body: this.describe(ev) });
      }
    }
    if (saves.length === 0 && events.length === 0) return;
    this.queueProgress(saves, events);
  }

  /**
   * Saves group states and events in order, one transaction for everything queued while the event loop ran
   * (a commit of 50 logs evaluated by 50 monitors is one write, not one per evaluation).
   */
  private queueProgress(
    saves: { monitor_id: number; group_key: string; state: unknown | null }[],
    events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[],
  ): void {
    let batch = this.pendingProgress;
    if (!batch) {
      const next = { saves: [] as typeof saves, events: [] as typeof events };
      this.pendingProgress = batch = next;
      this.saving = this.saving
        .then(() => {
          if (this.pendingProgress === next) this.pendingProgress = undefined;
          return this.o.store.saveMonitorProgress(next.saves, next.events);
        })
        .then((records) => {
          if (records.length > 0) this.o.onEvents?.(records);
        })
        .catch((err: unknown) => this.o.logger?.error({ err }, 'saving monitor states and events failed'));
    }
    for (const x of saves) batch.saves.push(x);
    for (const x of events) batch.events.push(x);
  }

  /** Records events that no evaluation caused (the end of a downtime) through the same outbox, in order. */
  record(events: MonitorEvent[]): Promise<void> {
    const rows = events.map((e) => ({
      monitor_id: e.monitor.id,
      group_key: e.group_key,
      at: e.transition.at,
      body: this.describe(e),
    }));
    this.queueProgress([], rows);
    return this.saving;
  }

  private describe(e: MonitorEvent): Record<string, unknown> {
    if (this.o.describe) return this.o.describe(e);
    return {
      transition: e.transition.name,
      from: e.transition.from,
      to: e.transition.to,
      value: e.transition.value,
      notify: e.transition.notify && !e.muting?.muted,
      muted: e.muting?.muted ?? false,
      downtime_id: e.muting?.downtime_id ?? null,
      cause: e.transition.cause,
      group: e.group,
      monitor: { id: e.monitor.id, name: e.monitor.name, priority: e.monitor.priority },
    };
  }
}

/** A group's window: one sliding window, or one per query group when notify_by aggregates them. */
function newWindow(c: Pick<Compiled, 'query' | 'monitor' | 'notifyBy' | 'opts'>): GroupWindow {
  const delayMs = (c.monitor.options.evaluation_delay ?? 0) * 1000;
  const make = () => new SlidingWindow(c.query.windowMs, c.query.rollup, delayMs);
  if (c.notifyBy === null) return make();
  return new NotifyGroupWindow(make, (values) => worstValue(values, c.opts));
}

/**
 * What downtime scopes see of a group: its values, or for a notification group the values of each sub-group
 * whose window still holds logs (its own values when none does). Forgets the sub-groups that left.
 */
function scopeTarget(g: Group): ScopeTarget {
  if (!g.members) return g.by;
  const live = new Set(g.window.memberKeys?.() ?? []);
  for (const k of g.members.keys()) if (!live.has(k)) g.members.delete(k);
  return g.members.size > 0 ? [...g.members.values()] : g.by;
}

/** A group's key: `@flow_name:Sync Users,env:prod` (facets in .by() order), as Datadog names groups. */
export function groupKey(by: Record<string, string>): string {
  return Object.entries(by)
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

/** Whether two states agree on what a restart needs (all but the last value and data time). */
function samePersisted(a: GroupState, b: GroupState): boolean {
  const ka = Object.keys(a) as (keyof GroupState)[];
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (k !== 'lastValue' && k !== 'lastDataAt' && a[k] !== b[k]) return false;
  return true;
}
