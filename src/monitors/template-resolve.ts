// Variable lookup for monitor message templates: built-in template variables, group (multi alert)
// variables, and the matching log's reserved fields, attributes and tags.
import type { Json } from '../domain/log-event.ts';
import { getAttribute } from '../pipelines/attributes.ts';
import { formatIso, formatNumber, formatUtc } from './template-format.ts';
import type { TemplateContext } from './template-types.ts';

const MAX_SEGMENTS = 32;

/** Splits `a.b`, `[a.b].name`, `log.attributes.[error.message]` into segments; null when malformed. */
export function splitPath(path: string): string[] | null {
  const segs: string[] = [];
  let i = 0;
  let cur = '';
  let bracketed = false;
  while (i < path.length) {
    const c = path[i]!;
    if (c === '[' && cur === '' && !bracketed) {
      const close = path.indexOf(']', i + 1);
      if (close < 0) return null;
      cur = path.slice(i + 1, close);
      bracketed = true;
      i = close + 1;
      continue;
    }
    if (c === '.') {
      if (cur === '' && !bracketed) return null;
      segs.push(cur);
      cur = '';
      bracketed = false;
    } else {
      if (bracketed) return null; // characters after "]" other than "."
      cur += c;
    }
    i++;
  }
  if (cur === '' && !bracketed) return null;
  segs.push(cur);
  return segs.length > MAX_SEGMENTS ? null : segs;
}

/** Built-in template variables: values Flowwatch computes (numbers, dates, the comparator), not data. */
export const TEMPLATE_VARIABLES: ReadonlySet<string> = new Set([
  'value',
  'threshold',
  'warn_threshold',
  'alert_recovery_threshold',
  'warn_recovery_threshold',
  'ok_threshold',
  'comparator',
  'first_triggered_at',
  'first_triggered_at_epoch',
  'last_triggered_at',
  'last_triggered_at_epoch',
  'triggered_duration_sec',
]);

/** A resolved value: numbers stay numbers (for eval and is_exact_match). */
export type Resolved = string | number;

function templateVariable(name: string, ctx: TemplateContext): Resolved | null | undefined {
  const t = ctx.thresholds;
  switch (name) {
    case 'value':
      return ctx.value;
    case 'threshold':
      return t.critical;
    case 'warn_threshold':
      return t.warning ?? null;
    case 'alert_recovery_threshold':
      return t.critical_recovery ?? null;
    case 'warn_recovery_threshold':
      return t.warning_recovery ?? null;
    case 'ok_threshold':
      return null; // service checks only
    case 'comparator':
      return ctx.comparator;
    case 'first_triggered_at':
      return ctx.firstTriggeredAt === null ? null : formatUtc(ctx.firstTriggeredAt);
    case 'first_triggered_at_epoch':
      return ctx.firstTriggeredAt;
    case 'last_triggered_at':
      return ctx.lastTriggeredAt === null ? null : formatUtc(ctx.lastTriggeredAt);
    case 'last_triggered_at_epoch':
      return ctx.lastTriggeredAt;
    case 'triggered_duration_sec':
      return ctx.firstTriggeredAt === null
        ? null
        : Math.max(0, Math.floor((ctx.now - ctx.firstTriggeredAt) / 1000));
    default:
      return undefined;
  }
}

function jsonToResolved(v: Json | undefined): Resolved | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

/** Values of `key:value` tags with that key, comma-separated in lexicographic order. */
function tagValue(tags: readonly string[], key: string): string | undefined {
  const prefix = `${key.toLowerCase()}:`;
  const values = tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
  if (values.length === 0) return undefined;
  return [...new Set(values)].sort().join(',');
}

function logVariable(segs: string[], ctx: TemplateContext): Resolved | undefined {
  const field = segs[1];
  if (field === undefined) return undefined;
  if (field === 'link' && segs.length === 2) return ctx.logLink;
  const log = ctx.log;
  if (!log) return undefined;
  const rest = segs.slice(2);
  if (segs.length === 2) {
    switch (field) {
      case 'message':
        return log.message;
      case 'service':
      case 'source':
      case 'host':
      case 'trace_id':
        return log[field] ?? undefined;
      case 'status':
        return log.status;
      case 'timestamp':
        return formatIso(log.timestamp);
      case 'id':
        return log.id;
      case 'span_id':
        return jsonToResolved(
          getAttribute(log.attributes, 'span_id') ?? getAttribute(log.attributes, 'dd.span_id'),
        );
      case 'tags':
        return log.tags.join(',');
      case 'attributes':
        return JSON.stringify(log.attributes);
    }
  }
  if (field === 'attributes') return jsonToResolved(getAttribute(log.attributes, rest.join('.')));
  if (field === 'tags') return tagValue(log.tags, rest.join('.'));
  // `{{log.my_facet}}`: any other name is looked up in the attributes
  return jsonToResolved(getAttribute(log.attributes, segs.slice(1).join('.')));
}

function groupVariable(segs: string[], ctx: TemplateContext): string | undefined {
  const whole = segs.join('.');
  if (Object.hasOwn(ctx.group, whole)) return ctx.group[whole];
  if (segs.length >= 2 && segs[segs.length - 1] === 'name') {
    const key = segs.slice(0, -1).join('.');
    if (Object.hasOwn(ctx.group, key)) return ctx.group[key];
  }
  return undefined;
}

/** Looks a variable up; undefined when it names nothing or its value is missing. */
export function resolveVariable(path: string, ctx: TemplateContext): Resolved | undefined {
  const segs = splitPath(path.trim());
  if (!segs) return undefined;
  if (segs.length === 1) {
    const t = templateVariable(segs[0]!, ctx);
    if (t !== undefined) return t ?? undefined;
  }
  if (segs[0] === 'log' && segs.length >= 2) {
    const v = logVariable(segs, ctx);
    if (v !== undefined) return v;
  }
  return groupVariable(segs, ctx);
}

/** The text a resolved value renders as (missing → empty). */
export function resolvedText(v: Resolved | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'number' ? formatNumber(v) : v;
}

/** A variable as a number, for eval: numbers, and strings that are decimal numbers. */
export function resolveNumber(path: string, ctx: TemplateContext): number | undefined {
  const v = resolveVariable(path, ctx);
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Epoch ms of a time variable for local_time. */
export function resolveTime(name: string, ctx: TemplateContext): number | undefined {
  switch (name) {
    case 'first_triggered_at':
    case 'first_triggered_at_epoch':
      return ctx.firstTriggeredAt ?? undefined;
    case 'last_triggered_at':
    case 'last_triggered_at_epoch':
      return ctx.lastTriggeredAt ?? undefined;
    case 'log.timestamp':
      return ctx.log?.timestamp;
    default:
      return undefined;
  }
}
