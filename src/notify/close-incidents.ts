// Deleting or muting a monitor resolves its open PagerDuty incidents and closes its Opsgenie alerts (issue 6
// §4). A recipient holds an open incident about a group when the newest job it got about that group (dead
// letters aside) delivers a trigger (Alert, Warn, No Data) rather than a recovery. For each such trigger one
// close event is saved in monitor_events, addressed to those recipients only (never to notification rules'):
// `to: OK`, cause `monitor_deleted` or `monitor_muted`, and the trigger's monitor, group and first trigger
// time, so the channels derive the same $ALERT_CYCLE_KEY and resolve the trigger's dedup_key / close its
// alias. The outbox then delivers it as any event: durable across restarts, retried, in order behind the
// trigger. Running it again finds nothing open (the close is now the newest job): it may be repeated.
import type { Downtime } from '../monitors/downtime.ts';
import { coversMonitor, isMuted } from '../monitors/downtime.ts';
import type { ScopeTarget } from '../monitors/downtime-scope.ts';
import type { DueJob } from '../store/notifications.ts';
import type { MonitorEventRecord, Store } from '../store/store.ts';

/** Channels whose deliveries open something that stays open until a recovery closes it. */
export const INCIDENT_CHANNELS = ['pagerduty', 'opsgenie'] as const;

/** Why incidents are closed without a recovery. */
export type CloseCause = 'monitor_deleted' | 'monitor_muted';

/** A close event to save (Store.saveMonitorProgress). */
export type CloseEvent = Omit<MonitorEventRecord, 'id' | 'delivered_at'>;

const WHY: Record<CloseCause, string> = {
  monitor_deleted: 'the monitor was deleted',
  monitor_muted: 'a downtime mutes this group',
};

/** `[P1] [Triggered on {…}] Okta flow failures` → `[P1] [Resolved on {…}] Okta flow failures`. */
function resolvedTitle(title: unknown, name: string): string {
  const t = typeof title === 'string' ? title : '';
  const re = /\[(?:Re-)?(?:Triggered|Warn|No Data)( on |\])/;
  return re.test(t) ? t.replace(re, '[Resolved$1') : `[Resolved] ${name}`;
}

/**
 * The close events for the newest jobs of a monitor's incident recipients (Store lastJobs), pure: one per
 * trigger still open, for the groups `keep` accepts, addressed to the recipients it left open.
 */
export function closeEvents(
  last: readonly DueJob[],
  o: {
    cause: CloseCause;
    at: number;
    downtimeId?: string | null;
    keep?: (group: Record<string, string>, groupKey: string) => boolean;
  },
): CloseEvent[] {
  const open = new Map<number, { event: MonitorEventRecord; handles: string[] }>();
  for (const { job, event } of last) {
    const to = event.body.to;
    if (typeof to !== 'string' || to === 'OK') continue;
    if (o.keep && !o.keep((event.body.group ?? {}) as Record<string, string>, event.group_key)) continue;
    const entry = open.get(event.id) ?? { event, handles: [] };
    entry.handles.push(job.handle);
    open.set(event.id, entry);
  }
  return [...open.values()].map(({ event, handles }) => {
    const b = event.body;
    const name = (b.monitor as { name?: string } | undefined)?.name ?? `Monitor ${event.monitor_id}`;
    return {
      monitor_id: event.monitor_id,
      group_key: event.group_key,
      at: o.at,
      body: {
        transition: 'Resolved',
        from: typeof b.to === 'string' ? b.to : null,
        to: 'OK',
        cause: o.cause,
        notify: true,
        muted: false,
        downtime_id: o.downtimeId ?? null,
        close_incidents: true,
        closes_event_id: event.id,
        value: null,
        // The cycle key is (monitor, group, first trigger time): the trigger's, so the keys match.
        first_triggered_at: b.first_triggered_at ?? event.at,
        last_triggered_at: b.last_triggered_at ?? null,
        monitor: b.monitor,
        group: b.group ?? {},
        title: resolvedTitle(b.title, name),
        message: `Resolved by Flowwatch: ${WHY[o.cause]}.`,
        handles,
        thresholds: b.thresholds,
        comparator: b.comparator,
        log_link: b.log_link,
        sample: null,
      },
    };
  });
}

/** What the closer needs of the notification layer: a finished dispatch pass, and a wake-up. */
export interface OutboxHandle {
  /** resolves when every event saved so far has its jobs */
  dispatched(): Promise<void>;
  wake(): void;
}

/** Closes open incidents through the outbox; one closing at a time (a second finds the first's events). */
export class IncidentCloser {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      store: Pick<Store, 'notifications' | 'saveMonitorProgress' | 'listMonitors'>;
      outbox: OutboxHandle;
      logger?: { info(o: object, msg: string): void };
      now?: () => number;
    },
  ) {}

  /** Closes a monitor's open incidents (of the groups `keep` accepts); resolves with the events saved. */
  close(
    monitorId: number,
    cause: CloseCause,
    opts: { keep?: (group: Record<string, string>, groupKey: string) => boolean; downtimeId?: string } = {},
  ): Promise<number> {
    const run = this.chain.then(async () => {
      // Every saved event gets its jobs first, so the newest job of each recipient is known.
      await this.o.outbox.dispatched();
      const last = await this.o.store.notifications.lastJobs(monitorId, INCIDENT_CHANNELS);
      const at = (this.o.now ?? Date.now)();
      const events = closeEvents(last, { cause, at, ...opts });
      if (events.length === 0) return 0;
      await this.o.store.saveMonitorProgress([], events);
      this.o.logger?.info(
        { monitor_id: monitorId, cause, events: events.length },
        'closing the open PagerDuty and Opsgenie incidents of the monitor',
      );
      this.o.outbox.wake();
      return events.length;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A downtime's window began: closes the incidents of every group it mutes now. `scopeOf` gives what the
   * scope sees of a live group (with notify_by, its sub-groups: MonitorEvaluator.groups); without it, or for
   * a group no longer live, the group's values in the trigger.
   */
  async muted(
    d: Downtime,
    at: number,
    scopeOf?: (monitorId: number, groupKey: string) => ScopeTarget | undefined,
  ): Promise<number> {
    let n = 0;
    for (const m of await this.o.store.listMonitors()) {
      if (!coversMonitor(d, m)) continue;
      n += await this.close(m.id, 'monitor_muted', {
        downtimeId: d.id,
        keep: (group, key) => isMuted([d], m, scopeOf?.(m.id, key) ?? group, at).muted,
      });
    }
    return n;
  }
}
