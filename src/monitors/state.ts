/**
 * The pure per-group state machine of a Datadog-compatible log monitor.
 *
 * No I/O, no timers, no `Date.now()`: the clock (`now`, epoch ms) is passed in. The evaluator calls
 * {@link evaluateGroup} for a group on every matching log and on a tick of at most one second, and persists
 * the returned state and transitions. Spec: `../shared/reference/datadog-compat.md` §4.3, §4.4; Datadog docs
 * `monitors/configuration`, `monitors/guide/recovery-thresholds`, `monitors/notify` (renotify),
 * `monitors/notify/variables` (triggered times), `integrations/webhooks` (`$ALERT_TRANSITION`).
 *
 * Choices (Datadog is silent or ambiguous on these; each is also commented where it is implemented):
 *
 * 1. Status precedence: critical before warning. A value breaching the critical comparator is Alert; else one
 *    breaching the warning comparator is Warn; else OK, unless hysteresis holds the previous status.
 * 2. Recovery thresholds (hysteresis, §4.4 table): `>` recovers when value <= recovery, `>=` when value <
 *    recovery, `<` when value >= recovery, `<=` when value > recovery. An Alert stays Alert until the critical
 *    recovery condition holds; a Warn stays Warn until the warning recovery condition holds. Leaving Alert, the
 *    value must also satisfy warning_recovery (when set) to reach OK, otherwise it lands in Warn: recovery from
 *    any triggered state to OK honours every configured recovery threshold. No Data and OK have no hysteresis
 *    (a value arriving after No Data is judged afresh). `==` and `!=` have no recovery thresholds: Datadog's
 *    recovery table only defines the four ordered comparators, so {@link checkThresholds} rejects them and
 *    {@link statusFor} ignores them.
 * 3. Transition names (`$ALERT_TRANSITION`): →Alert "Triggered" (from OK, Warn or No Data); →Warn "Warn" (from
 *    OK, No Data, and Alert→Warn, which Datadog renders "[Warn on …]" with `is_alert_to_warning`); →OK
 *    "Recovered"; →No Data "No Data". Renotifications carry the "Re-" variant of the current status:
 *    "Re-Triggered" (Alert), "Re-Warn" (Warn), "Re-No Data" (No Data). Datadog lists a bare "Renotify" among
 *    the values without saying when it is used; every renotifiable status has a "Re-" name, so this machine
 *    never emits "Renotify" (the name stays in the type for the outbox/API).
 * 4. Notification: Triggered, Warn and Re-* always notify. "No Data" notifies only with
 *    `show_and_notify_no_data` (`show_no_data` changes the state silently). "Recovered" notifies only when the
 *    episode it ends notified at least once (`lastNotifiedAt >= firstTriggeredAt`): Alert → (silent) No Data →
 *    OK still sends the recovery people were paged for, while OK → (silent) No Data → OK sends nothing.
 *    Downtimes/muting are not handled here: `notify` says "the state machine wants a notification"; muting is
 *    the next layer's job. `lastNotifiedAt` is the last transition emitted with `notify: true`.
 * 5. Renotify: while the status (alert / warn / no data) is in `renotifyStatuses` (an empty list means the
 *    Datadog default, alert + no data), `renotifyIntervalMs` after the last notification, at most
 *    `renotifyOccurrences` times (null = unlimited); the counter resets on every transition. Only a status
 *    whose entering transition notified is renotified (a silent `show_no_data` No Data is never renotified).
 *    At most one renotification per call: a long gap between calls does not produce a burst. Renotify never
 *    changes first/last triggered times (Datadog: "renotification events show the same template variable").
 * 6. Missing data (value null = the window holds no data for this group):
 *    - `default` + count rollup: the empty window is evaluated as 0 — except that, in a grouped monitor where
 *      other groups still have logs (`ctx.monitorHasData === true`), a group without logs is OK with value 0
 *      (Datadog, log monitors: a below condition alerts "if and only if there are logs for a given group, and
 *      the count is below the threshold—or if there are no logs for all of the groups"). Ungrouped monitors
 *      need not pass `ctx`: their whole-monitor data is their own.
 *    - `default` + other rollups: the last known status is kept (no transition); renotify and timeout still
 *      apply.
 *    - `show_no_data` / `show_and_notify_no_data`: status No Data (silent / notified).
 *    - `resolve`: status OK ("Recovered" from a triggered status).
 *    `noDataDelayMs` (no_data_timeframe of the older notify_no_data) holds No Data back until the group has had
 *    no data for that long (measured from `lastDataAt`, or `firstSeenAt`); meanwhile the status is kept.
 *    `lastDataAt` only moves on real data: a count window evaluated as 0 is still "no data" for group
 *    retention and timeout (Datadog: both start "as soon as the monitor query returns no data").
 * 7. A group never seen before with no data: a group cannot be discovered without data, so the result is
 *    `state: null` — except for the count-`default` zero case (an ungrouped `count < 1` "total silence"
 *    monitor must be able to alert), where the group is created and evaluated at 0. (Datadog: "the monitor
 *    must be able to evaluate data before alerting on missing data"; the API shows such a monitor as No Data.)
 * 8. new_group_delay: a group first seen less than `newGroupDelayMs` ago is not evaluated: its state is
 *    created and tracked (firstSeenAt, lastValue, lastDataAt) with status OK and no transition. The first call
 *    at or after `firstSeenAt + newGroupDelayMs` evaluates it normally from OK, so a group still breaching
 *    then gets "Triggered" from OK. Pass 0 for simple-alert monitors (Datadog: multi alert only).
 * 9. group_retention_duration: a group whose last data is at least `groupRetentionMs` old (measured from
 *    `lastDataAt`, or `firstSeenAt` when it never had data) is dropped on a call without data: `state: null`,
 *    no transition (Datadog drops it from the monitor status; no recovery is sent). Pass `Infinity` for
 *    simple-alert monitors (Datadog: multi alert only), or a lone ungrouped group would be dropped and then
 *    re-created and re-triggered.
 * 10. timeout_h (auto-resolve): an Alert or Warn group is resolved ("Recovered", cause `timeout`) on a call
 *    without data once `timeoutMs` has passed since both its last data and its last trigger. Measuring from
 *    the last trigger too means that when the next evaluation still breaches (e.g. a count `< 1` monitor
 *    evaluating its empty window as 0) the group re-triggers ("Triggered") and is auto-resolved again only
 *    `timeoutMs` later, not on every tick. No Data is not auto-resolved (it is not a "triggered" state, and
 *    it means the absence of data already). A call with data never auto-resolves (Datadog: "monitors do not
 *    auto-resolve from an ALERT or WARN state if data is still reporting").
 * 11. Triggered times (§4.4, `variables.md`): `firstTriggeredAt` is set on OK→non-OK (including a new group
 *    appearing non-OK and OK→No Data) and cleared on recovery to OK; `lastTriggeredAt` is set on every
 *    transition into a non-OK status (including Warn↔Alert and →No Data) and kept after recovery (the API's
 *    `last_triggered_ts`). Every transition carries the triggered times to render: for "Recovered" those of
 *    the episode it ends, so `triggered_duration_sec = (at - firstTriggeredAt) / 1000` gives §4.4's D−A.
 * 12. Boundaries: intervals are inclusive (`now - since >= interval` fires), so a 60 s renotify fires at
 *    exactly 60 s.
 */

export type MonitorStatus = 'OK' | 'Warn' | 'Alert' | 'No Data';
export type Comparator = '>' | '>=' | '<' | '<=' | '==' | '!=';
export type TransitionName =
  | 'Triggered'
  | 'Re-Triggered'
  | 'Warn'
  | 'Re-Warn'
  | 'Recovered'
  | 'No Data'
  | 'Re-No Data'
  | 'Renotify';

export interface EvalOptions {
  comparator: Comparator;
  thresholds: {
    critical: number;
    warning?: number | null;
    critical_recovery?: number | null;
    warning_recovery?: number | null;
  };
  /** 'default': a count rollup evaluates an empty window as 0; other rollups keep the last known status */
  onMissingData: 'default' | 'show_no_data' | 'show_and_notify_no_data' | 'resolve';
  isCountRollup: boolean;
  renotifyIntervalMs: number | null;
  renotifyOccurrences: number | null;
  /** Default when interval set: alert + no data (an empty list is read as that default). */
  renotifyStatuses: ('alert' | 'warn' | 'no data')[];
  /** A new group is not evaluated (no transition) until this long after it was first seen. 0 for simple alerts. */
  newGroupDelayMs: number;
  /** A group with no data for this long is dropped (state null). `Infinity` for simple alerts. */
  groupRetentionMs: number;
  /** timeout_h: a triggered group with no data for this long is resolved */
  timeoutMs: number | null;
  /**
   * no_data_timeframe (with the older notify_no_data): No Data only once the group has had no data for this
   * long; until then it keeps its status. Absent or 0: at once.
   */
  noDataDelayMs?: number;
}

export interface GroupState {
  status: MonitorStatus;
  firstSeenAt: number;
  /** last evaluation that had (real) data; a count window evaluated as 0 does not count */
  lastDataAt: number | null;
  /** set on OK→non-OK (cleared on recovery to OK) */
  firstTriggeredAt: number | null;
  /** set on every transition into a non-OK state (kept after recovery) */
  lastTriggeredAt: number | null;
  /** set on every transition to OK */
  lastResolvedAt: number | null;
  /** last transition emitted with notify: true (transition or renotification) */
  lastNotifiedAt: number | null;
  /** set on every transition into No Data (the API's `last_nodata_ts`) */
  lastNoDataAt: number | null;
  /** renotifications sent since the last transition */
  renotifications: number;
  /** the value last evaluated (0 for a count window evaluated as 0; null when evaluated without data) */
  lastValue: number | null;
}

/** Why a transition happened (added field). */
export type TransitionCause =
  | 'value'
  | 'missing_data'
  | 'timeout'
  | 'renotify'
  /** (downtime-service.ts) the group was still triggered when a downtime ended */
  | 'downtime_expired'
  | 'downtime_canceled';

export interface Transition {
  name: TransitionName;
  from: MonitorStatus;
  to: MonitorStatus;
  at: number;
  value: number | null;
  /** false when the transition changes state but must not notify (e.g. show_no_data without notify) */
  notify: boolean;
  /** (added) what caused it: a value, missing data, timeout_h, or a renotification */
  cause: TransitionCause;
  /**
   * (added) `{{first_triggered_at}}` to render with this transition: for "Recovered" the episode's (the state
   * clears it), otherwise the state's after the transition.
   */
  firstTriggeredAt: number | null;
  /** (added) `{{last_triggered_at}}` to render with this transition. */
  lastTriggeredAt: number | null;
}

/** (added) Per-evaluation context that is not per-group. */
export interface EvalContext {
  /**
   * Whether any group of the monitor has data in this window. Only read for a count rollup with
   * `onMissingData: 'default'` and no data for this group: true makes the group OK (value 0) instead of
   * evaluating 0 against the thresholds. Omit for ungrouped monitors.
   */
  monitorHasData?: boolean;
}

type Ordered = '>' | '>=' | '<' | '<=';

/** Whether `value` satisfies `comparator threshold` (the alert/warn condition). */
function breaches(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** The recovery condition of Datadog's recovery-threshold table for an ordered comparator. */
function recovers(value: number, comparator: Ordered, recovery: number): boolean {
  switch (comparator) {
    case '>':
      return value <= recovery;
    case '>=':
      return value < recovery;
    case '<':
      return value >= recovery;
    case '<=':
      return value > recovery;
  }
}

function isOrdered(c: Comparator): c is Ordered {
  return c !== '==' && c !== '!=';
}

function num(v: number | null | undefined): number | null {
  return typeof v === 'number' && !Number.isNaN(v) ? v : null;
}

/**
 * The status a value gives (critical before warning; recovery thresholds honoured given the previous status).
 * `prev` 'OK' and 'No Data' have no hysteresis; `==`/`!=` ignore recovery thresholds.
 */
export function statusFor(prev: MonitorStatus, value: number, opts: EvalOptions): MonitorStatus {
  const { comparator: c, thresholds: t } = opts;
  if (breaches(value, c, t.critical)) return 'Alert';
  const warning = num(t.warning);
  const warnBreached = warning !== null && breaches(value, c, warning);
  const ordered = isOrdered(c);
  const critRec = ordered ? num(t.critical_recovery) : null;
  // warning_recovery only means something with a warning threshold.
  const warnRec = ordered && warning !== null ? num(t.warning_recovery) : null;

  if (prev === 'Alert') {
    // Hysteresis: an Alert stays Alert until the critical recovery condition holds.
    if (critRec !== null && ordered && !recovers(value, c, critRec)) return 'Alert';
    if (warnBreached) return 'Warn';
    // Leaving Alert, OK also requires the warning recovery condition (when configured): otherwise Warn.
    if (warnRec !== null && ordered && !recovers(value, c, warnRec)) return 'Warn';
    return 'OK';
  }
  if (warnBreached) return 'Warn';
  if (prev === 'Warn' && warnRec !== null && ordered && !recovers(value, c, warnRec)) return 'Warn';
  return 'OK';
}

/**
 * notify_by (Datadog "notification grouping"): the value that stands for several query groups sharing one
 * notification group, i.e. the value of the most breaching member. The aggregate alerts when any member
 * alerts, warns when any warns and none alerts, and (with recovery thresholds) recovers only once every
 * member recovers. For ordered comparators that is the extreme in the comparator's direction (max for `>`
 * and `>=`, min for `<` and `<=`); for `==`/`!=`, the first member breaching critical, else the first
 * breaching warning, else the first. Members without data (null) are left out, like a group without logs in
 * a grouped monitor; null when no member has data.
 */
export function worstValue(values: readonly (number | null)[], opts: EvalOptions): number | null {
  const present = values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
  if (present.length === 0) return null;
  const c = opts.comparator;
  if (c === '>' || c === '>=') return Math.max(...present);
  if (c === '<' || c === '<=') return Math.min(...present);
  const warning = num(opts.thresholds.warning);
  return (
    present.find((v) => breaches(v, c, opts.thresholds.critical)) ??
    (warning === null ? undefined : present.find((v) => breaches(v, c, warning))) ??
    (present[0] as number)
  );
}

/** Datadog renders thresholds as floats ("50.0") in its validation errors. */
function fmt(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/**
 * Validates thresholds against the comparator the way Datadog does, returning error messages (empty when
 * valid). Ordered comparators need strict inequalities: for `>`/`>=` warning < critical,
 * critical_recovery < critical, warning_recovery < warning; for `<`/`<=` the reverse. The message format
 * follows Datadog's ("Warning threshold (50.0) must be less than the alert threshold (20.0) with >
 * comparison."). `==`/`!=` accept no recovery threshold. null/undefined mean "not set".
 */
export function checkThresholds(comparator: Comparator, t: EvalOptions['thresholds']): string[] {
  const errors: string[] = [];
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const fields: [keyof EvalOptions['thresholds'], string][] = [
    ['critical', 'Alert threshold'],
    ['warning', 'Warning threshold'],
    ['critical_recovery', 'Alert recovery threshold'],
    ['warning_recovery', 'Warning recovery threshold'],
  ];
  for (const [key, label] of fields) {
    const v = t[key];
    if (key === 'critical' ? !finite(v) : v != null && !finite(v)) {
      errors.push(`${label} must be a finite number.`);
    }
  }
  if (errors.length > 0) return errors;
  const crit = t.critical;
  const warn = t.warning ?? null;
  const critRec = t.critical_recovery ?? null;
  const warnRec = t.warning_recovery ?? null;

  if (warnRec !== null && warn === null) {
    errors.push(`Warning recovery threshold (${fmt(warnRec)}) requires a warning threshold.`);
  }
  if (!isOrdered(comparator)) {
    if (critRec !== null || warnRec !== null) {
      errors.push(`Recovery thresholds are not supported with ${comparator} comparison.`);
    }
    return errors;
  }
  const above = comparator === '>' || comparator === '>=';
  const rel = above ? 'less' : 'greater';
  const ok = (a: number, b: number) => (above ? a < b : a > b);
  if (warn !== null && !ok(warn, crit)) {
    errors.push(
      `Warning threshold (${fmt(warn)}) must be ${rel} than the alert threshold (${fmt(crit)}) with ${comparator} comparison.`,
    );
  }
  if (critRec !== null && !ok(critRec, crit)) {
    errors.push(
      `Alert recovery threshold (${fmt(critRec)}) must be ${rel} than the alert threshold (${fmt(crit)}) with ${comparator} comparison.`,
    );
  }
  if (warnRec !== null && warn !== null && !ok(warnRec, warn)) {
    errors.push(
      `Warning recovery threshold (${fmt(warnRec)}) must be ${rel} than the warning threshold (${fmt(warn)}) with ${comparator} comparison.`,
    );
  }
  return errors;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Parses group_retention_duration: an integer and a unit `m`, `h` or `d` ("60m", "1h", "2d"), between 60m
 * and 72h inclusive. Returns ms or throws with a clear message.
 */
export function parseDuration(s: string): number {
  const m = typeof s === 'string' ? /^\s*(\d+)\s*([mhd])\s*$/.exec(s) : null;
  if (!m) {
    throw new Error(
      `Invalid group_retention_duration ${JSON.stringify(s)}: expected a whole number of minutes, hours or days such as "60m", "1h" or "2d".`,
    );
  }
  const unit = m[2] === 'm' ? MINUTE : m[2] === 'h' ? HOUR : DAY;
  const ms = Number(m[1]) * unit;
  if (ms < HOUR || ms > 72 * HOUR) {
    throw new Error(
      `Invalid group_retention_duration ${JSON.stringify(s)}: must be between 60m (1h) and 72h (3d).`,
    );
  }
  return ms;
}

const RENOTIFY_NAME: Record<Exclude<MonitorStatus, 'OK'>, TransitionName> = {
  Alert: 'Re-Triggered',
  Warn: 'Re-Warn',
  'No Data': 'Re-No Data',
};
const RENOTIFY_KEY: Record<Exclude<MonitorStatus, 'OK'>, 'alert' | 'warn' | 'no data'> = {
  Alert: 'alert',
  Warn: 'warn',
  'No Data': 'no data',
};
const DEFAULT_RENOTIFY_STATUSES: readonly ('alert' | 'warn' | 'no data')[] = ['alert', 'no data'];

function newState(now: number): GroupState {
  return {
    status: 'OK',
    firstSeenAt: now,
    lastDataAt: null,
    firstTriggeredAt: null,
    lastTriggeredAt: null,
    lastResolvedAt: null,
    lastNotifiedAt: null,
    lastNoDataAt: null,
    renotifications: 0,
    lastValue: null,
  };
}

/** Whether a missing window is evaluated as 0 (count rollup, on_missing_data default). */
function zeroFilled(opts: EvalOptions): boolean {
  return opts.isCountRollup && opts.onMissingData === 'default';
}

/**
 * Evaluates one group at `now`. `value` null = the window holds no data for this group. Returns the new
 * state (null = the group does not exist or was dropped by group retention) and the transitions to record,
 * in order. `prev` is not mutated.
 */
export function evaluateGroup(
  prev: GroupState | undefined,
  value: number | null,
  now: number,
  opts: EvalOptions,
  ctx: EvalContext = {},
): { state: GroupState | null; transitions: Transition[] } {
  if (prev === undefined) {
    // Choice 7: no group without data, except the count-default zero case of a monitor without any data.
    if (value === null && !(zeroFilled(opts) && ctx.monitorHasData !== true)) {
      return { state: null, transitions: [] };
    }
  } else if (value === null) {
    // Choice 9: group retention, measured from the last real data.
    const since = prev.lastDataAt ?? prev.firstSeenAt;
    if (now - since >= opts.groupRetentionMs) return { state: null, transitions: [] };
  }

  const s: GroupState = prev === undefined ? newState(now) : { ...prev };
  if (value !== null) s.lastDataAt = now;

  // Choice 8: new group delay — tracked, not evaluated.
  if (now - s.firstSeenAt < opts.newGroupDelayMs) {
    if (value !== null) s.lastValue = value;
    return { state: s, transitions: [] };
  }

  // Decide the target status and the value it was evaluated on.
  const { target, evaluated, cause } =
    value !== null
      ? { target: statusFor(s.status, value, opts), evaluated: value, cause: 'value' as const }
      : withoutData(s, now, opts, ctx);
  s.lastValue = evaluated;

  const transitions: Transition[] = [];
  const from = s.status;
  if (target !== from) {
    transitions.push(applyTransition(s, from, target, now, evaluated, cause, opts));
  } else if (from !== 'OK') {
    const r = renotify(s, from, now, evaluated, opts);
    if (r) transitions.push(r);
  }
  return { state: s, transitions };
}

interface Target {
  target: MonitorStatus;
  evaluated: number | null;
  cause: TransitionCause;
}

/** Choices 6 and 10: the target status of a call without data for this group. */
function withoutData(s: GroupState, now: number, opts: EvalOptions, ctx: EvalContext): Target {
  const t = missingDataTarget(s.status, opts, ctx);
  // no_data_timeframe: No Data waits until the group has had no data for that long.
  const quiet = now - (s.lastDataAt ?? s.firstSeenAt);
  if (t.target === 'No Data' && opts.noDataDelayMs && quiet < opts.noDataDelayMs)
    return { target: s.status, evaluated: null, cause: t.cause };
  // Choice 10: timeout_h auto-resolves an Alert/Warn group that has had no data for timeoutMs (and has not
  // been triggered for as long: after an auto-resolve, a re-trigger is resolved again only timeoutMs later).
  const triggered = (x: MonitorStatus) => x === 'Alert' || x === 'Warn';
  if (opts.timeoutMs !== null && triggered(s.status) && triggered(t.target)) {
    const since = Math.max(s.lastDataAt ?? s.firstSeenAt, s.lastTriggeredAt ?? Number.NEGATIVE_INFINITY);
    if (now - since >= opts.timeoutMs) return { target: 'OK', evaluated: t.evaluated, cause: 'timeout' };
  }
  return t;
}

/** Choice 6: the on_missing_data modes. */
function missingDataTarget(status: MonitorStatus, opts: EvalOptions, ctx: EvalContext): Target {
  const cause = 'missing_data';
  switch (opts.onMissingData) {
    case 'default':
      if (!opts.isCountRollup) return { target: status, evaluated: null, cause }; // last known status
      // Evaluate as zero; in a grouped monitor with logs elsewhere, a group without logs does not breach.
      return { target: ctx.monitorHasData === true ? 'OK' : statusFor(status, 0, opts), evaluated: 0, cause };
    case 'show_no_data':
    case 'show_and_notify_no_data':
      return { target: 'No Data', evaluated: null, cause };
    case 'resolve':
      return { target: 'OK', evaluated: null, cause };
  }
}

/** Moves `s` (a fresh copy) from `from` to `to` and returns the transition. */
function applyTransition(
  s: GroupState,
  from: MonitorStatus,
  to: MonitorStatus,
  now: number,
  value: number | null,
  cause: TransitionCause,
  opts: EvalOptions,
): Transition {
  let name: TransitionName;
  let notify: boolean;
  const episodeFirst = s.firstTriggeredAt;
  const episodeLast = s.lastTriggeredAt;
  if (to === 'OK') {
    name = 'Recovered';
    // Choice 4: a recovery is sent only for an episode that notified.
    notify = s.lastNotifiedAt !== null && episodeFirst !== null && s.lastNotifiedAt >= episodeFirst;
    s.firstTriggeredAt = null;
    s.lastResolvedAt = now;
  } else {
    if (to === 'Alert') {
      name = 'Triggered';
      notify = true;
    } else if (to === 'Warn') {
      name = 'Warn'; // also Alert→Warn (Datadog: is_alert_to_warning, "[Warn on …]")
      notify = true;
    } else {
      name = 'No Data';
      notify = opts.onMissingData === 'show_and_notify_no_data';
      s.lastNoDataAt = now;
    }
    if (from === 'OK') s.firstTriggeredAt = now;
    s.lastTriggeredAt = now;
  }
  s.status = to;
  s.renotifications = 0;
  if (notify) s.lastNotifiedAt = now;
  return {
    name,
    from,
    to,
    at: now,
    value,
    notify,
    cause,
    firstTriggeredAt: to === 'OK' ? episodeFirst : s.firstTriggeredAt,
    lastTriggeredAt: to === 'OK' ? episodeLast : s.lastTriggeredAt,
  };
}

/** Choice 5: a renotification of the current non-OK status, or null. */
function renotify(
  s: GroupState,
  status: Exclude<MonitorStatus, 'OK'>,
  now: number,
  value: number | null,
  opts: EvalOptions,
): Transition | null {
  const interval = opts.renotifyIntervalMs;
  if (interval === null || !(interval > 0)) return null;
  const statuses = opts.renotifyStatuses.length > 0 ? opts.renotifyStatuses : DEFAULT_RENOTIFY_STATUSES;
  if (!statuses.includes(RENOTIFY_KEY[status])) return null;
  if (opts.renotifyOccurrences !== null && s.renotifications >= opts.renotifyOccurrences) return null;
  // Only a status whose entering transition notified is renotified.
  if (s.lastNotifiedAt === null || s.lastTriggeredAt === null || s.lastNotifiedAt < s.lastTriggeredAt) {
    return null;
  }
  if (now - s.lastNotifiedAt < interval) return null;
  s.renotifications += 1;
  s.lastNotifiedAt = now;
  return {
    name: RENOTIFY_NAME[status],
    from: status,
    to: status,
    at: now,
    value,
    notify: true,
    cause: 'renotify',
    firstTriggeredAt: s.firstTriggeredAt,
    lastTriggeredAt: s.lastTriggeredAt,
  };
}
