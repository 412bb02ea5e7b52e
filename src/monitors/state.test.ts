import { describe, expect, it } from 'vitest';
import {
  type Comparator,
  checkThresholds,
  type EvalContext,
  type EvalOptions,
  evaluateGroup,
  type GroupState,
  type MonitorStatus,
  parseDuration,
  statusFor,
  type Transition,
  worstValue,
} from './state.ts';

const S = 1000;
const H = 3600 * S;
/** The clock origin of every case (epoch ms); step times are seconds after it. */
const T0 = Date.parse('2026-11-20T00:00:00Z');

const BASE: EvalOptions = {
  comparator: '>',
  thresholds: { critical: 10 },
  onMissingData: 'default',
  isCountRollup: true,
  renotifyIntervalMs: null,
  renotifyOccurrences: null,
  renotifyStatuses: [],
  newGroupDelayMs: 0,
  groupRetentionMs: 24 * H,
  timeoutMs: null,
};

interface StepExtra {
  ctx?: EvalContext;
  /** fields the state must have after the step (times in seconds after T0, null kept) */
  state?: Partial<Record<keyof GroupState, number | string | null>>;
  /** fields each transition must have, by index (times in seconds after T0) */
  tr?: Partial<Record<keyof Transition, number | string | boolean | null>>[];
}
/**
 * [seconds after T0, value, expected status (null = no state), expected transitions, extra checks].
 * A transition is written `from→to Name`, with ` silent` when it must not notify.
 */
type Step = [
  t: number,
  v: number | null,
  status: MonitorStatus | null,
  transitions?: string[],
  extra?: StepExtra,
];
interface Case {
  name: string;
  opts?: Partial<EvalOptions>;
  steps: Step[];
}

const TIME_FIELDS = new Set([
  'firstSeenAt',
  'lastDataAt',
  'firstTriggeredAt',
  'lastTriggeredAt',
  'lastResolvedAt',
  'lastNotifiedAt',
  'lastNoDataAt',
  'at',
]);
const rel = (k: string, v: unknown) => (TIME_FIELDS.has(k) && typeof v === 'number' ? (v - T0) / S : v);
const relObj = (o: object, keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, rel(k, (o as Record<string, unknown>)[k])]));
const show = (t: Transition) => `${t.from}→${t.to} ${t.name}${t.notify ? '' : ' silent'}`;

function run(c: Case): void {
  const opts: EvalOptions = { ...BASE, ...c.opts };
  let state: GroupState | undefined;
  for (const [i, [t, v, status, transitions = [], extra = {}]] of c.steps.entries()) {
    const where = `step ${i} (t=${t}s, v=${v})`;
    const frozen = state ? structuredClone(state) : undefined;
    const out = evaluateGroup(state, v, T0 + t * S, opts, extra.ctx);
    if (frozen) expect(state, `${where}: prev not mutated`).toEqual(frozen);
    expect(out.state?.status ?? null, `${where}: status`).toBe(status);
    expect(out.transitions.map(show), `${where}: transitions`).toEqual(transitions);
    for (const tr of out.transitions) {
      expect(tr.at, `${where}: transition time`).toBe(T0 + t * S);
    }
    if (extra.state) {
      expect(out.state, `${where}: state`).not.toBeNull();
      expect(relObj(out.state!, Object.keys(extra.state)), `${where}: state fields`).toEqual(extra.state);
    }
    for (const [j, want] of (extra.tr ?? []).entries()) {
      expect(relObj(out.transitions[j]!, Object.keys(want)), `${where}: transition ${j}`).toEqual(want);
    }
    state = out.state ?? undefined;
  }
}

const WARN5 = { critical: 10, warning: 5 };
const NON_COUNT: Partial<EvalOptions> = { isCountRollup: false };

const cases: Case[] = [
  // ---- transitions -------------------------------------------------------------------------------------
  { name: 'a group below every threshold stays OK', opts: { thresholds: WARN5 }, steps: [[0, 1, 'OK']] },
  {
    name: 'a group first seen breaching is Triggered from OK',
    steps: [[0, 11, 'Alert', ['OK→Alert Triggered'], { tr: [{ value: 11, cause: 'value', notify: true }] }]],
  },
  {
    name: 'a group first seen at warning level gets Warn from OK',
    opts: { thresholds: WARN5 },
    steps: [[0, 6, 'Warn', ['OK→Warn Warn']]],
  },
  {
    name: 'OK → Warn → Alert → Warn → OK',
    opts: { thresholds: WARN5 },
    steps: [
      [0, 1, 'OK'],
      [1, 6, 'Warn', ['OK→Warn Warn']],
      [2, 11, 'Alert', ['Warn→Alert Triggered']],
      [3, 7, 'Warn', ['Alert→Warn Warn']],
      [4, 2, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: 'Alert → OK directly is Recovered',
    opts: { thresholds: WARN5 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 0, 'OK', ['Alert→OK Recovered'], { tr: [{ value: 0, cause: 'value' }] }],
    ],
  },
  {
    name: 'a steady breach emits one transition only',
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 12, 'Alert'],
      [2, 50, 'Alert'],
    ],
  },
  {
    name: '> : a value equal to the threshold does not breach',
    opts: { thresholds: WARN5 },
    steps: [
      [0, 10, 'Warn', ['OK→Warn Warn']],
      [1, 5, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '>= : a value equal to the threshold breaches',
    opts: { comparator: '>=', thresholds: WARN5 },
    steps: [
      [0, 5, 'Warn', ['OK→Warn Warn']],
      [1, 10, 'Alert', ['Warn→Alert Triggered']],
    ],
  },
  {
    name: '< : below the thresholds alerts and warns',
    opts: { comparator: '<', thresholds: { critical: 2, warning: 5 } },
    steps: [
      [0, 6, 'OK'],
      [1, 3, 'Warn', ['OK→Warn Warn']],
      [2, 1, 'Alert', ['Warn→Alert Triggered']],
      [3, 2, 'Warn', ['Alert→Warn Warn']],
      [4, 5, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '<= : equality breaches',
    opts: { comparator: '<=', thresholds: { critical: 2, warning: 5 } },
    steps: [
      [0, 5, 'Warn', ['OK→Warn Warn']],
      [1, 2, 'Alert', ['Warn→Alert Triggered']],
      [2, 6, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: '== : only the exact value alerts',
    opts: { comparator: '==', thresholds: { critical: 3, warning: 2 } },
    steps: [
      [0, 4, 'OK'],
      [1, 3, 'Alert', ['OK→Alert Triggered']],
      [2, 2, 'Warn', ['Alert→Warn Warn']],
      [3, 2.5, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '!= : any other value alerts',
    opts: { comparator: '!=', thresholds: { critical: 0 } },
    steps: [
      [0, 0, 'OK'],
      [1, 1, 'Alert', ['OK→Alert Triggered']],
      [2, 0, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'critical wins over warning when both breach',
    opts: { comparator: '!=', thresholds: { critical: 0, warning: 1 } },
    steps: [[0, 5, 'Alert', ['OK→Alert Triggered']]],
  },

  // ---- recovery thresholds -----------------------------------------------------------------------------
  {
    name: '> with critical_recovery: Alert holds until value <= recovery',
    opts: { thresholds: { critical: 10, critical_recovery: 5 } },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 8, 'Alert'],
      [2, 6, 'Alert'],
      [3, 5, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: '>= with critical_recovery: Alert holds until value < recovery',
    opts: { comparator: '>=', thresholds: { critical: 10, critical_recovery: 5 } },
    steps: [
      [0, 10, 'Alert', ['OK→Alert Triggered']],
      [1, 5, 'Alert'],
      [2, 4.9, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: '< with critical_recovery: Alert holds until value >= recovery',
    opts: { comparator: '<', thresholds: { critical: 2, critical_recovery: 5 } },
    steps: [
      [0, 1, 'Alert', ['OK→Alert Triggered']],
      [1, 4, 'Alert'],
      [2, 5, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: '<= with critical_recovery: Alert holds until value > recovery',
    opts: { comparator: '<=', thresholds: { critical: 2, critical_recovery: 5 } },
    steps: [
      [0, 2, 'Alert', ['OK→Alert Triggered']],
      [1, 5, 'Alert'],
      [2, 6, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: '> with warning_recovery: Warn holds until value <= recovery',
    opts: { thresholds: { critical: 10, warning: 5, warning_recovery: 3 } },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [1, 4, 'Warn'],
      [2, 3, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '>= with warning_recovery: Warn holds until value < recovery',
    opts: { comparator: '>=', thresholds: { critical: 10, warning: 5, warning_recovery: 3 } },
    steps: [
      [0, 5, 'Warn', ['OK→Warn Warn']],
      [1, 3, 'Warn'],
      [2, 2, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '< with warning_recovery: Warn holds until value >= recovery',
    opts: { comparator: '<', thresholds: { critical: 2, warning: 5, warning_recovery: 8 } },
    steps: [
      [0, 4, 'Warn', ['OK→Warn Warn']],
      [1, 7, 'Warn'],
      [2, 8, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: '<= with warning_recovery: Warn holds until value > recovery',
    opts: { comparator: '<=', thresholds: { critical: 2, warning: 5, warning_recovery: 8 } },
    steps: [
      [0, 5, 'Warn', ['OK→Warn Warn']],
      [1, 8, 'Warn'],
      [2, 9, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: 'an Alert held by critical_recovery ignores the warning level until it recovers, then goes to Warn',
    opts: { thresholds: { critical: 10, warning: 5, critical_recovery: 7 } },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 8, 'Alert'],
      [2, 6, 'Warn', ['Alert→Warn Warn']],
      [3, 4, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: 'leaving Alert honours warning_recovery: Alert → Warn inside the warning hysteresis band',
    opts: { thresholds: { critical: 10, warning: 5, warning_recovery: 3 } },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 4, 'Warn', ['Alert→Warn Warn']],
      [2, 3, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: 'leaving Alert below warning_recovery goes straight to OK',
    opts: { thresholds: { critical: 10, warning: 5, warning_recovery: 3 } },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, 2, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'from OK, a value inside the hysteresis band is OK (no hysteresis without a triggered status)',
    opts: { thresholds: { critical: 10, critical_recovery: 5 } },
    steps: [
      [0, 8, 'OK'],
      [1, 11, 'Alert', ['OK→Alert Triggered']],
      [2, 4, 'OK', ['Alert→OK Recovered']],
      [3, 8, 'OK'],
    ],
  },
  {
    name: '== ignores recovery thresholds',
    opts: { comparator: '==', thresholds: { critical: 3, critical_recovery: 10 } },
    steps: [
      [0, 3, 'Alert', ['OK→Alert Triggered']],
      [1, 4, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'No Data has no hysteresis: data inside the band after No Data is OK',
    opts: { ...NON_COUNT, onMissingData: 'show_no_data', thresholds: { critical: 10, critical_recovery: 5 } },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'No Data', ['Alert→No Data No Data silent']],
      [2, 8, 'OK', ['No Data→OK Recovered']],
    ],
  },

  // ---- missing data ------------------------------------------------------------------------------------
  {
    name: 'count + default: an empty window is evaluated as 0 (recovers a > monitor)',
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [
        1,
        null,
        'OK',
        ['Alert→OK Recovered'],
        { tr: [{ value: 0, cause: 'missing_data' }], state: { lastValue: 0, lastDataAt: 0 } },
      ],
    ],
  },
  {
    name: 'count + default, ungrouped < 1: a monitor that never had data alerts on silence',
    opts: { comparator: '<', thresholds: { critical: 1 } },
    steps: [
      [
        0,
        null,
        'Alert',
        ['OK→Alert Triggered'],
        { state: { lastDataAt: null, firstSeenAt: 0, lastValue: 0 } },
      ],
      [1, 3, 'OK', ['Alert→OK Recovered']],
      [2, null, 'Alert', ['OK→Alert Triggered']],
    ],
  },
  {
    name: 'count + default, grouped < 2: a group without logs does not alert while other groups have logs',
    opts: { comparator: '<', thresholds: { critical: 2 } },
    steps: [
      [0, 1, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'OK', ['Alert→OK Recovered'], { ctx: { monitorHasData: true }, tr: [{ value: 0 }] }],
      [2, null, 'OK', [], { ctx: { monitorHasData: true } }],
      [3, null, 'Alert', ['OK→Alert Triggered'], { ctx: { monitorHasData: false }, tr: [{ value: 0 }] }],
    ],
  },
  {
    name: 'count + default, grouped: an unknown group without data is not created',
    steps: [[0, null, null, [], { ctx: { monitorHasData: true } }]],
  },
  {
    name: 'non-count + default: the last known Alert is kept without data',
    opts: NON_COUNT,
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'Alert', [], { state: { lastValue: null, lastDataAt: 0 } }],
      [60, null, 'Alert'],
      [61, 3, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'non-count + default: the last known OK is kept without data',
    opts: { ...NON_COUNT, comparator: '<', thresholds: { critical: 1 } },
    steps: [
      [0, 3, 'OK'],
      [1, null, 'OK'],
    ],
  },
  {
    name: 'non-count + default: the last known Warn is kept without data',
    opts: { ...NON_COUNT, thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [1, null, 'Warn'],
    ],
  },
  {
    name: 'non-count + default: a new group needs data',
    opts: NON_COUNT,
    steps: [[0, null, null]],
  },
  {
    name: 'count + show_no_data: No Data without notification, then Triggered when data breaches again',
    opts: { onMissingData: 'show_no_data' },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [
        1,
        null,
        'No Data',
        ['Alert→No Data No Data silent'],
        { tr: [{ value: null, cause: 'missing_data' }] },
      ],
      [2, null, 'No Data'],
      [3, 12, 'Alert', ['No Data→Alert Triggered']],
    ],
  },
  {
    name: 'non-count + show_no_data: a silent No Data from OK recovers silently',
    opts: { ...NON_COUNT, onMissingData: 'show_no_data' },
    steps: [
      [0, 3, 'OK'],
      [1, null, 'No Data', ['OK→No Data No Data silent']],
      [2, 3, 'OK', ['No Data→OK Recovered silent']],
    ],
  },
  {
    name: 'show_no_data: Alert → silent No Data → OK still sends the recovery',
    opts: { ...NON_COUNT, onMissingData: 'show_no_data' },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'No Data', ['Alert→No Data No Data silent']],
      [2, 3, 'OK', ['No Data→OK Recovered']],
    ],
  },
  {
    name: 'non-count + show_and_notify_no_data: No Data notifies, and so does its recovery',
    opts: { ...NON_COUNT, onMissingData: 'show_and_notify_no_data' },
    steps: [
      [0, 3, 'OK'],
      [1, null, 'No Data', ['OK→No Data No Data'], { state: { lastNoDataAt: 1, firstTriggeredAt: 1 } }],
      [2, 3, 'OK', ['No Data→OK Recovered']],
    ],
  },
  {
    name: 'no_data_timeframe: No Data only after that long without data; the status is kept meanwhile',
    opts: { onMissingData: 'show_and_notify_no_data', noDataDelayMs: 600 * S },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [60, null, 'Alert', [], { state: { lastDataAt: 0 } }],
      [599, null, 'Alert'],
      [600, null, 'No Data', ['Alert→No Data No Data']],
      [700, 3, 'OK', ['No Data→OK Recovered']],
      [800, null, 'OK'],
      [1300, null, 'No Data', ['OK→No Data No Data']],
    ],
  },
  {
    name: 'count + show_and_notify_no_data: Alert → No Data → Warn',
    opts: { onMissingData: 'show_and_notify_no_data', thresholds: WARN5 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'No Data', ['Alert→No Data No Data']],
      [2, 6, 'Warn', ['No Data→Warn Warn']],
    ],
  },
  {
    name: 'show_and_notify_no_data: a group never seen does not start in No Data',
    opts: { onMissingData: 'show_and_notify_no_data' },
    steps: [[0, null, null]],
  },
  {
    name: 'count + resolve: missing data resolves an Alert',
    opts: { onMissingData: 'resolve', comparator: '<', thresholds: { critical: 1 } },
    steps: [
      [0, 0, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'OK', ['Alert→OK Recovered'], { tr: [{ cause: 'missing_data', value: null }] }],
      [2, null, 'OK'],
    ],
  },
  {
    name: 'non-count + resolve: missing data resolves a Warn',
    opts: { ...NON_COUNT, onMissingData: 'resolve', thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [1, null, 'OK', ['Warn→OK Recovered']],
    ],
  },

  // ---- renotify ----------------------------------------------------------------------------------------
  {
    name: 'renotify every interval while in Alert (Re-Triggered)',
    opts: { renotifyIntervalMs: 60 * S },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [30, 11, 'Alert'],
      [59, 11, 'Alert'],
      [60, 11, 'Alert', ['Alert→Alert Re-Triggered'], { tr: [{ cause: 'renotify', value: 11 }] }],
      [90, 12, 'Alert'],
      [
        120,
        13,
        'Alert',
        ['Alert→Alert Re-Triggered'],
        { state: { renotifications: 2, lastNotifiedAt: 120 } },
      ],
    ],
  },
  {
    name: 'renotify stops after renotifyOccurrences',
    opts: { renotifyIntervalMs: 60 * S, renotifyOccurrences: 2 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [60, 11, 'Alert', ['Alert→Alert Re-Triggered']],
      [120, 11, 'Alert', ['Alert→Alert Re-Triggered']],
      [180, 11, 'Alert', [], { state: { renotifications: 2 } }],
      [600, 11, 'Alert'],
    ],
  },
  {
    name: 'default renotify statuses (alert + no data) do not renotify Warn',
    opts: { renotifyIntervalMs: 60 * S, thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [60, 6, 'Warn'],
      [600, 6, 'Warn'],
    ],
  },
  {
    name: "renotifyStatuses ['warn']: Re-Warn, and no renotification of Alert",
    opts: { renotifyIntervalMs: 60 * S, renotifyStatuses: ['warn'], thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [60, 6, 'Warn', ['Warn→Warn Re-Warn']],
      [61, 11, 'Alert', ['Warn→Alert Triggered']],
      [121, 11, 'Alert'],
    ],
  },
  {
    name: 'No Data is renotified as Re-No Data with show_and_notify_no_data',
    opts: { renotifyIntervalMs: 60 * S, onMissingData: 'show_and_notify_no_data' },
    steps: [
      [0, 3, 'OK'],
      [1, null, 'No Data', ['OK→No Data No Data']],
      [61, null, 'No Data', ['No Data→No Data Re-No Data'], { tr: [{ value: null }] }],
    ],
  },
  {
    name: 'a silent No Data (show_no_data) is never renotified',
    opts: { renotifyIntervalMs: 60 * S, renotifyStatuses: ['no data'], onMissingData: 'show_no_data' },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'No Data', ['Alert→No Data No Data silent']],
      [61, null, 'No Data'],
      [600, null, 'No Data'],
    ],
  },
  {
    name: 'the renotification counter resets on each transition',
    opts: {
      renotifyIntervalMs: 60 * S,
      renotifyOccurrences: 1,
      renotifyStatuses: ['alert', 'warn'],
      thresholds: WARN5,
    },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [60, 11, 'Alert', ['Alert→Alert Re-Triggered'], { state: { renotifications: 1 } }],
      [120, 11, 'Alert'],
      [130, 6, 'Warn', ['Alert→Warn Warn'], { state: { renotifications: 0 } }],
      [190, 6, 'Warn', ['Warn→Warn Re-Warn']],
      [250, 6, 'Warn'],
    ],
  },
  {
    name: 'the renotify interval runs from the last notification',
    opts: { renotifyIntervalMs: 60 * S, renotifyStatuses: ['alert', 'warn'], thresholds: WARN5 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [30, 6, 'Warn', ['Alert→Warn Warn']],
      [60, 6, 'Warn'],
      [90, 6, 'Warn', ['Warn→Warn Re-Warn']],
    ],
  },
  {
    name: 'renotify happens on a tick without data when the last known Alert is kept',
    opts: { ...NON_COUNT, renotifyIntervalMs: 60 * S },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [60, null, 'Alert', ['Alert→Alert Re-Triggered'], { tr: [{ value: null }] }],
    ],
  },
  {
    name: 'renotify leaves the triggered times alone',
    opts: { renotifyIntervalMs: 60 * S, thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [10, 11, 'Alert', ['Warn→Alert Triggered']],
      [
        70,
        11,
        'Alert',
        ['Alert→Alert Re-Triggered'],
        {
          tr: [{ firstTriggeredAt: 0, lastTriggeredAt: 10 }],
          state: { firstTriggeredAt: 0, lastTriggeredAt: 10 },
        },
      ],
    ],
  },
  {
    name: 'a long gap between calls gives one renotification, not a burst',
    opts: { renotifyIntervalMs: 60 * S },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [600, 11, 'Alert', ['Alert→Alert Re-Triggered']],
      [601, 11, 'Alert'],
      [660, 11, 'Alert', ['Alert→Alert Re-Triggered']],
    ],
  },
  {
    name: 'no renotify interval, no renotification',
    opts: { renotifyIntervalMs: null, renotifyStatuses: ['alert'] },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [86400, 11, 'Alert'],
    ],
  },
  {
    name: 'renotification after recovery and re-trigger starts from the new trigger',
    opts: { renotifyIntervalMs: 60 * S, renotifyOccurrences: 1 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [60, 11, 'Alert', ['Alert→Alert Re-Triggered']],
      [70, 1, 'OK', ['Alert→OK Recovered']],
      [80, 11, 'Alert', ['OK→Alert Triggered']],
      [139, 11, 'Alert'],
      [140, 11, 'Alert', ['Alert→Alert Re-Triggered']],
    ],
  },

  // ---- new group delay ---------------------------------------------------------------------------------
  {
    name: 'new_group_delay: a breaching new group is tracked but not evaluated until the delay has passed',
    opts: { newGroupDelayMs: 60 * S },
    steps: [
      [0, 11, 'OK', [], { state: { firstSeenAt: 0, lastDataAt: 0, lastValue: 11, firstTriggeredAt: null } }],
      [30, 12, 'OK', [], { state: { firstSeenAt: 0, lastDataAt: 30, lastValue: 12 } }],
      [59, 13, 'OK'],
      [60, 14, 'Alert', ['OK→Alert Triggered'], { state: { firstTriggeredAt: 60 } }],
    ],
  },
  {
    name: 'new_group_delay: a group that stops breaching within the delay never notifies',
    opts: { newGroupDelayMs: 60 * S, thresholds: WARN5 },
    steps: [
      [0, 11, 'OK'],
      [20, 6, 'OK'],
      [40, 1, 'OK'],
      [60, 1, 'OK'],
    ],
  },
  {
    name: 'new_group_delay: the first evaluation after the delay may happen on a tick without data',
    opts: { newGroupDelayMs: 60 * S, ...NON_COUNT },
    steps: [
      [0, 11, 'OK'],
      [61, null, 'OK'],
      [62, 11, 'Alert', ['OK→Alert Triggered']],
    ],
  },
  {
    name: 'new_group_delay 0: evaluated at once',
    opts: { newGroupDelayMs: 0 },
    steps: [[0, 11, 'Alert', ['OK→Alert Triggered']]],
  },

  // ---- group retention ---------------------------------------------------------------------------------
  {
    name: 'group retention: dropped once groupRetentionMs has passed without data',
    opts: { ...NON_COUNT, groupRetentionMs: H },
    steps: [
      [0, 3, 'OK'],
      [3599, null, 'OK'],
      [3600, null, null],
    ],
  },
  {
    name: 'group retention: data resets the clock',
    opts: { ...NON_COUNT, groupRetentionMs: H },
    steps: [
      [0, 3, 'OK'],
      [3000, 3, 'OK'],
      [3600, null, 'OK'],
      [6599, null, 'OK'],
      [6600, null, null],
    ],
  },
  {
    name: 'group retention: an Alert group is dropped without a transition',
    opts: { ...NON_COUNT, groupRetentionMs: H },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [3600, null, null, []],
      [3601, 11, 'Alert', ['OK→Alert Triggered'], { state: { firstSeenAt: 3601 } }],
    ],
  },
  {
    name: 'group retention: a count window evaluated as 0 is still no data',
    opts: { groupRetentionMs: H },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'OK', ['Alert→OK Recovered']],
      [3599, null, 'OK'],
      [3600, null, null],
    ],
  },
  {
    name: 'group retention: a group with data is never dropped, however old',
    opts: { groupRetentionMs: H },
    steps: [
      [0, 3, 'OK'],
      [7200, 3, 'OK'],
    ],
  },
  {
    name: 'group retention Infinity (simple alert): never dropped',
    opts: { ...NON_COUNT, groupRetentionMs: Number.POSITIVE_INFINITY },
    steps: [
      [0, 3, 'OK'],
      [30 * 86400, null, 'OK'],
    ],
  },
  {
    name: 'group retention: a group with only zero-filled windows is measured from firstSeenAt',
    opts: { comparator: '<', thresholds: { critical: 1 }, groupRetentionMs: H },
    steps: [
      [0, null, 'Alert', ['OK→Alert Triggered']],
      [3600, null, null],
    ],
  },

  // ---- timeout_h ---------------------------------------------------------------------------------------
  {
    name: 'timeout: an Alert without data is resolved after timeoutMs, and re-triggers on the next breach',
    opts: { ...NON_COUNT, timeoutMs: H },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1800, null, 'Alert'],
      [3600, null, 'OK', ['Alert→OK Recovered'], { tr: [{ cause: 'timeout', value: null, notify: true }] }],
      [3700, null, 'OK'],
      [4000, 12, 'Alert', ['OK→Alert Triggered'], { state: { firstTriggeredAt: 4000 } }],
    ],
  },
  {
    name: 'timeout: no auto-resolve while data is still reporting',
    opts: { ...NON_COUNT, timeoutMs: H },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [3600, 11, 'Alert'],
      [7200, 11, 'Alert'],
    ],
  },
  {
    name: 'timeout: runs from the last data',
    opts: { ...NON_COUNT, timeoutMs: H },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1000, 11, 'Alert'],
      [3600, null, 'Alert'],
      [4599, null, 'Alert'],
      [4600, null, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'timeout: resolves a Warn too',
    opts: { ...NON_COUNT, timeoutMs: H, thresholds: WARN5 },
    steps: [
      [0, 6, 'Warn', ['OK→Warn Warn']],
      [3600, null, 'OK', ['Warn→OK Recovered']],
    ],
  },
  {
    name: 'timeout: a count < 1 monitor auto-resolves, re-triggers, and resolves again one timeout later',
    opts: { comparator: '<', thresholds: { critical: 1 }, timeoutMs: H, groupRetentionMs: Infinity },
    steps: [
      [0, null, 'Alert', ['OK→Alert Triggered']],
      [3599, null, 'Alert'],
      [3600, null, 'OK', ['Alert→OK Recovered'], { tr: [{ cause: 'timeout' }] }],
      [3601, null, 'Alert', ['OK→Alert Triggered'], { tr: [{ cause: 'missing_data', value: 0 }] }],
      [7200, null, 'Alert'],
      [7201, null, 'OK', ['Alert→OK Recovered']],
    ],
  },
  {
    name: 'timeout: No Data is not auto-resolved',
    opts: { ...NON_COUNT, timeoutMs: H, onMissingData: 'show_and_notify_no_data' },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [1, null, 'No Data', ['Alert→No Data No Data']],
      [7200, null, 'No Data'],
    ],
  },

  // ---- first/last triggered times (§4.4 example table) -------------------------------------------------
  {
    name: '§4.4: OK→WARN (A,A), WARN→ALERT (A,B), ALERT→NO DATA (A,C), NO DATA→OK (A,C; duration D−A)',
    opts: { ...NON_COUNT, onMissingData: 'show_and_notify_no_data', thresholds: WARN5 },
    steps: [
      [0, 1, 'OK'],
      [100, 6, 'Warn', ['OK→Warn Warn'], { tr: [{ firstTriggeredAt: 100, lastTriggeredAt: 100 }] }],
      [200, 11, 'Alert', ['Warn→Alert Triggered'], { tr: [{ firstTriggeredAt: 100, lastTriggeredAt: 200 }] }],
      [
        300,
        null,
        'No Data',
        ['Alert→No Data No Data'],
        { tr: [{ firstTriggeredAt: 100, lastTriggeredAt: 300 }], state: { lastNoDataAt: 300 } },
      ],
      [
        400,
        1,
        'OK',
        ['No Data→OK Recovered'],
        {
          tr: [{ firstTriggeredAt: 100, lastTriggeredAt: 300, at: 400 }],
          state: { firstTriggeredAt: null, lastTriggeredAt: 300, lastResolvedAt: 400 },
        },
      ],
    ],
  },
  {
    name: 'first triggered time of a group appearing non-OK is its first evaluation',
    steps: [[5, 11, 'Alert', ['OK→Alert Triggered'], { state: { firstTriggeredAt: 5, lastTriggeredAt: 5 } }]],
  },
  {
    name: 'a new episode after recovery gets a new first triggered time; last resolved time is kept',
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [10, 1, 'OK', ['Alert→OK Recovered'], { state: { firstTriggeredAt: null, lastResolvedAt: 10 } }],
      [20, 11, 'Alert', ['OK→Alert Triggered'], { state: { firstTriggeredAt: 20, lastResolvedAt: 10 } }],
    ],
  },
  {
    name: 'Alert→Warn sets last triggered time, not first',
    opts: { thresholds: WARN5 },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered']],
      [10, 6, 'Warn', ['Alert→Warn Warn'], { state: { firstTriggeredAt: 0, lastTriggeredAt: 10 } }],
    ],
  },
  {
    name: 'lastNotifiedAt follows notifying transitions only',
    opts: { onMissingData: 'show_no_data' },
    steps: [
      [0, 11, 'Alert', ['OK→Alert Triggered'], { state: { lastNotifiedAt: 0 } }],
      [5, null, 'No Data', ['Alert→No Data No Data silent'], { state: { lastNotifiedAt: 0 } }],
      [9, 1, 'OK', ['No Data→OK Recovered'], { state: { lastNotifiedAt: 9 } }],
    ],
  },
];

describe('evaluateGroup', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));

  it('has at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });
});

describe('statusFor', () => {
  const o = (comparator: Comparator, thresholds: EvalOptions['thresholds']): EvalOptions => ({
    ...BASE,
    comparator,
    thresholds,
  });
  const rows: [string, MonitorStatus, number, EvalOptions, MonitorStatus][] = [
    ['> alert', 'OK', 11, o('>', WARN5), 'Alert'],
    ['> warn', 'OK', 6, o('>', WARN5), 'Warn'],
    ['> ok', 'OK', 5, o('>', WARN5), 'OK'],
    ['> held by critical_recovery', 'Alert', 6, o('>', { critical: 10, critical_recovery: 5 }), 'Alert'],
    ['> critical_recovery met', 'Alert', 5, o('>', { critical: 10, critical_recovery: 5 }), 'OK'],
    ['>= critical_recovery boundary', 'Alert', 5, o('>=', { critical: 10, critical_recovery: 5 }), 'Alert'],
    ['< critical_recovery boundary', 'Alert', 5, o('<', { critical: 2, critical_recovery: 5 }), 'OK'],
    ['<= critical_recovery boundary', 'Alert', 5, o('<=', { critical: 2, critical_recovery: 5 }), 'Alert'],
    ['No Data has no hysteresis', 'No Data', 6, o('>', { critical: 10, critical_recovery: 5 }), 'OK'],
    [
      'null recovery thresholds are ignored',
      'Alert',
      9,
      o('>', { ...WARN5, critical_recovery: null }),
      'Warn',
    ],
    [
      'warning_recovery without warning is ignored',
      'Alert',
      9,
      o('>', { critical: 10, warning_recovery: 3 }),
      'OK',
    ],
    ['!= ignores recovery thresholds', 'Alert', 0, o('!=', { critical: 1, critical_recovery: 5 }), 'Alert'],
  ];
  it.each(rows)('%s', (_n, prev, value, opts, want) => {
    expect(statusFor(prev, value, opts)).toBe(want);
  });
});

describe('checkThresholds', () => {
  const rows: [Comparator, EvalOptions['thresholds'], string[]][] = [
    ['>', { critical: 10, warning: 5, critical_recovery: 8, warning_recovery: 3 }, []],
    ['<', { critical: 2, warning: 5, critical_recovery: 3, warning_recovery: 8 }, []],
    ['>', { critical: 10, warning: null, critical_recovery: null, warning_recovery: null }, []],
    [
      '>',
      { critical: 20, warning: 50 },
      ['Warning threshold (50.0) must be less than the alert threshold (20.0) with > comparison.'],
    ],
    [
      '>=',
      { critical: 20, warning: 20 },
      ['Warning threshold (20.0) must be less than the alert threshold (20.0) with >= comparison.'],
    ],
    [
      '<',
      { critical: 5, warning: 2.5 },
      ['Warning threshold (2.5) must be greater than the alert threshold (5.0) with < comparison.'],
    ],
    [
      '>',
      { critical: 10, critical_recovery: 10 },
      ['Alert recovery threshold (10.0) must be less than the alert threshold (10.0) with > comparison.'],
    ],
    [
      '<=',
      { critical: 10, critical_recovery: 4 },
      ['Alert recovery threshold (4.0) must be greater than the alert threshold (10.0) with <= comparison.'],
    ],
    [
      '>',
      { critical: 10, warning: 5, warning_recovery: 6 },
      ['Warning recovery threshold (6.0) must be less than the warning threshold (5.0) with > comparison.'],
    ],
    [
      '<',
      { critical: 1, warning: 5, warning_recovery: 5 },
      [
        'Warning recovery threshold (5.0) must be greater than the warning threshold (5.0) with < comparison.',
      ],
    ],
    [
      '>',
      { critical: 10, warning_recovery: 3 },
      ['Warning recovery threshold (3.0) requires a warning threshold.'],
    ],
    [
      '==',
      { critical: 3, critical_recovery: 4 },
      ['Recovery thresholds are not supported with == comparison.'],
    ],
    ['!=', { critical: 3, warning: 9 }, []],
    ['==', { critical: 3, warning: 3 }, []],
    [
      '>',
      { critical: 1, warning: 2, critical_recovery: 3, warning_recovery: 4 },
      [
        'Warning threshold (2.0) must be less than the alert threshold (1.0) with > comparison.',
        'Alert recovery threshold (3.0) must be less than the alert threshold (1.0) with > comparison.',
        'Warning recovery threshold (4.0) must be less than the warning threshold (2.0) with > comparison.',
      ],
    ],
    ['>', { critical: Number.NaN }, ['Alert threshold must be a finite number.']],
    [
      '>',
      { critical: 1, warning: Number.POSITIVE_INFINITY } as EvalOptions['thresholds'],
      ['Warning threshold must be a finite number.'],
    ],
    ['>', { critical: '5' } as any, ['Alert threshold must be a finite number.']],
  ];
  it.each(rows)('%s %j', (comparator, t, want) => {
    expect(checkThresholds(comparator, t)).toEqual(want);
  });
});

describe('parseDuration', () => {
  it.each([
    ['60m', H],
    ['1h', H],
    ['90m', 1.5 * H],
    ['24h', 24 * H],
    ['2d', 48 * H],
    ['72h', 72 * H],
    ['3d', 72 * H],
    [' 4320m ', 72 * H],
  ])('%j → %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });
  it.each(['59m', '73h', '4d', '0h'])('%j is out of range', (s) => {
    expect(() => parseDuration(s)).toThrow(/must be between 60m \(1h\) and 72h \(3d\)/);
  });
  it.each(['', '1w', '1.5h', 'h', '60', '1H', '-1h', '1h30m'])('%j is not a duration', (s) => {
    expect(() => parseDuration(s)).toThrow(/expected a whole number of minutes, hours or days/);
  });
});

describe('worstValue (notify_by: the value of a notification group)', () => {
  const rows: [string, Partial<EvalOptions>, (number | null)[], number | null][] = [
    ['> takes the largest', { comparator: '>' }, [3, 12, 7], 12],
    ['>= takes the largest', { comparator: '>=' }, [-1, -5], -1],
    ['< takes the smallest', { comparator: '<', thresholds: { critical: 1 } }, [4, 0, 2], 0],
    ['<= takes the smallest', { comparator: '<=', thresholds: { critical: 1 } }, [4, 2], 2],
    ['members without data are left out', { comparator: '<', thresholds: { critical: 1 } }, [null, 3], 3],
    ['no member with data: null', { comparator: '>' }, [null, null], null],
    ['no member at all: null', { comparator: '>' }, [], null],
    ['== takes a member breaching critical', { comparator: '==', thresholds: { critical: 5 } }, [1, 5, 9], 5],
    [
      '== else one breaching warning',
      { comparator: '==', thresholds: { critical: 5, warning: 3 } },
      [1, 3, 9],
      3,
    ],
    ['== else the first', { comparator: '==', thresholds: { critical: 5 } }, [null, 1, 9], 1],
    ['!= takes a member breaching critical', { comparator: '!=', thresholds: { critical: 0 } }, [0, 0, 2], 2],
  ];
  it.each(rows)('%s', (_name, o, values, want) => {
    expect(worstValue(values, { ...BASE, ...o })).toBe(want);
  });
});

/**
 * notify_by aggregation over time: each step gives the values of the query groups sharing one notification
 * group; the notification group runs the state machine on their worst value. Datadog: one notification per
 * notification group, alerting while any member alerts, recovering once every member recovered.
 */
describe('a notification group over several query groups', () => {
  type AggStep = [t: number, members: (number | null)[], status: MonitorStatus | null, transitions: string[]];
  const cases: { name: string; opts?: Partial<EvalOptions>; steps: AggStep[] }[] = [
    {
      name: 'one member alerting alerts the group once; a second member alerting adds no notification',
      steps: [
        [0, [0, 0], 'OK', []],
        [10, [11, 0], 'Alert', ['OK→Alert Triggered']],
        [20, [11, 15], 'Alert', []],
        [30, [0, 15], 'Alert', []],
        [40, [0, 0], 'OK', ['Alert→OK Recovered']],
      ],
    },
    {
      name: 'recovery thresholds hold the group until every member recovers',
      opts: { thresholds: { critical: 10, critical_recovery: 5 } },
      steps: [
        [0, [11, 2], 'Alert', ['OK→Alert Triggered']],
        [10, [9, 2], 'Alert', []],
        [20, [5, 7], 'Alert', []],
        [30, [5, 4], 'OK', ['Alert→OK Recovered']],
      ],
    },
    {
      name: 'warn while a member warns and none alerts; alert wins over warn',
      opts: { thresholds: { critical: 10, warning: 5 } },
      steps: [
        [0, [6, 1], 'Warn', ['OK→Warn Warn']],
        [10, [6, 12], 'Alert', ['Warn→Alert Triggered']],
        [20, [6, 1], 'Warn', ['Alert→Warn Warn']],
        [30, [1, 1], 'OK', ['Warn→OK Recovered']],
      ],
    },
    {
      name: 'below threshold: alerts when any member with data is below; members without data do not count',
      opts: { comparator: '<', thresholds: { critical: 1 } },
      steps: [
        [0, [3, null], 'OK', []],
        [10, [0, 2], 'Alert', ['OK→Alert Triggered']],
        [20, [null, 2], 'OK', ['Alert→OK Recovered']],
      ],
    },
    {
      name: 'no member with data is missing data for the group (show_and_notify_no_data)',
      opts: { onMissingData: 'show_and_notify_no_data' },
      steps: [
        [0, [11, 0], 'Alert', ['OK→Alert Triggered']],
        [10, [null, null], 'No Data', ['Alert→No Data No Data']],
        [20, [0, 1], 'OK', ['No Data→OK Recovered']],
      ],
    },
  ];
  it.each(cases)('$name', ({ opts, steps }) => {
    const o = { ...BASE, ...opts, thresholds: { ...BASE.thresholds, ...opts?.thresholds } };
    let state: GroupState | undefined;
    for (const [t, members, status, want] of steps) {
      const r = evaluateGroup(state, worstValue(members, o), T0 + t * S, o);
      expect(r.state?.status ?? null, `status at ${t}s`).toBe(status);
      expect(
        r.transitions.map((x) => `${x.from}→${x.to} ${x.name}`),
        `transitions at ${t}s`,
      ).toEqual(want);
      state = r.state ?? undefined;
    }
  });
});
