// Date parsing shared by intake preprocessing and the date remapper: ISO 8601, epoch ms or s, RFC 3164.

const RFC3164 = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Epoch numbers below this are read as seconds, above as milliseconds (1e11 s is the year 5138). */
const SECONDS_BELOW = 1e11;

/** Parses a date value into epoch milliseconds, or undefined when it is not a date; `now` dates RFC 3164 years. */
export function parseDate(value: unknown, now: number): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    return Math.round(value < SECONDS_BELOW ? value * 1000 : value);
  }
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return parseDate(Number(s), now);
  const m = RFC3164.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[1]!);
    if (month < 0) return undefined;
    const year = new Date(now).getUTCFullYear();
    let t = Date.UTC(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    // RFC 3164 has no year: a date far in the future belongs to last year.
    if (t - now > 30 * 86_400_000)
      t = Date.UTC(year - 1, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    return t;
  }
  // ISO 8601 (and RFC 2822, which Date also reads); require a digit-led year to avoid reading words as dates.
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) && !/^[A-Z][a-z]{2}, \d/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}
