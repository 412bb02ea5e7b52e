// The body of a stored monitor event (monitors/describe.ts writes it; bundles and downtime notices add their
// parts) as the notification layer reads it: every field optional, since bodies written by older versions
// stay in the outbox.
import type { BundleInfo } from './bundle.ts';

export interface EventBody {
  transition?: string;
  to?: string;
  /** why the transition happened (state.ts TransitionCause, `downtime`, `close_incidents`…) */
  cause?: string;
  value?: number | null;
  title?: string;
  message?: string;
  comparator?: string;
  thresholds?: { critical?: number | null; warning?: number | null };
  first_triggered_at?: number | null;
  last_triggered_at?: number | null;
  group?: Record<string, string>;
  log_link?: string;
  monitor?: { id?: number; name?: string; priority?: number | null; tags?: string[]; query?: string };
  sample?: { id?: string; attributes?: Record<string, unknown> & { host?: string; message?: string } } | null;
  /** a summary's page (notify/bundle.ts), a downtime notice's downtime */
  monitor_link?: string;
  /** a downtime notice's own status sentence and scope query (monitors/downtime-notice.ts) */
  status?: string;
  scope?: string;
  /** a bundle's summary (notify/bundle.ts): its message lists the alerts */
  bundle?: BundleInfo;
}

/** The emoji of a state in chat titles (Slack, Teams). */
export const STATE_EMOJI: Record<string, string> = { Alert: '🔴', Warn: '🟠', 'No Data': '⚪', OK: '🟢' };
