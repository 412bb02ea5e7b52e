// Metrics of the notification layer, registered on the server's registry (labels stay low-cardinality:
// channel names and the closed set of failure reasons, never handles).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NotificationStore } from '../store/notifications.ts';

/** Creates the notification metrics on a registry. */
export function createNotifyMetrics(registry: Registry, store: NotificationStore) {
  return {
    deliveries: new Counter({
      name: 'flowwatch_notify_deliveries_total',
      help: 'Delivery attempts by channel and outcome (delivered, retried, dead)',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'flowwatch_notify_dead_letters_total',
      help: 'Jobs given up (dead letter) by channel and reason',
      labelNames: ['channel', 'reason'] as const,
      registers: [registry],
    }),
    bundled: new Counter({
      name: 'flowwatch_notify_bundled_total',
      help: 'Alerts held by a bundling window, sent in its summary, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: 'flowwatch_notify_dead_letter_fallbacks_total',
      help: 'Dead-letter notices queued for the fallback recipients, by their channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    sendSeconds: new Histogram({
      name: 'flowwatch_notify_send_seconds',
      help: 'Duration of one send (request to response)',
      labelNames: ['channel'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: [registry],
    }),
    latencySeconds: new Histogram({
      name: 'flowwatch_notify_latency_seconds',
      help: 'From the monitor transition to its delivery',
      labelNames: ['channel'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
      registers: [registry],
    }),
    jobs: new Gauge({
      name: 'flowwatch_notify_jobs',
      help: 'Delivery jobs by state (pending, delivered, dead)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const counts = await store.countJobs();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    }),
  };
}

/** The notification metrics of one server. */
export type NotifyMetrics = ReturnType<typeof createNotifyMetrics>;
