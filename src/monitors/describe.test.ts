import { describe, expect, it } from 'vitest';
import { makeLog } from '../store/conformance.ts';
import { type DescribeOptions, describeEvent } from './describe.ts';
import type { MonitorEvent } from './evaluator.ts';
import type { Transition } from './state.ts';

const T = Date.parse('2026-11-27T03:02:11Z');
const log = makeLog({
  timestamp: T,
  status: 'error',
  message: 'Flow failed: Sync Users',
  attributes: { flow_name: 'Sync Users' },
});

function event(t: Partial<Transition> = {}): MonitorEvent {
  return {
    monitor: {
      id: 7,
      name: 'Okta flow failures',
      priority: 1,
      tags: ['team:iam'],
      query: 'logs("status:error").by("@flow_name").last("5m") > 0',
      message: '{{@flow_name.name}}: {{log.message}} @slack-okta',
    },
    group_key: '@flow_name:Sync Users',
    group: { '@flow_name': 'Sync Users' },
    transition: {
      name: 'Triggered',
      from: 'OK',
      to: 'Alert',
      at: T,
      value: 1,
      notify: true,
      cause: 'value',
      firstTriggeredAt: T,
      lastTriggeredAt: T,
      ...t,
    },
    thresholds: { critical: 0 },
    comparator: '>',
    sample: log,
  };
}

const describeWith = (options: ReturnType<DescribeOptions['options']>, t?: Partial<Transition>) =>
  describeEvent(event(t), { baseUrl: () => 'http://fw.example', options: () => options });

describe('describeEvent honours the monitor options', () => {
  it.each([
    [undefined, '[P1] [Triggered on {@flow_name:Sync Users}] Okta flow failures'],
    [{ include_tags: true }, '[P1] [Triggered on {@flow_name:Sync Users}] Okta flow failures'],
    [{ include_tags: false }, '[P1] [Triggered] Okta flow failures'],
  ])('include_tags %j → %s', (options, title) => {
    expect(describeWith(options).title).toBe(title);
  });

  it('escalation_message is added to renotifications only, and its handles are notified', () => {
    const options = { escalation_message: 'Still failing, escalating to @pagerduty-iam' };
    const first = describeWith(options);
    expect(first.message).toBe('Sync Users: Flow failed: Sync Users @slack-okta');
    expect(first.handles).toEqual(['@slack-okta']);
    const again = describeWith(options, { name: 'Re-Triggered', from: 'Alert', cause: 'renotify' });
    expect(again.message).toBe(
      'Sync Users: Flow failed: Sync Users @slack-okta\n\nStill failing, escalating to @pagerduty-iam',
    );
    expect(again.handles).toEqual(['@slack-okta', '@pagerduty-iam']);
  });

  it('enable_logs_sample attaches the log sample; {{log.*}} renders without it', () => {
    const without = describeWith({});
    expect(without.sample).toBeNull();
    expect(without.message).toContain('Flow failed: Sync Users');
    const withSample = describeWith({ enable_logs_sample: true }) as { sample: { attributes: any } };
    expect(withSample.sample.attributes.message).toBe('Flow failed: Sync Users');
    expect(withSample.sample.attributes.attributes.flow_name).toBe('Sync Users');
  });
});
