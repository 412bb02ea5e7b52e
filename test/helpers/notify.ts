// Notification test data: a monitor event as monitors/describe.ts stores it.
import type { MonitorEventRecord } from '../../src/store/store.ts';

/** The time of the sample event. */
export const AT = Date.parse('2026-11-27T03:00:00Z');

/** An event as monitors/describe.ts stores it. */
export function sampleEvent(over: Record<string, unknown> = {}): MonitorEventRecord {
  return {
    id: 42,
    monitor_id: 7,
    group_key: '@flow_name:Sync Users',
    at: AT,
    delivered_at: null,
    body: {
      transition: 'Triggered',
      from: 'OK',
      to: 'Alert',
      cause: 'value',
      notify: true,
      value: 3,
      first_triggered_at: AT,
      last_triggered_at: AT,
      monitor: {
        id: 7,
        name: 'Okta flow failures',
        priority: 2,
        tags: ['team:iam', 'env:production'],
        query: 'logs("service:okta status:error").index("*").rollup("count").by("@flow_name").last("5m") > 0',
      },
      group: { '@flow_name': 'Sync Users' },
      title: '[P2] [Triggered on {@flow_name:Sync Users}] Okta flow failures',
      message: 'Sync Users failed: "Workday" said\n503 \\ Service Unavailable @webhook-ops',
      handles: ['@webhook-ops'],
      thresholds: { critical: 0, warning: null },
      comparator: '>',
      log_link: 'https://flowwatch.example.com/logs?query=service%3Aokta',
      sample: {
        id: '1',
        type: 'log',
        attributes: { host: 'acme.workflows.okta.com', message: 'Flow failed: Sync Users', service: 'okta' },
      },
      ...over,
    },
  };
}
