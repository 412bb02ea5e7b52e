// Datadog's status-remapper mapping (datadog-compat.md §2.5), shared by intake preprocessing and pipelines.
import type { Status } from './log-event.ts';

const SYSLOG: Status[] = ['emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug'];

/** Maps a raw status value (syslog integer or string) to a canonical status, exactly as Datadog's remapper. */
export function statusFromValue(value: unknown): Status | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 7 ? SYSLOG[value] : 'info';
  }
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (v === '') return undefined;
  if (/^[0-7]$/.test(v)) return SYSLOG[Number(v)];
  if (v.startsWith('emerg') || v.startsWith('f')) return 'emergency';
  if (v.startsWith('err')) return 'error';
  if (v.startsWith('a')) return 'alert';
  if (v.startsWith('c')) return 'critical';
  if (v.startsWith('w')) return 'warn';
  if (v.startsWith('n')) return 'notice';
  if (v.startsWith('i')) return 'info';
  if (v.startsWith('d') || v.startsWith('t') || v.startsWith('v')) return 'debug';
  if (v.startsWith('o') || v.startsWith('s')) return 'ok';
  return 'info';
}
