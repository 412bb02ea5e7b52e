// The email channel over SMTP (nodemailer): `@user@example.com` sends one message to that address through
// the server the configuration file gives (`notifications.email`). The subject is the event's title; the
// message has a text and an HTML part (rendered message, value and threshold, group, sample log on alerts,
// links to the monitor and the matching logs). Message-ID, In-Reply-To and References come from the alert
// cycle ($ALERT_CYCLE_KEY), so a mail client threads a trigger, its renotifications and its recovery, and a
// retried send repeats the Message-ID. SMTP replies classify failures: 4xx and connection errors are retried,
// 5xx (550 unknown user, 535 bad credentials) are not. The password is never logged or returned.
import { createTransport } from 'nodemailer';
import type { MonitorEventRecord } from '../../store/store.ts';
import type { Channel, Delivery, SendResult } from '../channel.ts';
import type { EmailConfig, NotificationsConfig } from '../config.ts';
import type { EventBody } from '../event-body.ts';
import { eventVariables } from '../variables.ts';
import { SLACK_COLORS } from './slack.ts';

/** A recipient address as a handle gives it (no display name, no quoting). */
const ADDRESS = /^[^\s@<>()[\],;:"\\]+@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]+)$/;

/** The message built for one event (pure). */
export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** the cycle's first message, when this one is not it */
  inReplyTo?: string;
  references?: string;
  headers: Record<string, string>;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const LINK = /\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g;

/** Datadog markdown as plain text: `[label](url)` → `label (url)`. */
function markdownText(md: string): string {
  return md.replace(LINK, (_, label: string, url: string) => `${label} (${url})`);
}

/** Datadog markdown as HTML: escaped, links, `**bold**`, line breaks. */
function markdownHtml(md: string): string {
  const links: string[] = [];
  const held = md.replace(LINK, (_, label: string, url: string) => {
    links.push(`<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`);
    return `\uE000${links.length - 1}\uE000`;
  });
  return escapeHtml(held)
    .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\uE000(\d+)\uE000/g, (_, i: string) => links[Number(i)] ?? '')
    .replace(/\r?\n/g, '<br>\n');
}

/** The domain of the From address, for Message-IDs. */
function fromDomain(from: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(from)?.[1]?.toLowerCase() ?? 'flowwatch.invalid';
}

/** What both parts show, gathered once. */
interface Content {
  to: string;
  title: string;
  message: string;
  /** label, value; empty values left out */
  fields: [string, string][];
  links: [string, string][];
  /** the sample log's message and attributes, on alerts only */
  sample: string;
  footer: string;
}

function contentOf(e: MonitorEventRecord, b: EventBody, text: (k: string) => string): Content {
  const to = b.to ?? 'Alert';
  const threshold = to === 'Warn' ? b.thresholds?.warning : b.thresholds?.critical;
  const fields: [string, string][] = [
    ['Status', text('ALERT_STATUS')],
    ['Value', b.value === null || b.value === undefined ? 'no data' : String(b.value)],
    ['Threshold', threshold === null || threshold === undefined ? '' : `${b.comparator ?? '>'} ${threshold}`],
    ['Group', text('ALERT_SCOPE')],
    ['Priority', text('ALERT_PRIORITY')],
    ['Tags', (b.monitor?.tags ?? []).join(', ')],
  ];
  const links: [string, string][] = [
    ['Monitor', text('LINK')],
    ['Related logs', b.log_link ?? ''],
  ];
  // A summary has no value of its own: its message lists the alerts, with their links.
  if (b.bundle) {
    fields.splice(0, fields.length, ['Priority', text('ALERT_PRIORITY')]);
    links.splice(0, links.length, ['Monitors', b.bundle.link ?? '']);
  }
  // Samples are not shown on recoveries (as Slack and Datadog).
  const s = to !== 'OK' ? b.sample?.attributes : undefined;
  const sample = [
    typeof s?.message === 'string' ? cut(s.message, 1000) : '',
    s?.attributes ? cut(JSON.stringify(s.attributes, null, 2), 2000) : '',
  ]
    .filter(Boolean)
    .join('\n');
  const name = b.monitor?.name ? ` (${b.monitor.name})` : '';
  return {
    to,
    title: cut((b.title || b.monitor?.name || 'Flowwatch monitor').replace(/\s+/g, ' ').trim(), 300),
    message: (b.message ?? '').trim(),
    fields: fields.filter(([, v]) => v !== ''),
    links: links.filter(([, v]) => v !== ''),
    sample,
    footer: `Sent by Flowwatch for monitor ${b.monitor?.id ?? e.monitor_id}${name}.`,
  };
}

function textPart(c: Content): string {
  return [
    c.title,
    markdownText(c.message),
    c.fields.map(([k, v]) => `${k}: ${v}`).join('\n'),
    c.sample ? `Sample log:\n${c.sample}` : '',
    c.links.map(([k, v]) => `${k}: ${v}`).join('\n'),
    `-- \n${c.footer}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

const TD = 'padding:4px 12px 4px 0;vertical-align:top';

function htmlPart(c: Content): string {
  const rows = c.fields.map(
    ([k, v]) => `<tr><th style="${TD};text-align:left">${k}</th><td style="${TD}">${escapeHtml(v)}</td></tr>`,
  );
  const links = c.links.map(([k, v]) => `<a href="${escapeHtml(v)}">${k}</a>`);
  return [
    '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">',
    `<div style="border-left:6px solid ${SLACK_COLORS[c.to] ?? SLACK_COLORS.Alert};padding:8px 16px">`,
    `<h2 style="margin:0 0 12px;font-size:18px">${escapeHtml(c.title)}</h2>`,
    c.message ? `<p>${markdownHtml(c.message)}</p>` : '',
    rows.length ? `<table style="border-collapse:collapse">${rows.join('')}</table>` : '',
    c.sample
      ? `<p><strong>Sample log</strong></p><pre style="background:#f4f4f4;padding:8px;white-space:pre-wrap">${escapeHtml(c.sample)}</pre>`
      : '',
    links.length ? `<p>${links.join(' &middot; ')}</p>` : '',
    `<p style="color:#888;font-size:12px">${escapeHtml(c.footer)}</p>`,
    '</div></body></html>',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The email for an event (pure): the same event always gives the same message. */
export function buildEmailMessage(
  e: MonitorEventRecord,
  o: { from: string; idempotencyKey?: string },
): EmailMessage {
  const b = e.body as EventBody;
  const vars = eventVariables(e);
  const text = (k: string) => {
    const v = vars[k];
    return typeof v === 'string' ? v : '';
  };
  const c = contentOf(e, b, text);
  // One thread per alert cycle: its first event is the root; later ones answer it.
  const domain = fromDomain(o.from);
  const cycle = text('ALERT_CYCLE_KEY');
  const root = `<flowwatch.${cycle}@${domain}>`;
  const isRoot = (b.first_triggered_at ?? e.at) === e.at;
  const headers: Record<string, string> = {
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All',
    'X-Flowwatch-Monitor-Id': String(b.monitor?.id ?? e.monitor_id),
    'X-Flowwatch-Transition': b.transition ?? c.to,
  };
  if (o.idempotencyKey) headers['X-Flowwatch-Idempotency-Key'] = o.idempotencyKey;
  return {
    subject: c.title,
    text: textPart(c),
    html: htmlPart(c),
    messageId: isRoot ? root : `<flowwatch.${cycle}.${e.id}@${domain}>`,
    ...(isRoot ? {} : { inReplyTo: root, references: root }),
    headers,
  };
}

/** ` (to RCPT TO)`: the SMTP verb the reply answered (never an argument: no credentials, no address). */
function commandOf(command: string | undefined): string {
  const verb = /^(?:EHLO|HELO|STARTTLS|AUTH [A-Z0-9-]+|MAIL FROM|RCPT TO|DATA|RSET)$/.exec(
    command ?? '',
  )?.[0];
  return verb ? ` (to ${verb})` : '';
}

/** Classifies a failed send by the SMTP reply or the connection error (never echoes credentials). */
export function resultOfSmtpError(err: unknown, what: string): SendResult {
  const e = err as {
    command?: string;
    code?: string;
    responseCode?: number;
    response?: string;
    permanent?: boolean;
    message?: string;
  };
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 400) {
    const reply = cut((e.response ?? '').replace(/\s+/g, ' ').trim() || String(code), 300);
    // 503 (bad sequence of commands) is the one 5xx a new session may not get again (RFC 5321).
    const retryable = code < 500 || e.permanent === false;
    return {
      ok: false,
      retryable,
      reason: code < 500 ? 'smtp_4xx' : 'smtp_5xx',
      status: code,
      detail: `${what} answered ${reply}${commandOf(e.command)}`,
    };
  }
  switch (e.code) {
    case 'ETIMEDOUT':
      return { ok: false, retryable: true, reason: 'timeout', detail: `${what}: no answer in time` };
    case 'ECONFIG':
    case 'ENOAUTH':
    case 'EAUTH':
    case 'EREQUIRETLS':
    case 'EENVELOPE':
      return {
        ok: false,
        retryable: false,
        reason: 'bad_config',
        detail: `${what}: ${cut(e.message ?? e.code, 300)}`,
      };
    default:
      return {
        ok: false,
        retryable: true,
        reason: 'network',
        detail: `${what}: ${cut(e.message ?? e.code ?? 'connection failed', 300)}`,
      };
  }
}

function refuse(reason: 'unknown_handle' | 'bad_config', detail: string): SendResult {
  return { ok: false, retryable: false, reason, detail };
}

/** Sends one message; resolves with the reply code of the accepted message. */
async function sendMessage(
  cfg: EmailConfig,
  to: string,
  m: EmailMessage,
  signal: AbortSignal,
): Promise<number | null> {
  const transport = createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    requireTLS: !cfg.secure && cfg.starttls === 'required',
    ignoreTLS: !cfg.secure && cfg.starttls === 'off',
    auth: cfg.user && cfg.password ? { user: cfg.user, pass: cfg.password } : undefined,
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs,
    dnsTimeout: cfg.timeoutMs,
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(Object.assign(new Error('send aborted'), { code: 'EABORT' }));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  try {
    const info = await Promise.race([
      transport.sendMail({
        from: cfg.from,
        to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        inReplyTo: m.inReplyTo,
        references: m.references,
        headers: m.headers,
      }),
      aborted,
    ]);
    const status = Number(/^\d{3}/.exec(info.response ?? '')?.[0]);
    return Number.isNaN(status) ? null : status;
  } finally {
    aborted.catch(() => undefined);
    transport.close();
  }
}

/** The email channel; the SMTP settings are read from the configuration at each send (a reload applies at once). */
export function createEmailChannel(o: { config: () => NotificationsConfig }): Channel {
  return {
    name: 'email',
    // Summaries read well as mail (title, then one line per alert), and email is where floods hurt.
    bundles: true,
    async send(d: Delivery): Promise<SendResult> {
      const cfg = o.config().email;
      if (!cfg)
        return refuse(
          'bad_config',
          'email is not configured: add notifications.email (smtp and from) to the configuration file',
        );
      const address = d.handle.replace(/^@/, '');
      const domain = ADDRESS.exec(address)?.[1]?.toLowerCase();
      if (!domain) return refuse('unknown_handle', `"${address}" is not an email address`);
      if (cfg.allowedDomains.length > 0 && !cfg.allowedDomains.includes(domain))
        return refuse(
          'unknown_handle',
          `${domain} is not in notifications.email.allowed_domains (${cfg.allowedDomains.join(', ')})`,
        );
      const what = `SMTP server ${cfg.host}:${cfg.port}`;
      try {
        const m = buildEmailMessage(d.event, { from: cfg.from, idempotencyKey: d.idempotencyKey });
        return { ok: true, status: await sendMessage(cfg, address, m, d.signal) };
      } catch (err) {
        return resultOfSmtpError(err, what);
      }
    },
  };
}
