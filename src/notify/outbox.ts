// The dispatcher of the outbox: monitor events saved by the evaluator (`monitor_events`, with their state)
// become delivery jobs, one per recipient handle, in the same transaction that marks the event dispatched.
// It reads the events not yet dispatched (not a cursor in memory), so an event saved just before a crash is
// dispatched at the next start, and the unique idempotency key (event id + handle) makes a job exist once.
import type { JobSpec, NotificationStore } from '../store/notifications.ts';
import type { MonitorEventRecord } from '../store/store.ts';
import type { ChannelRegistry } from './channel.ts';

/** The recipients of an event: its @-handles, merged with those of matching notification rules. */
export type Recipients = (e: MonitorEventRecord) => string[];

/** Gives the recipient function for one dispatch pass (e.g. with the notification rules loaded once). */
export type RecipientsLoader = () => Promise<Recipients>;

/** The handles written in the event's message (monitors/describe.ts). */
export const handlesOf: Recipients = (e) => {
  const h = e.body.handles;
  return Array.isArray(h) ? h.filter((x): x is string => typeof x === 'string') : [];
};

/** The jobs an event needs: none unless it notifies and is not muted; one per distinct handle. */
export function planJobs(
  e: MonitorEventRecord,
  recipients: Recipients,
  registry: ChannelRegistry,
): JobSpec[] {
  if (e.body.notify !== true || e.body.muted === true) return [];
  const seen = new Set<string>();
  const jobs: JobSpec[] = [];
  for (const raw of recipients(e)) {
    const handle = raw.startsWith('@') ? raw : `@${raw}`;
    const key = handle.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    jobs.push({ handle, channel: registry.resolve(handle).name });
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
      for (;;) {
        const t = now();
        const n = await this.o.store.dispatchEvents(500, t, (e) => ({
          jobs: planJobs(e, recipients, this.o.registry),
          deadline_at: t + this.o.deadLetterAfterMs,
        }));
        total += n;
        if (n < 500) break;
      }
    } while (this.again);
    return total;
  }
}
