// Background retention: deletes logs older than retention_days in small batches so intake never stalls, and
// the monitors' delivery history (events, jobs, bundling windows) of the same age.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.ts';
import type { Store } from './store.ts';

/** Logs deleted per transaction; small enough that a batch takes milliseconds. */
const BATCH = 2000;
/**
 * Delivery history rows deleted per transaction (of each kind): smaller, because the notification tables
 * are written on the main thread's connection, which the event loop waits for.
 */
const HISTORY_BATCH = 500;

/** Runs `step` until it says there is no more (or `shouldStop`), yielding to the event loop between steps. */
async function inBatches(step: () => Promise<boolean>, shouldStop: () => boolean): Promise<void> {
  while (!shouldStop() && (await step())) await new Promise((r) => setTimeout(r, 5));
}

/** Runs one retention pass over the logs: deletes in batches; returns how many went. */
export async function runRetention(
  store: Store,
  before: number,
  shouldStop: () => boolean = () => false,
): Promise<number> {
  let total = 0;
  await inBatches(async () => {
    const n = await store.deleteLogsBefore(before, BATCH);
    total += n;
    return n === BATCH;
  }, shouldStop);
  return total;
}

/** Removes delivery history older than `before` in batches (NotificationStore.pruneHistory keeps what is live). */
export async function pruneNotificationHistory(
  store: Store,
  before: number,
  shouldStop: () => boolean = () => false,
): Promise<{ jobs: number; events: number; bundles: number }> {
  const total = { jobs: 0, events: 0, bundles: 0 };
  await inBatches(async () => {
    const n = await store.notifications.pruneHistory(before, HISTORY_BATCH);
    total.jobs += n.jobs;
    total.events += n.events;
    total.bundles += n.bundles;
    return n.jobs === HISTORY_BATCH || n.events === HISTORY_BATCH || n.bundles === HISTORY_BATCH;
  }, shouldStop);
  return total;
}

/** Starts the periodic retention task; the first pass runs shortly after start. */
export function startRetention(o: {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  retentionDays: number;
  intervalS: number;
}) {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const pass = () => {
    current = (async () => {
      try {
        const before = Date.now() - o.retentionDays * 86_400_000;
        const n = await runRetention(o.store, before, () => stopped);
        if (n > 0) {
          o.metrics.retentionDeleted.inc(n);
          o.logger.info({ deleted: n, retention_days: o.retentionDays }, 'Retention deleted old logs');
        }
        const h = await pruneNotificationHistory(o.store, before, () => stopped);
        if (h.jobs + h.events + h.bundles > 0) {
          o.logger.info(
            { jobs: h.jobs, events: h.events, bundles: h.bundles, retention_days: o.retentionDays },
            'Retention deleted old notification history',
          );
        }
      } catch (err) {
        o.logger.error({ err }, 'Retention pass failed; it will run again');
      }
    })();
  };
  const first = setTimeout(pass, 2000);
  const timer = setInterval(pass, o.intervalS * 1000);
  first.unref();
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
    done: () => current,
  };
}
