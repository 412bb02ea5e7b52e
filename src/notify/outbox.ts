// The dispatcher of the outbox: monitor events saved by the evaluator (`monitor_events`, with their state)
// become delivery jobs, one per recipient handle, in the same transaction that marks the event dispatched.
// It reads the events not yet dispatched (not a cursor in memory), so an event saved just before a crash is
// dispatched at the next start, and the unique idempotency key (event id + handle) makes a job exist once.
import type { DispatchContext, JobSpec, NotificationStore } from '../store/notifications.ts';
import type { MonitorEventRecord } from '../store/store.ts';
import { bundlePlan } from './bundle.ts';
import type { ChannelRegistry } from './channel.ts';

/** The recipients of an event: its @-handles, merged with those of matching notification rules. */
export type Recipients = (e: MonitorEventRecord) => string[];

/** Gives the recipient function for one dispatch pass (e.g. with the notification rules loaded once). */
export type RecipientsLoader = () => Promise<Recipients>;

/** The bundling window (ms, 0 = off) of one recipient for one event (notify/bundle.ts bundleWindowMs). */
export type BundleWindows = (e: MonitorEventRecord, handle: string) => number;

/** Gives the bundling windows for one dispatch pass (rules and the configured default read once). */
export type BundleWindowsLoader = () => Promise<BundleWindows>;

/** How jobs are bundled in one dispatch pass. */
export interface Bundling {
  windows: BundleWindows;
  ctx: DispatchContext;
  now: number;
}

/** The handles written in the event's message (monitors/describe.ts). */
export const handlesOf: Recipients = (e) => {
  const h = e.body.handles;
  return Array.isArray(h) ? h.filter((x): x is string => typeof x === 'string') : [];
};

/**
 * The jobs an event needs: none unless it notifies and is not muted; one per distinct handle, each sent at
 * once, opening its recipient's bundling window, or held into the open one (`bundling`, see bundle.ts).
 */
export function planJobs(
  e: MonitorEventRecord,
  recipients: Recipients,
  registry: ChannelRegistry,
  bundling?: Bundling,
): JobSpec[] {
  if (e.body.notify !== true || e.body.muted === true) return [];
  // Closing incidents goes to the recipients holding them, never to rules' (close-incidents.ts); a
  // downtime's notices to the handles of its message (monitors/downtime-notice.ts).
  const notice = e.body.cause === 'downtime';
  const list = e.body.close_incidents === true || notice ? handlesOf(e) : recipients(e);
  const seen = new Set<string>();
  const jobs: JobSpec[] = [];
  for (const raw of list) {
    const handle = raw.startsWith('@') ? raw : `@${raw}`;
    const key = handle.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const { channel, name } = registry.resolve(handle);
    // A notice would open a PagerDuty incident or Opsgenie alert that no recovery ever closes.
    if (notice && (name === 'pagerduty' || name === 'opsgenie')) continue;
    const windowMs = bundling && channel?.bundles === true && !notice ? bundling.windows(e, handle) : 0;
    const bundle =
      bundling &&
      windowMs > 0 &&
      bundlePlan({
        to: typeof e.body.to === 'string' ? e.body.to : undefined,
        channelBundles: true,
        windowMs,
        now: bundling.now,
        open: bundling.ctx.openBundle(handle, bundling.now),
      });
    jobs.push(bundle ? { handle, channel: name, bundle } : { handle, channel: name });
  }
  return jobs;
}

/** Turns undispatched events into jobs; runs one pass at a time, and again if woken meanwhile. */
export class Dispatcher {
  private running: Promise<number> | undefined;
  private again = false;

  constructor(
    private readonly o: {
      store: NotificationStore;
      registry: ChannelRegistry;
      /** default: the handles of the message only */
      recipients?: RecipientsLoader;
      /** default: no bundling */
      bundleWindows?: BundleWindowsLoader;
      /** an alert was held by a bundling window */
      onHold?: (channel: string) => void;
      /** how long a job may keep failing before it goes to dead letter */
      deadLetterAfterMs: number;
      now?: () => number;
    },
  ) {}

  /** Dispatches every pending event; resolves with how many events were handled. */
  dispatch(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<number> {
    const now = this.o.now ?? Date.now;
    let total = 0;
    do {
      this.again = false;
      const recipients = this.o.recipients ? await this.o.recipients() : handlesOf;
      const windows = this.o.bundleWindows ? await this.o.bundleWindows() : undefined;
      for (;;) {
        const t = now();
        const n = await this.o.store.dispatchEvents(500, t, (e, ctx) => {
          const jobs = planJobs(e, recipients, this.o.registry, windows && { windows, ctx, now: t });
          for (const j of jobs) if (j.bundle?.kind === 'hold') this.o.onHold?.(j.channel);
          return { jobs, deadline_at: t + this.o.deadLetterAfterMs };
        });
        total += n;
        if (n < 500) break;
      }
    } while (this.again);
    return total;
  }
}
