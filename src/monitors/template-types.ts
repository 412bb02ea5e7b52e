// Types shared by the monitor message template engine (template*.ts).
import type { LogEvent } from '../domain/log-event.ts';

import type { MonitorStatus, TransitionName } from './state.ts';

/** Monitor group states as Datadog names them. */
export type MonitorStateName = MonitorStatus;
export type { TransitionName };

/** Everything a monitor message or title can refer to, for one group and one transition. */
export interface TemplateContext {
  transition: { name: TransitionName; from: MonitorStateName; to: MonitorStateName };
  isRenotify: boolean;
  /** 1..5 → P1..P5 */
  priority: number | null;
  monitor: { id: number; name: string; query: string; tags: string[] };
  value: number | null;
  thresholds: {
    critical: number;
    warning?: number | null;
    critical_recovery?: number | null;
    warning_recovery?: number | null;
  };
  comparator: string;
  /** epoch ms */
  firstTriggeredAt: number | null;
  lastTriggeredAt: number | null;
  now: number;
  /** group-by values of this group: keys as written in .by(): '@flow_name', 'env', 'source' … */
  group: Record<string, string>;
  /** one log matching the query for this group (absent on no-data and no-data recovery) */
  log?: LogEvent & { id?: string };
  /** absolute URL of the matching logs in Flowwatch's explorer */
  logLink: string;
}

/** A tag argument: `"x"` / `'x'` (quoted) or a bare word. */
export interface TagArg {
  value: string;
  quoted: boolean;
}

/** Parsed template. */
export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'var'; path: string; escape: boolean }
  | { kind: 'helper'; name: string; args: TagArg[]; escape: boolean }
  | {
      kind: 'block';
      name: string;
      args: TagArg[];
      negated: boolean;
      body: TemplateNode[];
      alt: TemplateNode[] | null;
    }
  | { kind: 'rawblock'; name: string; args: TagArg[]; text: string };
