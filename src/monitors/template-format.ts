// Formatting helpers for monitor message templates: numbers, dates, time zones, escaping, byte sizes.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
};

/** Escapes variable content as Handlebars does for `{{x}}` (`{{{x}}}` is not escaped). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Formats a number as a notification shows it: integers without a decimal point (5.0 → "5"), other values
 * with at most 15 significant digits so that float noise disappears (0.1 + 0.2 → "0.3"). NaN and ±Infinity
 * render as the empty string.
 */
export function formatNumber(n: number, asFloat = false): string {
  if (!Number.isFinite(n)) return '';
  if (Object.is(n, -0)) n = 0;
  if (Number.isInteger(n)) {
    const s = String(n);
    return asFloat && !/[e.]/.test(s) ? `${s}.0` : s;
  }
  return String(Number(n.toPrecision(15)));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2024-05-31 14:43:27 UTC`: how `{{first_triggered_at}}` / `{{last_triggered_at}}` render. */
export function formatUtc(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return '';
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  );
}

/** ISO 8601 (`2024-05-31T14:43:27.123Z`): how `{{log.timestamp}}` renders. */
export function formatIso(epochMs: number): string {
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return null;
  }
  if (formatters.size >= 200) formatters.clear();
  formatters.set(timeZone, f);
  return f;
}

/** True when Intl knows the IANA time zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  return timeZone !== '' && formatterFor(timeZone) !== null;
}

/** `{{local_time …}}`: `yyyy-MM-dd HH:mm:ss±HH:mm` in the time zone; undefined for an unknown zone. */
export function formatLocalTime(epochMs: number, timeZone: string): string | undefined {
  const f = formatterFor(timeZone);
  const d = new Date(epochMs);
  if (!f || Number.isNaN(d.getTime())) return undefined;
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(d)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const y = parts.year ?? 0;
  const mo = parts.month ?? 1;
  const day = parts.day ?? 1;
  const h = (parts.hour ?? 0) % 24;
  const mi = parts.minute ?? 0;
  const s = parts.second ?? 0;
  const wall = Date.UTC(y, mo - 1, day, h, mi, s);
  const offsetMin = Math.round((wall - Math.floor(epochMs / 1000) * 1000) / 60000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return (
    `${pad(y, 4)}-${pad(mo)}-${pad(day)} ${pad(h)}:${pad(mi)}:${pad(s)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const BIT_UNITS = ['b', 'Kib', 'Mib', 'Gib', 'Tib', 'Pib', 'Eib'];

function humanize(n: number, units: string[]): string {
  if (!Number.isFinite(n)) return '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const rounded = Math.round(v * 100) / 100;
  return `${n < 0 ? '-' : ''}${String(rounded)} ${units[i]}`;
}

/** `humanize_bytes`: binary (1024) steps, two decimals at most: 1536 → "1.5 KiB". */
export function humanizeBytes(n: number): string {
  return humanize(n, BYTE_UNITS);
}

/** `humanize_bits`: binary (1024) steps, two decimals at most: 1536 → "1.5 Kib". */
export function humanizeBits(n: number): string {
  return humanize(n, BIT_UNITS);
}
