// Shared log types: what intake produces, the store keeps and search returns.

/** Canonical stored statuses (Datadog's set; `warn` and `emergency` are stored, aliases resolved by search). */
export const STATUSES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warn',
  'notice',
  'info',
  'debug',
  'ok',
] as const;
/** One of the canonical statuses. */
export type Status = (typeof STATUSES)[number];

/** A JSON value as stored in attributes. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A log after intake preprocessing: official fields plus every attribute. */
export interface LogEvent {
  /** official date, epoch milliseconds */
  timestamp: number;
  /** when Flowwatch received it, epoch milliseconds */
  received_at: number;
  status: Status;
  service: string | null;
  source: string | null;
  host: string | null;
  message: string;
  /** lowercased `key:value` or keyless tags */
  tags: string[];
  trace_id: string | null;
  attributes: Record<string, Json>;
  /** the event as received when intake changed it (ELS JSON merged, trimmed or truncated); null otherwise */
  raw: string | null;
  /** redelivery key: a second log with the same key is acknowledged and not stored */
  dedup_key: string | null;
}

/** A stored log: a LogEvent with its store-assigned id. */
export interface StoredLog extends LogEvent {
  id: string;
}
