// The store interface: every implementation (SQLite now, PostgreSQL later) passes store/conformance.ts.
import type { LogEvent, StoredLog } from '../domain/log-event.ts';
import type { Downtime } from '../monitors/downtime.ts';
import type { Monitor, MonitorInput } from '../monitors/model.ts';
import type { NotificationRule } from '../notify/rule-model.ts';
import type { Pipeline } from '../pipelines/model.ts';
import type { AggregateRequest, Bucket } from '../search/aggregate.ts';
import type { Query } from '../search/ast.ts';
import type { IntegrationStore } from './integrations.ts';
import type { NotificationStore } from './notifications.ts';

/** A time-range read of logs, newest or oldest first, paged by an opaque cursor. */
export interface LogQuery {
  /** inclusive lower bound, epoch ms */
  from: number;
  /** exclusive upper bound, epoch ms */
  to: number;
  sort: 'asc' | 'desc';
  limit: number;
  /** cursor returned by the previous page */
  cursor?: string;
  /** a parsed search query (search/parse.ts); all logs when absent */
  filter?: Query;
}

/** One page of logs. */
export interface LogPage {
  logs: StoredLog[];
  /** present when more logs may follow */
  cursor?: string;
}

/** An API or application key as stored: only a hash of the secret is kept. */
export interface KeyRecord {
  id: string;
  kind: 'api' | 'app';
  name: string;
  /** sha256 of the key, hex */
  hash: string;
  /** last four characters of the key, to recognise it in a list */
  hint: string;
  created_at: number;
  revoked_at: number | null;
}

/** One monitor event (a transition or renotification): history and the notification outbox. */
export interface MonitorEventRecord {
  id: number;
  monitor_id: number;
  group_key: string;
  at: number;
  /** the event as the evaluator describes it (transition, values, rendered title and message, handles) */
  body: Record<string, unknown>;
  /** when the notification layer turned it into delivery jobs (null: not yet) */
  delivered_at: number | null;
}

/** Logs serialised by a store for its own appendEncoded (opaque to everyone else). */
export interface EncodedLogs {
  readonly count: number;
  /** approximate size, to bound a commit's bytes */
  readonly bytes: number;
}

/** Raised when the database cannot grow (disk full or size cap): intake answers 507, nothing is lost. */
export class StoreFullError extends Error {}
/** Raised when the database is temporarily unusable (I/O error, busy): intake answers 503. */
export class StoreUnavailableError extends Error {}

/** Everything the rest of Flowwatch needs from storage. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Webhooks and the notification delivery outbox (notifications.ts). */
  readonly notifications: NotificationStore;
  /** Recipients defined through Datadog's integration APIs (integrations.ts). */
  readonly integrations: IntegrationStore;
  /** Appends logs in one transaction; returns, per event, false when it was a duplicate (same dedup_key). */
  appendLogs(events: LogEvent[]): Promise<boolean[]>;
  /**
   * Serialises logs for appendEncoded. The writer does it when a request queues its logs, so the queue holds
   * compact rows rather than object graphs (the objects become garbage at once instead of surviving until
   * the commit).
   */
  encodeLogs(events: LogEvent[]): EncodedLogs;
  /** Appends several encoded groups in one transaction; results in order, as appendLogs. */
  appendEncoded(groups: EncodedLogs[]): Promise<boolean[]>;
  /** Reads logs in a time range. */
  readLogs(query: LogQuery): Promise<LogPage>;
  /** Analytics over the logs matching a filter (search/aggregate.ts gives the meaning). */
  aggregateLogs(req: AggregateRequest, filter?: Query): Promise<Bucket[]>;
  /**
   * Logs in the order they were stored, after a position (live tail): late arrivals dated in the past are
   * seen too. `after` undefined starts at the end; the answer says where to continue.
   */
  readLogsAfter(after: string | undefined, limit: number): Promise<{ logs: StoredLog[]; next: string }>;
  /** Number of stored logs. */
  countLogs(): Promise<number>;
  /** Deletes at most `limit` logs older than `before` (epoch ms); returns how many went. */
  deleteLogsBefore(before: number, limit: number): Promise<number>;
  /** All keys, revoked ones included. */
  listKeys(): Promise<KeyRecord[]>;
  insertKey(key: KeyRecord): Promise<void>;
  /** Marks a key revoked by id or name; returns it, or undefined when none matched. */
  revokeKey(idOrName: string, now: number): Promise<KeyRecord | undefined>;
  /** Pipelines in processing order. */
  listPipelines(): Promise<Pipeline[]>;
  /** Adds a pipeline at the end of the order (or first). */
  insertPipeline(p: Pipeline, at?: 'first' | 'last'): Promise<void>;
  /** Replaces a pipeline, keeping its place; false when there is none with that id. */
  replacePipeline(p: Pipeline): Promise<boolean>;
  deletePipeline(id: string): Promise<boolean>;
  /** Sets the order; `ids` must list every pipeline exactly once (else an Error saying what differs). */
  setPipelineOrder(ids: string[]): Promise<void>;
  listMonitors(): Promise<Monitor[]>;
  /** Stores a new monitor; returns it with its id. */
  insertMonitor(input: MonitorInput, now: number): Promise<Monitor>;
  /** Replaces a monitor's definition; undefined when there is none. */
  updateMonitor(id: number, input: MonitorInput, now: number): Promise<Monitor | undefined>;
  /** Deletes a monitor with its group states (its events stay, as history). */
  deleteMonitor(id: number): Promise<boolean>;
  /** Every persisted group state: monitor id → group key → state. */
  loadMonitorGroups(): Promise<Map<number, Map<string, unknown>>>;
  /**
   * Saves group states (null deletes the group) and appends events, in one transaction: a transition is
   * never recorded without its state, nor the state without its transition.
   */
  saveMonitorProgress(
    groups: { monitor_id: number; group_key: string; state: unknown | null }[],
    events: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[],
  ): Promise<MonitorEventRecord[]>;
  /** Events, newest first; of one monitor when given. */
  listMonitorEvents(q: {
    monitorId?: number;
    limit: number;
    beforeId?: number;
  }): Promise<MonitorEventRecord[]>;
  /** Downtimes (canceled ones included), oldest first. */
  listDowntimes(): Promise<Downtime[]>;
  insertDowntime(d: Downtime): Promise<void>;
  /**
   * Replaces a downtime (same id, created_at kept) and appends `events` (its notices) in one transaction;
   * false when there is none with that id (nothing is saved).
   */
  updateDowntime(d: Downtime, events?: Omit<MonitorEventRecord, 'id' | 'delivered_at'>[]): Promise<boolean>;
  /** Monitor notification rules, oldest first. */
  listNotificationRules(): Promise<NotificationRule[]>;
  getNotificationRule(id: string): Promise<NotificationRule | undefined>;
  /** Stores a new rule (its id, created_at and modified_at are given). */
  insertNotificationRule(rule: NotificationRule): Promise<void>;
  /** Replaces a rule's attributes, keeping id and created_at; false when there is none with that id. */
  replaceNotificationRule(rule: NotificationRule): Promise<boolean>;
  deleteNotificationRule(id: string): Promise<boolean>;
  /** True when another process changed the database since the last call (used to reload keys). */
  changedElsewhere(): Promise<boolean>;
  /** Writes a consistent copy of the database to `file` while it stays online. */
  backup(file: string): Promise<void>;
  /** Liveness of the storage: resolves when the database answers a read (write failures show in the writer). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Encodes a (timestamp, sequence) position as an opaque cursor. */
export function encodeCursor(ts: number, seq: number | string): string {
  return Buffer.from(JSON.stringify([ts, String(seq)])).toString('base64url');
}

/** Decodes a cursor; throws a plain Error on garbage (the API maps it to 400). */
export function decodeCursor(cursor: string): { ts: number; seq: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string')
      return { ts: v[0], seq: v[1] };
  } catch {
    // fall through
  }
  throw new Error(`invalid cursor "${cursor.slice(0, 40)}"`);
}
