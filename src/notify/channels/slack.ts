// The Slack channel (datadog-compat.md §7.2): `@slack-CHANNEL` posts to the incoming webhook URL the
// configuration file gives for CHANNEL (`notifications.slack.channels`). The message is Block Kit with a
// `text` fallback (the title), a colour bar by state (an attachment's `color`), the rendered message in
// mrkdwn (escaped as Slack asks: & < >), value and threshold, the sample log on alerts (never on
// recoveries) and links to the monitor and the matching logs.
import type { MonitorEventRecord } from '../../store/store.ts';
import type { BundleInfo } from '../bundle.ts';
import { type Channel, type Delivery, notDeliverable, postJson, type SendResult } from '../channel.ts';
import type { NotificationsConfig, SlackDisplay } from '../config.ts';
import { type EventBody, STATE_EMOJI } from '../event-body.ts';
import { eventVariables } from '../variables.ts';

/** Per-request timeout (as webhooks). */
export const SLACK_TIMEOUT_MS = 15_000;

/** Colour bar by the state the event goes to. */
export const SLACK_COLORS: Record<string, string> = {
  Alert: '#D52B1E', // red
  Warn: '#F28C28', // orange
  'No Data': '#9E9E9E', // grey
  OK: '#2EB67D', // green
};

/** Slack's escaping of text: only `&`, `<` and `>`. */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A mrkdwn link `<url|label>`; the URL may not hold `<`, `>` or `|` and is escaped as text. */
export function slackLink(url: string, label: string): string {
  const safe = url.replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');
  return `<${slackEscape(safe)}|${slackEscape(label).replace(/\|/g, '¦')}>`;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Datadog markdown to Slack mrkdwn: escaped, `[label](url)` → `<url|label>`, `**bold**` → `*bold*`. */
export function toMrkdwn(markdown: string): string {
  const links: string[] = [];
  // Links first (their URLs must not be escaped twice), kept aside as placeholders.
  const withoutLinks = markdown.replace(
    /\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g,
    (_, label: string, url: string) => {
      links.push(slackLink(url, label));
      return `\uE000${links.length - 1}\uE000`;
    },
  );
  return slackEscape(withoutLinks)
    .replace(/\*\*([^*\n]+)\*\*/g, '*$1*')
    .replace(/\uE000(\d+)\uE000/g, (_, i: string) => links[Number(i)] ?? '');
}

function thresholdText(b: EventBody): string {
  const t = b.to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  return t === null || t === undefined ? '' : `${b.comparator ?? '>'} ${t}`;
}

/** The sample log as a short excerpt: its message and a few attributes. */
function sampleText(sample: NonNullable<EventBody['sample']>): string {
  const a = { ...(sample.attributes ?? {}) };
  const message = typeof a.message === 'string' ? a.message : '';
  delete a.message;
  const nested = (a.attributes ?? {}) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const k of ['service', 'host', 'status', 'timestamp']) if (a[k] !== undefined) picked[k] = a[k];
  for (const [k, v] of Object.entries(nested)) {
    if (Object.keys(picked).length >= 12) break;
    picked[k] = v;
  }
  const attrs = cut(JSON.stringify(picked, null, 1).replace(/\n\s*/g, ' '), 1200);
  return `*Sample log*\n\`\`\`${slackEscape(cut(message, 1000))}\n${slackEscape(attrs)}\`\`\``;
}

/**
 * Header, colour and labels: a state change's, or a downtime notice's (monitors/downtime-notice.ts), which
 * is no state change: its title says it all.
 */
function lookOf(b: EventBody, title: string) {
  const to = b.to ?? 'Alert';
  if (b.cause === 'downtime')
    return {
      header: cut(`🔕 ${title}`, 150),
      color: SLACK_COLORS['No Data'],
      scope: 'Scope',
      link: 'Downtime',
    };
  return {
    header: cut(`${STATE_EMOJI[to] ?? ''} ${b.transition ?? to}: ${b.monitor?.name ?? title}`.trim(), 150),
    color: SLACK_COLORS[to] ?? SLACK_COLORS.Alert,
    scope: 'Group',
    link: 'Monitor',
  };
}

/** The JSON body posted to the incoming webhook (pure). */
export function buildSlackPayload(
  e: MonitorEventRecord,
  display: SlackDisplay = {},
): Record<string, unknown> {
  const b = e.body as EventBody;
  if (b.bundle) return buildSlackSummary(b, b.bundle);
  const vars = eventVariables(e);
  const to = b.to ?? 'Alert';
  const monitorLink = typeof vars.LINK === 'string' ? vars.LINK : '';
  const title = b.title ?? b.monitor?.name ?? 'Flowwatch monitor';
  const notice = b.cause === 'downtime';
  const look = lookOf(b, title);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: look.header, emoji: true } },
  ];
  const message = display.message === false ? '' : (b.message ?? '').trim();
  if (message) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(toMrkdwn(message), 3000) } });

  const details: Record<string, unknown>[] = [];
  const fields: { type: 'mrkdwn'; text: string }[] = [];
  const field = (name: string, value: string) => {
    if (value) fields.push({ type: 'mrkdwn', text: cut(`*${name}*\n${slackEscape(value)}`, 2000) });
  };
  // A dead-letter notice (notify/dead-letter.ts) and a downtime notice have no value to show.
  if (b.cause !== 'dead_letter' && !notice)
    field('Value', b.value === null || b.value === undefined ? 'no data' : String(b.value));
  field('Threshold', thresholdText(b));
  field(look.scope, typeof vars.ALERT_SCOPE === 'string' ? vars.ALERT_SCOPE : '');
  field('Priority', typeof b.monitor?.priority === 'number' ? `P${b.monitor.priority}` : '');
  details.push({ type: 'section', fields: fields.slice(0, 10) });
  // Samples are not shown on recoveries (Datadog, log.md).
  if (to !== 'OK' && b.sample?.attributes)
    details.push({ type: 'section', text: { type: 'mrkdwn', text: cut(sampleText(b.sample), 3000) } });
  const context = [
    monitorLink ? slackLink(monitorLink, look.link) : '',
    b.log_link ? slackLink(b.log_link, 'Related logs') : '',
    ...(display.tags === false ? [] : (b.monitor?.tags ?? [])).slice(0, 5).map(slackEscape),
  ].filter(Boolean);
  if (context.length > 0)
    details.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(context.join(' · '), 3000) }] });
  const buttons = [
    monitorLink
      ? {
          type: 'button',
          text: { type: 'plain_text', text: `View ${look.link.toLowerCase()}` },
          url: monitorLink,
        }
      : null,
    b.log_link ? { type: 'button', text: { type: 'plain_text', text: 'View logs' }, url: b.log_link } : null,
  ].filter((x) => x !== null && x.url.length <= 3000);
  if (buttons.length > 0) details.push({ type: 'actions', elements: buttons });

  return {
    text: cut(title, 3000),
    blocks,
    attachments: [{ color: look.color, fallback: cut(title, 3000), blocks: details }],
  };
}

/**
 * A bundle's summary (notify/bundle.ts): the title, then one line per held alert with links to its monitor
 * and logs, in as many sections as Block Kit's 3000 characters need (at most 40; the rest are counted).
 */
export function buildSlackSummary(b: EventBody, bundle: BundleInfo): Record<string, unknown> {
  const to = b.to ?? 'Alert';
  const title = b.title ?? `${bundle.count} more ${bundle.noun}`;
  const header = cut(`${STATE_EMOJI[to] ?? ''} ${bundle.count} more ${bundle.noun}`.trim(), 150);
  const intro = (b.message ?? '').split('\n\n')[0] ?? '';
  const lines = bundle.items.map((i) => {
    const what = i.scope ? `${i.monitor} on ${i.scope}` : i.monitor;
    const name = i.monitor_link ? slackLink(i.monitor_link, what) : slackEscape(what);
    const logs = i.log_link ? ` · ${slackLink(i.log_link, 'logs')}` : '';
    return cut(`• *${slackEscape(i.transition)}* ${name}${logs}`, 2900);
  });
  const sections: string[] = [];
  let shown = 0;
  for (const line of lines) {
    const last = sections.at(-1);
    if (last !== undefined && last.length + line.length + 1 <= 3000)
      sections[sections.length - 1] = `${last}\n${line}`;
    else if (sections.length < 40) sections.push(line);
    else break;
    shown++;
  }
  if (shown < lines.length) sections.push(`…and ${lines.length - shown} more`);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(toMrkdwn(intro), 3000) } },
    ...sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
  ];
  const details: Record<string, unknown>[] = [];
  if (bundle.link)
    details.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'View monitors' }, url: bundle.link }],
    });
  return {
    text: cut(title, 3000),
    blocks,
    attachments: [
      { color: SLACK_COLORS[to] ?? SLACK_COLORS.Alert, fallback: cut(title, 3000), blocks: details },
    ],
  };
}

/** The Slack channel; definitions are read from the configuration at each send (a reload applies at once). */
export function createSlackChannel(o: {
  config: () => NotificationsConfig;
  timeoutMs?: number;
  now?: () => number;
}): Channel {
  const now = o.now ?? Date.now;
  return {
    name: 'slack',
    bundles: true,
    async send(d: Delivery): Promise<SendResult> {
      const name = d.handle.slice('slack-'.length);
      const ch = o.config().slack.get(name.toLowerCase());
      if (!ch)
        return notDeliverable(
          'unknown_handle',
          `no Slack channel named "${name}" (add it under notifications.slack.channels in the configuration file, or through the Slack integration API)`,
        );
      // Named by origin only: the path of an incoming webhook URL is its secret.
      let what: string;
      try {
        what = `Slack channel "${ch.name}" (POST ${new URL(ch.url).origin})`;
      } catch {
        return notDeliverable('bad_config', `Slack channel "${ch.name}": invalid URL`);
      }
      return postJson({
        url: ch.url,
        what,
        // A channel of the integration API posts through its account's webhook, which is told the channel.
        body: { ...(ch.channel ? { channel: ch.channel } : {}), ...buildSlackPayload(d.event, ch.display) },
        userAgent: 'Flowwatch-Slack/1.0 (Datadog-compatible)',
        signal: d.signal,
        timeoutMs: o.timeoutMs ?? SLACK_TIMEOUT_MS,
        now,
      });
    },
  };
}
