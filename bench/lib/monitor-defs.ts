// The 50 log monitors of bench:alert (and of the in-process evaluation benchmark): grouped and ungrouped,
// over the simulated Okta org's background traffic.

/** Services that send only a heartbeat now and then (their no-data monitors stay quiet). */
export const QUIET_SERVICES = ['hr-sync', 'payroll-export', 'ad-agent', 'scim-bridge', 'badge-sync'];

export interface MonitorDef {
  kind: string;
  name: string;
  query: string;
  options?: Record<string, unknown>;
}

export const PROBE_QUERY =
  'logs("service:okta status:error @flow_name:probe-*").by("@flow_name").last("5m") > 0';

/** The 50 monitors of B. Thresholds sit well above what the background produces (its rates are about 400
 * times a real org's), so that only the probe monitor changes state: any other transition is reported. */
export function monitorDefs(): MonitorDef[] {
  const defs: MonitorDef[] = [];
  const grouped = (name: string, query: string, options: Record<string, unknown> = {}) =>
    defs.push({ kind: 'errors by flow', name, query, options });
  grouped('Probe flow failed', PROBE_QUERY, { new_group_delay: 0, thresholds: { critical: 0 } });
  // 19 more: errors per flow over various windows and filters; per-flow thresholds ~5× the busiest flow
  const windows: [string, number][] = [
    ['5m', 1_500],
    ['10m', 3_000],
    ['15m', 4_500],
    ['30m', 9_000],
    ['1h', 18_000],
  ];
  const filters = [
    'service:okta status:error',
    'service:okta status:error @folder_name:Onboarding',
    'service:okta status:error @error.kind:HTTPError',
    'service:okta status:error -@folder_name:Helpers',
  ];
  for (let i = 0; i < 16; i++) {
    const [w, t] = windows[i % windows.length] as [string, number];
    const f = filters[i % filters.length] as string;
    grouped(`Okta errors by flow ${i + 1} (${w})`, `logs("${f}").by("@flow_name").last("${w}") > ${t}`, {
      thresholds: { critical: t, warning: Math.round(t / 2) },
      renotify_interval: i % 3 === 0 ? 60 : null,
      new_group_delay: i % 2 === 0 ? 60 : 0,
    });
  }
  grouped(
    'Okta errors by flow and kind',
    'logs("service:okta status:error").by("@flow_name,@error.kind").last("15m") > 4500',
  );
  grouped(
    'Okta errors by root flow',
    'logs("service:okta status:error").by("@root_flow_name").last("10m") > 6000',
  );
  grouped(
    'Okta errors by folder and flow',
    'logs("status:error").by("@folder_name,@flow_name").last("5m") > 1500',
  );

  const count = (name: string, query: string) => defs.push({ kind: 'ungrouped count', name, query });
  count('All Okta events (spike)', 'logs("service:okta").last("5m") > 2000000');
  count('All Okta errors', 'logs("service:okta status:error").last("5m") > 60000');
  count(
    'Offboarding failures',
    'logs("service:okta @event_type:FLOW_FAIL @folder_name:Offboarding").last("15m") > 50000',
  );
  count('Slow executions', 'logs("service:okta @duration:>60000").last("5m") > 300000');
  count('Deep helper chains', 'logs("service:okta @depth:>3").last("10m") > 1000000');
  count('Workday unavailable (free text)', 'logs("\\"Service Unavailable\\"").last("5m") > 60000');
  count('Timeouts', 'logs("service:okta @error.kind:TimeoutError").last("10m") > 60000');
  count('Throttled executions', 'logs("service:okta @throttled:true").last("5m") > 300000');
  count('Okta warnings', 'logs("source:okta-workflows-els status:warn").last("5m") > 300000');
  count('Errors outside Okta', 'logs("status:error -service:okta").last("5m") > 100');

  const type = (name: string, query: string) => defs.push({ kind: 'event type', name, query });
  type(
    'Throttles by flow',
    'logs("service:okta @event_type:FLOW_THROTTLE").by("@flow_name").last("5m") > 5000',
  );
  type(
    'Cancels by flow',
    'logs("service:okta @event_type:FLOW_CANCEL").by("@flow_name").last("15m") > 15000',
  );
  type('Pauses', 'logs("service:okta @event_type:FLOW_PAUSE").last("10m") > 200000');
  type(
    'Starts by folder',
    'logs("service:okta @event_type:FLOW_START").by("@folder_name").last("5m") > 2000000',
  );
  type(
    'Completions by folder',
    'logs("service:okta @event_type:FLOW_COMPLETE").by("@folder_name").last("5m") > 2000000',
  );
  type(
    'Failures by root flow',
    'logs("service:okta @event_type:FLOW_FAIL").by("@root_flow_name").last("10m") > 6000',
  );
  type('Throttles (1 h)', 'logs("service:okta @event_type:FLOW_THROTTLE").last("1h") > 5000000');
  type(
    'Failures or cancels by folder',
    'logs("service:okta @event_type:(FLOW_FAIL OR FLOW_CANCEL)").by("@folder_name").last("30m") > 500000',
  );
  type(
    'Child starts by root flow',
    'logs("service:okta @event_type:FLOW_START @depth:>1").by("@root_flow_name").last("5m") > 600000',
  );
  type(
    'HTTP failures by message',
    'logs("service:okta @event_type:FLOW_FAIL @error.kind:HTTPError").by("@error.message").last("15m") > 20000',
  );

  const measure = (name: string, query: string) => defs.push({ kind: 'measure rollup', name, query });
  measure(
    'Slow flows (avg duration)',
    'logs("service:okta @event_type:FLOW_COMPLETE").rollup("avg", "@duration").by("@flow_name").last("15m") > 900000',
  );
  measure('Average duration', 'logs("service:okta").rollup("avg", "@duration").last("5m") > 600000');
  measure('Longest execution', 'logs("service:okta").rollup("max", "@duration").last("10m") > 3600000');
  measure(
    'Steps per folder (avg)',
    'logs("service:okta").rollup("avg", "@step_count").by("@folder_name").last("10m") > 1000',
  );
  measure(
    'Duration p95 by folder',
    'logs("service:okta @event_type:FLOW_COMPLETE").rollup("pc95", "@duration").by("@folder_name").last("15m") > 1800000',
  );

  for (const s of QUIET_SERVICES)
    defs.push({
      kind: 'below threshold',
      name: `${s} stopped`,
      query: `logs("service:${s}").last("5m") < 1`,
    });
  return defs;
}
