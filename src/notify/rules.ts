// The matching core of notification rules (spec §5, docs/notifications.md "Notification rules"): given a
// monitor event as the evaluator stores it (monitors/describe.ts) and the rules, who is notified. Pure.
//
// Choices where Datadog is unclear:
// - The tag set of a notification is the union of the monitor's tags and the firing group's tags. A group
//   value becomes the tag `<group-by key>:<value>` with the key as written in `.by()` (`@flow_name:Sync`,
//   `env:prod`); an attribute key is also available without its `@` (`flow_name:Sync`). Keys and values
//   compare ignoring case. One notification is one group, so the scope (NOT included) is evaluated once, on
//   monitor tags ∪ that group's tags; an ungrouped monitor has only its own tags.
// - A rule without a filter matches every notification.
// - Condition scopes: `transition_type:<x>` (with or without `is_`, see TRANSITION_TYPES) has the meaning of
//   the template condition `{{#is_<x>}}` on the event's from/to states (`is_alert` holds on Re-Triggered too);
//   `priority:p<n>` tests the event's priority (the monitor's, or the one `{{override_priority}}` set) or a
//   `priority:` tag; any other `key:value` tests the tag set. Every matching condition adds its recipients;
//   `fallback_recipients` apply when none matched.
// - Recipients are stored as Datadog stores them, without `@`, and returned as handles (`@slack-ops`). The
//   message's own @-handles come first, then each matching rule's, in rule order; duplicates (ignoring case
//   and a leading `@`) are dropped, keeping the first spelling.
// - Rule recipients are part of every notification of the event, renotifications included.
// - A recovery also goes to the PagerDuty and Opsgenie recipients the rule's conditions give the group's
//   triggers, so the incident a `transition_type:is_alert` condition opened is resolved (issue 6 §4).
import { type NotificationRule, parseConditionScope, priorityOf, TRANSITION_TYPES } from './rule-model.ts';
import { evalScope, parseScope, type Scope, TagSet } from './scope.ts';

/** The facts of a monitor event that rules look at (a subset of the stored event body). */
export interface RuleEvent {
  /** `$ALERT_TRANSITION` name: Triggered, Re-Triggered, Warn, Recovered, No Data… */
  transition?: string;
  from?: string;
  to?: string;
  cause?: string;
  monitor?: { tags?: string[]; priority?: number | null };
  group?: Record<string, string>;
  /** @-handles found in the rendered message */
  handles?: string[];
}

interface CompiledRule {
  filter: ((tags: TagSet) => boolean) | null;
  recipients: string[] | null;
  conditions: { scope: Scope; recipients: string[] }[];
  fallback: string[];
}

const compiled = new WeakMap<object, CompiledRule | null>();

/** Compiles a rule once (rules are validated when saved; one that no longer parses matches nothing). */
function compile(rule: NotificationRule): CompiledRule | null {
  if (compiled.has(rule)) return compiled.get(rule)!;
  let c: CompiledRule | null;
  try {
    let filter: CompiledRule['filter'] = null;
    if (rule.filter && 'tags' in rule.filter) {
      const tags = rule.filter.tags;
      filter = (set) => tags.every((t) => set.hasTag(t));
    } else if (rule.filter && 'scope' in rule.filter) {
      const scope = parseScope(rule.filter.scope);
      filter = (set) => evalScope(scope, set);
    }
    c = {
      filter,
      recipients: rule.recipients ?? null,
      conditions: (rule.conditional_recipients?.conditions ?? []).map((x) => ({
        scope: parseConditionScope(x.scope),
        recipients: x.recipients,
      })),
      fallback: rule.conditional_recipients?.fallback_recipients ?? [],
    };
  } catch {
    c = null;
  }
  compiled.set(rule, c);
  return c;
}

/** The tag set of a notification: monitor tags ∪ the group's values as tags. */
export function notificationTags(e: RuleEvent): TagSet {
  const set = new TagSet(e.monitor?.tags ?? []);
  for (const [k, v] of Object.entries(e.group ?? {})) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    set.add(k, String(v));
    if (k.startsWith('@') && k.length > 1) set.add(k.slice(1), String(v));
  }
  return set;
}

/** Whether the event is of a transition type (template condition semantics on from/to). */
export function isTransitionType(e: RuleEvent, value: string): boolean {
  const t = TRANSITION_TYPES[value.toLowerCase()];
  const { from, to } = e;
  switch (t) {
    case 'alert':
      return to === 'Alert';
    case 'warning':
      return to === 'Warn';
    case 'recovery':
      return to === 'OK' && from !== 'OK';
    case 'alert_recovery':
      return to === 'OK' && from === 'Alert';
    case 'warning_recovery':
      return to === 'OK' && from === 'Warn';
    case 'no_data':
      return to === 'No Data';
    case 'no_data_recovery':
      return to === 'OK' && from === 'No Data';
    case 'alert_to_warning':
      return to === 'Warn' && from === 'Alert';
    case 'renotify':
      return e.cause === 'renotify' || /^Re-|^Renotify$/.test(e.transition ?? '');
    default:
      return false;
  }
}

/** Handles of channels whose trigger opens an incident that only a recovery closes (PagerDuty, Opsgenie). */
const INCIDENT_RECIPIENT = /^@?(pagerduty|opsgenie)-/i;

/** The triggers a recovery may end: what conditions could have routed while the group was not OK. */
const TRIGGERS: Pick<RuleEvent, 'from' | 'to' | 'cause' | 'transition'>[] = [
  { from: 'OK', to: 'Alert', cause: 'value', transition: 'Triggered' },
  { from: 'OK', to: 'Warn', cause: 'value', transition: 'Warn' },
  { from: 'OK', to: 'No Data', cause: 'missing_data', transition: 'No Data' },
  { from: 'Alert', to: 'Warn', cause: 'value', transition: 'Warn' },
  { from: 'Alert', to: 'Alert', cause: 'renotify', transition: 'Re-Triggered' },
  { from: 'Warn', to: 'Warn', cause: 'renotify', transition: 'Re-Warn' },
  { from: 'No Data', to: 'No Data', cause: 'renotify', transition: 'Re-No Data' },
];

/** The recipients (without `@`) one rule adds to an event, or null when its filter does not match. */
export function ruleRecipients(
  rule: NotificationRule,
  e: RuleEvent,
  tags = notificationTags(e),
): string[] | null {
  const c = compile(rule);
  if (!c) return null;
  if (c.filter && !c.filter(tags)) return null;
  if (c.recipients) return c.recipients;
  const out = conditionalRecipients(c, e, tags);
  if (e.to !== 'OK' || e.from === 'OK' || e.from === undefined) return out;
  // A recovery also goes to the PagerDuty and Opsgenie recipients the rule gives the group's triggers
  // (`transition_type:is_alert` → pagerduty-…), else the incident a trigger opened is never resolved. A
  // resolve of a key with nothing open (a cycle that only warned) is ignored by both services.
  const more = new Set<string>();
  for (const t of TRIGGERS)
    for (const r of conditionalRecipients(c, { ...e, ...t }, tags))
      if (INCIDENT_RECIPIENT.test(r.trim())) more.add(r);
  return more.size > 0 ? [...out, ...more] : out;
}

/** The recipients of the conditions that hold for the event, or the fallback when none does. */
function conditionalRecipients(c: CompiledRule, e: RuleEvent, tags: TagSet): string[] {
  const special = (key: string, value: string | null): boolean | undefined => {
    const k = key.toLowerCase();
    if (k === 'transition_type') return value !== null && isTransitionType(e, value);
    if (k === 'priority') {
      const p = e.monitor?.priority;
      if (value === null) return (p !== null && p !== undefined) || tags.has('priority', null);
      return (p !== null && p !== undefined && priorityOf(value) === p) || tags.has('priority', value);
    }
    return undefined;
  };
  const out: string[] = [];
  for (const cond of c.conditions) if (evalScope(cond.scope, tags, special)) out.push(...cond.recipients);
  return out.length > 0 ? out : c.fallback;
}

/** A recipient in handle form: `slack-ops` and `@slack-ops` both give `@slack-ops`. */
export function toHandle(recipient: string): string {
  const r = recipient.trim();
  return r.startsWith('@') ? r : `@${r}`;
}

/**
 * Everyone to notify for a monitor event: the @-handles of its message, then the recipients of every rule
 * that matches it, as handles (`@slack-ops`, `@user@example.com`), de-duplicated. `body` is the stored event
 * body (MonitorEventRecord.body); `rules` as Store.listNotificationRules() returns them.
 */
export function recipientsFor(
  body: Record<string, unknown> | RuleEvent,
  rules: readonly NotificationRule[],
): string[] {
  const e = body as RuleEvent;
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (r: string) => {
    if (typeof r !== 'string' || r.trim() === '' || r.trim() === '@') return;
    const h = toHandle(r);
    const k = h.toLowerCase();
    if (seen.has(k)) return;
    seen.add(k);
    out.push(h);
  };
  for (const h of Array.isArray(e.handles) ? e.handles : []) push(h);
  if (rules.length === 0) return out;
  const tags = notificationTags(e);
  for (const rule of rules) for (const r of ruleRecipients(rule, e, tags) ?? []) push(r);
  return out;
}

/** The rules that match an event (for previews and the API). */
export function matchingRules(body: Record<string, unknown> | RuleEvent, rules: readonly NotificationRule[]) {
  const e = body as RuleEvent;
  const tags = notificationTags(e);
  return rules.filter((r) => ruleRecipients(r, e, tags) !== null);
}
