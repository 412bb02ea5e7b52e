// Prometheus metrics of one server instance (a registry per instance, so tests can run several).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric Flowwatch reports; labels are low-cardinality by design. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flowwatch_process_' });
  const m = {
    registry,
    intakeRequests: new Counter({
      name: 'flowwatch_intake_requests_total',
      help: 'Intake requests by receiver and HTTP status',
      labelNames: ['receiver', 'status'] as const,
      registers: [registry],
    }),
    intakeLogs: new Counter({
      name: 'flowwatch_intake_logs_total',
      help: 'Logs received, by outcome (stored, duplicate, dropped_out_of_window)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    intakeTrimmed: new Counter({
      name: 'flowwatch_intake_trimmed_total',
      help: 'Limit enforcement at intake (tags, attributes, keys, depth, truncated_logs)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    intakeOutOfWindow: new Counter({
      name: 'flowwatch_intake_out_of_window_total',
      help: 'Logs dated outside the 18 h past / 2 h future window',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    intakeBytes: new Counter({
      name: 'flowwatch_intake_bytes_total',
      help: 'Uncompressed intake bytes accepted',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'flowwatch_intake_queue_events',
      help: 'Logs waiting for the next commit',
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'flowwatch_store_commit_seconds',
      help: 'Duration of one group commit',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'flowwatch_store_commit_logs',
      help: 'Logs per group commit',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'flowwatch_store_errors_total',
      help: 'Failed commits by reason (full, unavailable, other)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    liveStreams: new Gauge({
      name: 'flowwatch_live_tail_streams',
      help: 'Open live-tail (server-sent events) streams',
      registers: [registry],
    }),
    pipelineFailures: new Counter({
      name: 'flowwatch_pipeline_failures_total',
      help: 'Processor failures recorded on logs (the logs were kept)',
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'flowwatch_retention_deleted_logs_total',
      help: 'Logs deleted by retention',
      registers: [registry],
    }),
  };
  return m;
}

/** The metrics of one server. */
export type Metrics = ReturnType<typeof createMetrics>;
