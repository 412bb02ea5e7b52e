// Okta Workflows Execution Log Streaming semantics used at intake: recognising ELS events and their
// redelivery key (the readable message is built by the Okta pipeline, pipelines/okta-pipeline.ts).
import type { Json } from '../domain/log-event.ts';

/** The ddsource Okta's Datadog template sets. */
export const ELS_SOURCE = 'okta-workflows-els';

/**
 * True when a log is an ELS execution event: it has an execution_id and an event_type, and either comes with
 * the ELS source or has a FLOW_* event type (Okta's names). Other logs that happen to carry those two
 * attribute names are ordinary logs: never de-duplicated.
 */
export function isElsEvent(attrs: Record<string, Json>, source?: string | null): boolean {
  const type = attrs.event_type;
  if (typeof type !== 'string' || typeof attrs.execution_id !== 'string') return false;
  return source === ELS_SOURCE || type.startsWith('FLOW_');
}

/**
 * The redelivery key of an ELS event, or null when it has no timestamp (a redelivery repeats the event,
 * timestamp included; without one two different events could not be told apart). Every identifying field
 * is part of the key, JSON-encoded so no two different events share it; the timestamp leads so the unique
 * index grows at its end instead of at random pages (a large share of the insert cost, measured).
 */
export function elsDedupKey(attrs: Record<string, Json>): string | null {
  const ts = attrs.timestamp;
  if ((typeof ts !== 'string' || ts.trim() === '') && typeof ts !== 'number') return null;
  const s = (v: Json | undefined) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  return JSON.stringify([
    s(ts),
    s(attrs.org_id),
    s(attrs.execution_id),
    s(attrs.event_type),
    s(attrs.idempotency_key),
  ]);
}
