// The synthetic monitor event `flowwatch notify test` sends (POST /api/flowwatch/v1/notifications/test),
// shaped as monitors/describe.ts stores events so every channel renders it as a real alert. It is never
// stored. Its alert cycle is fixed per handle, so a test alert and a test recovery (`--state ok`) share
// PagerDuty's dedup_key and Opsgenie's alias: the recovery closes the incident the test opened.
import type { MonitorEventRecord } from '../store/store.ts';

/** The states a test can send, as Datadog names them. */
export const TEST_STATES = ['Alert', 'Warn', 'No Data', 'OK'] as const;
export type TestState = (typeof TEST_STATES)[number];

const TRANSITION: Record<TestState, string> = {
  Alert: 'Triggered',
  Warn: 'Warn',
  'No Data': 'No Data',
  OK: 'Recovered',
};

const VALUE: Record<TestState, number | null> = { Alert: 3, Warn: 1, 'No Data': null, OK: 0 };

/** The test event for `handle` (with its `@`) at `now`; links start at `baseUrl` (public_url). */
export function testEvent(
  handle: string,
  state: TestState,
  now: number,
  baseUrl: string,
): MonitorEventRecord {
  const transition = TRANSITION[state];
  const logLink = new URL('/logs', baseUrl);
  logLink.searchParams.set('query', 'source:flowwatch-test');
  logLink.searchParams.set('to', String(now));
  return {
    id: now,
    monitor_id: 0,
    group_key: `test:${handle.toLowerCase()}`,
    at: now,
    delivered_at: null,
    body: {
      transition,
      from: state === 'OK' ? 'Alert' : 'OK',
      to: state,
      cause: 'test',
      test: true,
      notify: true,
      muted: false,
      value: VALUE[state],
      // fixed: one alert cycle per handle (see above)
      first_triggered_at: 0,
      last_triggered_at: now,
      monitor: {
        id: 0,
        name: 'Flowwatch test notification',
        priority: null,
        tags: ['source:flowwatch-test'],
        query: 'logs("source:flowwatch-test").index("*").rollup("count").last("5m") > 0',
      },
      group: {},
      title: `[TEST] [${transition}] Flowwatch test notification`,
      message:
        `This is a test notification from Flowwatch to ${handle}, sent with \`flowwatch notify test\`. ` +
        'If you can read it, this recipient receives Flowwatch alerts. No monitor fired.',
      handles: [handle],
      thresholds: { critical: 0, warning: 0 },
      comparator: '>',
      log_link: logLink.toString(),
      sample: null,
    },
  };
}
