// Monitor message templates in Datadog's syntax (docs: monitors/notify/variables, notify/_index,
// guide/template-variable-evaluation): conditional blocks, template/group/log variables, eval, local_time,
// urlencode, comments, raw blocks, override_priority; notification titles; @-handle extraction; save-time
// checks. Pure: no I/O, never throws while rendering, bounded work on hostile templates.
import { renderEval } from './template-eval.ts';
import { escapeHtml, formatLocalTime } from './template-format.ts';
import { parseTemplate } from './template-parse.ts';
import {
  resolvedText,
  resolveNumber,
  resolveTime,
  resolveVariable,
  TEMPLATE_VARIABLES,
} from './template-resolve.ts';
import type { TagArg, TemplateContext, TemplateNode } from './template-types.ts';

export type { MonitorStateName, TemplateContext, TransitionName } from './template-types.ts';

/** Rendered output is cut at this many characters. */
export const MAX_RENDERED_LENGTH = 1_000_000;

/** A rendered message and what it asked for besides text. */
export interface RenderedMessage {
  text: string;
  /** priority (1..5) set by the last `{{override_priority 'Pn'}}` rendered, null when none */
  overridePriority: number | null;
}

interface RenderState {
  ctx: TemplateContext;
  out: string[];
  length: number;
  overridePriority: number | null;
}

function emit(st: RenderState, s: string): void {
  if (!s || st.length >= MAX_RENDERED_LENGTH) return;
  const room = MAX_RENDERED_LENGTH - st.length;
  const piece = s.length > room ? s.slice(0, room) : s;
  st.out.push(piece);
  st.length += piece.length;
}

const PRIORITY_RE = /^[Pp]([1-5])$/;

function isNumeric(s: string): boolean {
  return s.trim() !== '' && Number.isFinite(Number(s));
}

/** True/false for a known condition; undefined when the name is not one. */
function condition(name: string, args: TagArg[], ctx: TemplateContext): boolean | undefined {
  const { from, to } = ctx.transition;
  switch (name) {
    case 'is_alert':
      return to === 'Alert';
    case 'is_warning':
      return to === 'Warn';
    case 'is_recovery':
      return to === 'OK' && from !== 'OK';
    case 'is_alert_recovery':
      return to === 'OK' && from === 'Alert';
    case 'is_warning_recovery':
      return to === 'OK' && from === 'Warn';
    case 'is_alert_to_warning':
      return to === 'Warn' && from === 'Alert';
    case 'is_no_data':
      return to === 'No Data';
    case 'is_no_data_recovery':
      return to === 'OK' && from === 'No Data';
    case 'is_unknown':
      return false;
    case 'is_renotify':
      return ctx.isRenotify;
    case 'is_priority': {
      const m = PRIORITY_RE.exec(args[0]?.value ?? '');
      return m !== null && ctx.priority === Number(m[1]);
    }
    case 'is_match':
    case 'is_exact_match': {
      const [variable, ...candidates] = args;
      if (!variable) return false;
      const text = resolvedText(resolveVariable(variable.value, ctx));
      return candidates.some(({ value: c }) => {
        if (name === 'is_match') return c === '' ? text !== '' : text.includes(c);
        return text === c || (isNumeric(text) && isNumeric(c) && Number(text) === Number(c));
      });
    }
    default:
      return undefined;
  }
}

/** Known conditions; any other block name is a Mustache section over that variable (non-empty → shown). */
function blockIsTrue(name: string, args: TagArg[], ctx: TemplateContext): boolean {
  return condition(name, args, ctx) ?? resolvedText(resolveVariable(name, ctx)) !== '';
}

function renderHelper(name: string, args: TagArg[], st: RenderState): string {
  const ctx = st.ctx;
  switch (name) {
    case 'eval':
      return args.length === 1 ? renderEval(args[0]!.value, (v) => resolveNumber(v, ctx)) : '';
    case 'local_time': {
      const t = resolveTime(args[0]?.value ?? '', ctx);
      const tz = args[1]?.value;
      return t === undefined || tz === undefined || args.length !== 2 ? '' : (formatLocalTime(t, tz) ?? '');
    }
    case 'urlencode':
      return args.length === 1 ? encodeURIComponent(resolvedText(resolveVariable(args[0]!.value, ctx))) : '';
    case 'override_priority': {
      const m = PRIORITY_RE.exec(args[0]?.value ?? '');
      if (m && args.length === 1) st.overridePriority = Number(m[1]);
      return '';
    }
    default:
      return '';
  }
}

function renderNodes(nodes: TemplateNode[], st: RenderState): void {
  for (const node of nodes) {
    if (st.length >= MAX_RENDERED_LENGTH) return;
    switch (node.kind) {
      case 'text':
        emit(st, node.text);
        break;
      case 'var': {
        const s = resolvedText(resolveVariable(node.path, st.ctx));
        // data (group values, log fields) is escaped; built-in variables such as {{comparator}} are not
        emit(st, node.escape && !TEMPLATE_VARIABLES.has(node.path.trim()) ? escapeHtml(s) : s);
        break;
      }
      case 'helper': {
        const s = renderHelper(node.name, node.args, st);
        emit(st, node.escape ? escapeHtml(s) : s);
        break;
      }
      case 'rawblock':
        if (node.name === 'raw' || blockIsTrue(node.name, node.args, st.ctx)) emit(st, node.text);
        break;
      case 'block': {
        const shown = blockIsTrue(node.name, node.args, st.ctx) !== node.negated;
        renderNodes(shown ? node.body : (node.alt ?? []), st);
        break;
      }
    }
  }
}

/** Renders a message or escalation message, with what it asked for (override_priority). */
export function renderMessageDetailed(template: string, ctx: TemplateContext): RenderedMessage {
  try {
    const st: RenderState = { ctx, out: [], length: 0, overridePriority: null };
    renderNodes(parseTemplate(template).nodes, st);
    return { text: st.out.join('').trim(), overridePriority: st.overridePriority };
  } catch {
    // not expected: the parser and renderer do not throw; keep notifications flowing regardless
    return { text: template.slice(0, MAX_RENDERED_LENGTH), overridePriority: null };
  }
}

/** Renders a message or escalation message. */
export function renderMessage(template: string, ctx: TemplateContext): string {
  return renderMessageDetailed(template, ctx).text;
}

/** The word in the title's brackets; a renotification repeats the state's "Re-" word. */
export function titleTransition(ctx: TemplateContext): string {
  const name = ctx.transition.name;
  if (name !== 'Renotify') return name;
  switch (ctx.transition.to) {
    case 'Alert':
      return 'Re-Triggered';
    case 'Warn':
      return 'Re-Warn';
    case 'No Data':
      return 'Re-No Data';
    default:
      return 'Renotify';
  }
}

/** `{@flow_name:Sync Users,env:prod}`: group pairs sorted by key (code points), then value. */
export function formatGroup(group: Record<string, string>): string {
  const pairs = Object.entries(group)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}:${v}`);
  return `{${pairs.join(',')}}`;
}

/**
 * `[P1] [Triggered on {@flow_name:Sync Users,env:prod}] Name` (name itself rendered as a template, on one
 * line); includeTags false drops the "on {...}" part, as does a monitor without groups. To apply an
 * `{{override_priority}}` from the message, pass the context with that priority.
 */
export function renderTitle(name: string, ctx: TemplateContext, includeTags: boolean): string {
  const rendered = renderMessage(name, ctx).replace(/\s*\r?\n\s*/g, ' ');
  let scope = titleTransition(ctx);
  if (includeTags && Object.keys(ctx.group).length > 0) scope += ` on ${formatGroup(ctx.group)}`;
  const p = ctx.priority;
  const prefix = p !== null && Number.isInteger(p) && p >= 1 && p <= 5 ? `[P${p}] ` : '';
  return `${prefix}[${scope}] ${rendered}`.trimEnd();
}

const TRAILING_PUNCTUATION = new Set([
  '.',
  ',',
  ';',
  ':',
  '!',
  '?',
  "'",
  '"',
  '`',
  ')',
  ']',
  '}',
  '>',
  '*',
  '~',
]);

function stripTrailingPunctuation(s: string): string {
  let k = s.length;
  while (k > 0 && TRAILING_PUNCTUATION.has(s[k - 1]!)) k--;
  return s.slice(0, k);
}

/**
 * @-handles in rendered text (`@slack-ops`, `@pagerduty-Okta`, `@webhook-x`, `@user@example.com`,
 * `@teams-…`, `@opsgenie-…`), preceded by whitespace or line start, in order, deduplicated, each with its
 * leading "@". Trailing sentence punctuation is not part of a handle; handles with parentheses are ignored,
 * except `@workflow-name(key=value, …)`.
 */
export function extractHandles(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let p = text.indexOf('@'); p >= 0; p = text.indexOf('@', p + 1)) {
    if (p > 0 && !/\s/.test(text[p - 1]!)) continue;
    let end = p + 1;
    while (end < text.length && !/\s/.test(text[end]!) && text[end] !== '(') end++;
    let handle = text.slice(p, end);
    if (text[end] === '(') {
      // workflow arguments end at the first ")" on the same line, within 1,000 characters
      const args = text.slice(end, end + 1000);
      const close = args.indexOf(')');
      const newline = args.indexOf('\n');
      if (!handle.startsWith('@workflow-') || close < 0 || (newline >= 0 && newline < close)) continue;
      handle = text.slice(p, end + close + 1);
    } else {
      handle = stripTrailingPunctuation(handle);
      if (handle.includes(')')) continue;
    }
    if (!/^@[A-Za-z0-9_]/.test(handle)) continue;
    if (!seen.has(handle)) {
      seen.add(handle);
      out.push(handle);
    }
  }
  return out;
}

/** Save-time check: unbalanced or unknown blocks, bad is_match arguments… → error messages (empty when fine). */
export function checkTemplate(template: string): string[] {
  try {
    return parseTemplate(template).errors;
  } catch (e) {
    return [`template could not be parsed: ${(e as Error).message}`];
  }
}
