// The Microsoft Teams channel, Workflows webhooks (datadog-compat.md §7.4): `@teams-NAME` posts an adaptive
// card (version 1.4) wrapped in a `message` to the URL the configuration file gives for NAME
// (`notifications.teams.webhooks`). The card holds the title in a container styled by state, the rendered
// message, a FactSet (value, threshold, group, state, priority), the sample log on alerts and Action.OpenUrl
// buttons to the monitor and the matching logs. Teams refuses cards above about 28 KB: the message (then the
// sample) is cut so the whole request stays under TEAMS_MAX_BYTES. A bundle's summary is a card of its own:
// the held alerts as a list of links, as many as fit, then how many more.
import type { MonitorEventRecord } from '../../store/store.ts';
import { type BundleInfo, formatWindow } from '../bundle.ts';
import { type Channel, type Delivery, notDeliverable, postJson, type SendResult } from '../channel.ts';
import type { NotificationsConfig } from '../config.ts';
import { type EventBody, STATE_EMOJI } from '../event-body.ts';
import { eventVariables } from '../variables.ts';

/** Per-request timeout (as webhooks). */
export const TEAMS_TIMEOUT_MS = 15_000;

/** The largest request body sent, in bytes: under Teams' ≈28 KB card limit with room for its envelope. */
export const TEAMS_MAX_BYTES = 27_000;

/** Container style by the state the event goes to (adaptive card styles: attention = red, good = green). */
export const TEAMS_STYLES: Record<string, string> = {
  Alert: 'attention',
  Warn: 'warning',
  'No Data': 'emphasis',
  OK: 'good',
};

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/** The sample log as text: its message and its other attributes as JSON. */
function sampleText(attrs: Record<string, unknown>): string {
  const { message, ...rest } = attrs;
  const head = typeof message === 'string' ? message : '';
  return cut(`${head}\n${JSON.stringify(rest)}`.trim(), 2000);
}

function envelope(card: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}

/** Text for a markdown link's label: brackets would end it early. */
const label = (s: string) => s.replace(/\[/g, '(').replace(/\]/g, ')');
/** A URL for a markdown link: a parenthesis or a space would end it early. */
const target = (u: string) => u.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');

function adaptiveCard(body: Record<string, unknown>[], actions: Record<string, unknown>[]) {
  const c: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (actions.length > 0) c.actions = actions;
  return envelope(c);
}

function header(to: string, text: string): Record<string, unknown> {
  return {
    type: 'Container',
    style: TEAMS_STYLES[to] ?? TEAMS_STYLES.Alert,
    bleed: true,
    items: [{ type: 'TextBlock', size: 'Large', weight: 'Bolder', text: cut(text, 500), wrap: true }],
  };
}

/**
 * A bundle's summary (notify/bundle.ts): a header, the first paragraph of its message, one line per held
 * alert (its transition, a link to its monitor and to its logs) for as many as fit under TEAMS_MAX_BYTES,
 * then how many more, and a button to the monitors.
 */
export function buildTeamsSummary(b: EventBody, bundle: BundleInfo): Record<string, unknown> {
  const to = b.to ?? 'Alert';
  const title = `${STATE_EMOJI[to] ?? ''} ${bundle.count} more ${bundle.noun}`.trim();
  const intro = cut((b.message ?? '').split('\n\n')[0] ?? '', 2000);
  const facts = [
    { title: 'Alerts', value: String(bundle.count) },
    { title: 'Window', value: formatWindow(bundle.window_s) },
  ];
  const actions = bundle.link ? [{ type: 'Action.OpenUrl', title: 'View monitors', url: bundle.link }] : [];
  const lines = bundle.items.map((i) => {
    const what = label(i.scope ? `${i.monitor} on ${i.scope}` : i.monitor);
    const name = i.monitor_link ? `[${what}](${target(i.monitor_link)})` : what;
    const logs = i.log_link ? ` · [logs](${target(i.log_link)})` : '';
    return cut(`- **${label(i.transition)}** ${name}${logs}`, 1000);
  });
  const card = (shown: string[]) => {
    const rest = lines.length - shown.length;
    const list = rest > 0 ? [...shown, `…and ${rest} more`] : shown;
    const body: Record<string, unknown>[] = [header(to, title)];
    if (intro) body.push({ type: 'TextBlock', text: intro, wrap: true });
    body.push({ type: 'TextBlock', text: list.join('\n'), wrap: true }, { type: 'FactSet', facts });
    return adaptiveCard(body, actions);
  };
  // As many lines as fit: the size of the rest of the card is known, each line adds its JSON length.
  let room = TEAMS_MAX_BYTES - bytes(card([])) - 40;
  const shown: string[] = [];
  for (const line of lines) {
    const cost = bytes(line) - 1; // its JSON string, less a quote, plus the newline joining it
    if (cost > room) break;
    room -= cost;
    shown.push(line);
  }
  return card(shown);
}

/** The JSON body posted to the Workflows webhook (pure); at most TEAMS_MAX_BYTES. */
export function buildTeamsPayload(e: MonitorEventRecord): Record<string, unknown> {
  const b = e.body as EventBody;
  if (b.bundle) return buildTeamsSummary(b, b.bundle);
  const vars = eventVariables(e);
  const to = b.to ?? 'Alert';
  const monitorLink = typeof vars.LINK === 'string' ? vars.LINK : '';
  const title = cut(b.title || b.monitor?.name || 'Flowwatch monitor', 500);
  const threshold = to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  const facts = [
    { title: 'Value', value: b.value === null || b.value === undefined ? 'no data' : String(b.value) },
    {
      title: 'Threshold',
      value: threshold === null || threshold === undefined ? '' : `${b.comparator ?? '>'} ${threshold}`,
    },
    { title: 'Group', value: typeof vars.ALERT_SCOPE === 'string' ? vars.ALERT_SCOPE : '' },
    { title: 'Monitor state', value: `${to}${b.transition ? ` (${b.transition})` : ''}` },
    { title: 'Priority', value: typeof vars.ALERT_PRIORITY === 'string' ? vars.ALERT_PRIORITY : '' },
  ]
    .filter((f) => f.value !== '')
    .map((f) => ({ ...f, value: cut(f.value, 500) }));
  const actions = [
    monitorLink ? { type: 'Action.OpenUrl', title: 'Open monitor', url: monitorLink } : null,
    b.log_link ? { type: 'Action.OpenUrl', title: 'View logs', url: b.log_link } : null,
  ].filter((x) => x !== null);

  const card = (message: string, sample: string) => {
    const body: Record<string, unknown>[] = [header(to, `${STATE_EMOJI[to] ?? ''} ${title}`.trim())];
    if (message) body.push({ type: 'TextBlock', text: message, wrap: true });
    body.push({ type: 'FactSet', facts });
    if (sample)
      body.push(
        { type: 'TextBlock', text: 'Sample log', weight: 'Bolder', wrap: true, spacing: 'Medium' },
        { type: 'TextBlock', text: sample, fontType: 'Monospace', size: 'Small', wrap: true },
      );
    return adaptiveCard(body, actions as Record<string, unknown>[]);
  };

  let message = (b.message ?? '').trim();
  // Samples are not shown on recoveries (as Datadog, log.md).
  let sample = to !== 'OK' && b.sample?.attributes ? sampleText(b.sample.attributes) : '';
  let out = card(message, sample);
  if (bytes(out) <= TEAMS_MAX_BYTES) return out;
  sample = '';
  out = card(message, sample);
  // Cut the message by what its JSON form costs, then trim further until the body fits.
  const room = TEAMS_MAX_BYTES - bytes(card('', ''));
  while (bytes(out) > TEAMS_MAX_BYTES && message.length > 0) {
    const over = bytes(message) - room;
    const keep = Math.max(0, Math.floor(message.length * Math.min(0.95, room / bytes(message))));
    message = cut(message, over > 0 ? keep : message.length - 16);
    out = card(`${message}\n\n*(message cut: longer than Teams accepts)*`, sample);
  }
  return out;
}

/** The Teams channel; webhooks are read from the configuration at each send (a reload applies at once). */
export function createTeamsChannel(o: {
  config: () => NotificationsConfig;
  timeoutMs?: number;
  now?: () => number;
}): Channel {
  const now = o.now ?? Date.now;
  return {
    name: 'teams',
    bundles: true,
    async send(d: Delivery): Promise<SendResult> {
      const name = d.handle.slice('teams-'.length);
      const wh = o.config().teams.get(name.toLowerCase());
      if (!wh)
        return notDeliverable(
          'unknown_handle',
          `no Teams webhook named "${name}" (add it under notifications.teams.webhooks in the configuration file, or through the Microsoft Teams integration API)`,
        );
      // Named by origin only: the URL's query (sig=…) is its secret.
      let what: string;
      try {
        what = `Teams webhook "${wh.name}" (POST ${new URL(wh.url).origin})`;
      } catch {
        return notDeliverable('bad_config', `Teams webhook "${wh.name}": invalid URL`);
      }
      return postJson({
        url: wh.url,
        what,
        body: buildTeamsPayload(d.event),
        userAgent: 'Flowwatch-Teams/1.0 (Datadog-compatible)',
        signal: d.signal,
        timeoutMs: o.timeoutMs ?? TEAMS_TIMEOUT_MS,
        now,
      });
    },
  };
}
