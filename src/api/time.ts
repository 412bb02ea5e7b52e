// Time expressions of Datadog's search APIs: ISO 8601, epoch milliseconds, and date math (`now-15m`).
import { HttpError } from './errors.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Parses `now`, `now-15m`, `now+1h`, an epoch-ms number or an ISO date; `what` names the field in errors. */
export function parseTime(value: unknown, now: number, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '')
    throw new HttpError(400, `${what}: expected a date, got ${JSON.stringify(value)}`);
  const v = value.trim();
  const math = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(v);
  if (math) {
    if (!math[1]) return now;
    const delta = Number(math[2]) * UNITS[math[3]!]!;
    return math[1] === '-' ? now - delta : now + delta;
  }
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new HttpError(
      400,
      `${what}: cannot read "${v}" as a date; use ISO 8601, epoch milliseconds or now-15m (units s m h d w)`,
    );
  }
  return t;
}
