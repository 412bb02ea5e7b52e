// Monitor notification rules as Datadog's v2 API defines them (`/api/v2/monitor/notification_rule`,
// spec §5): the attributes, their validation with Datadog's limits, and the rule as stored.
import { z } from 'zod';
import { isDisjunction, parseScope, type Scope, ScopeSyntaxError, scopeKeys } from './scope.ts';

/** `filter`: all of these tags, or a scope query. */
export type RuleFilter = { tags: string[] } | { scope: string };

const recipient = z.string().min(1).max(255);
const recipientList = z.array(recipient).min(1).max(20);

export const ruleAttributesSchema = z
  .object({
    name: z.string().min(1).max(1000),
    // oneOf {tags} | {scope}: one object with both optional (precise errors), then exactly one required
    filter: z
      .object({
        tags: z.array(z.string().min(1).max(255)).min(1).max(20).optional(),
        scope: z.string().min(1).max(3000).optional(),
      })
      .strict()
      .refine((f) => (f.tags === undefined) !== (f.scope === undefined), {
        message: 'expected {"tags": [...]} or {"scope": "..."} (exactly one of them)',
      })
      .transform((f): RuleFilter => (f.tags !== undefined ? { tags: f.tags } : { scope: f.scope as string }))
      .optional(),
    recipients: recipientList.optional(),
    conditional_recipients: z
      .object({
        conditions: z
          .array(z.object({ scope: z.string().min(1).max(3000), recipients: recipientList }).strict())
          .min(1)
          .max(10),
        fallback_recipients: z.array(recipient).max(20).optional(),
      })
      .strict()
      .optional(),
    bundle_config: z
      .object({ duration: z.number().int().min(0).max(2_147_483_647) })
      .strict()
      .optional(),
  })
  .strict();

/** What a client sends (the `attributes` of the request). */
export type NotificationRuleInput = z.infer<typeof ruleAttributesSchema>;

/** A rule as stored. */
export interface NotificationRule extends NotificationRuleInput {
  /** a UUID, as Datadog's */
  id: string;
  /** epoch ms */
  created_at: number;
  modified_at: number;
}

/** Validation failures, each worded as Datadog words them. */
export class RuleValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const invalid = (param: string, why: string) =>
  `The value provided for parameter '${param}' is invalid: ${why}`;

/**
 * The condition vocabulary of `transition_type:<value>` (lower case; `is_` prefixed as in the API examples,
 * or bare as in the spec's examples and the UI's names). Each maps to the template condition it means.
 */
export const TRANSITION_TYPES: Record<string, TransitionCondition> = {
  is_alert: 'alert',
  alert: 'alert',
  triggered: 'alert',
  is_warning: 'warning',
  warning: 'warning',
  warn: 'warning',
  is_recovery: 'recovery',
  recovery: 'recovery',
  recovered: 'recovery',
  ok: 'recovery',
  is_alert_recovery: 'alert_recovery',
  alert_recovery: 'alert_recovery',
  is_warning_recovery: 'warning_recovery',
  warning_recovery: 'warning_recovery',
  is_no_data: 'no_data',
  no_data: 'no_data',
  nodata: 'no_data',
  'no data': 'no_data',
  is_no_data_recovery: 'no_data_recovery',
  no_data_recovery: 'no_data_recovery',
  is_alert_to_warning: 'alert_to_warning',
  alert_to_warning: 'alert_to_warning',
  is_renotify: 'renotify',
  renotify: 'renotify',
};
export type TransitionCondition =
  | 'alert'
  | 'warning'
  | 'recovery'
  | 'alert_recovery'
  | 'warning_recovery'
  | 'no_data'
  | 'no_data_recovery'
  | 'alert_to_warning'
  | 'renotify';

const PRIORITY = /^p?([1-5])$/i;

/** A condition scope: `transition_type:<x>`, `priority:p<n>`, or one tag key (values may be ORed). */
export function parseConditionScope(src: string): Scope {
  const s = parseScope(src);
  const keys = scopeKeys(s);
  if (keys.size !== 1 || !isDisjunction(s))
    throw new ScopeSyntaxError(
      'a condition tests a single tag key (transition_type:<status>, priority:p<1-5> or key:value)',
      1,
    );
  const key = [...keys][0]!;
  const values: (string | null)[] = [];
  const collect = (x: Scope) => {
    if (x.kind === 'tag') values.push(x.value);
    else if (x.kind === 'or') x.children.forEach(collect);
  };
  collect(s);
  for (const v of values) {
    if (key === 'transition_type' && (v === null || !(v.toLowerCase() in TRANSITION_TYPES)))
      throw new ScopeSyntaxError(
        `unknown transition_type "${v ?? '*'}": expected one of is_alert, is_warning, is_recovery, is_alert_recovery, is_warning_recovery, is_no_data, is_no_data_recovery, is_alert_to_warning, is_renotify (the "is_" prefix is optional)`,
        src.indexOf(':') + 2,
      );
    if (key === 'priority' && v !== null && !PRIORITY.test(v))
      throw new ScopeSyntaxError(`unknown priority "${v}": expected p1 to p5`, src.indexOf(':') + 2);
  }
  return s;
}

/** The priority number a `priority:` value names, or undefined. */
export function priorityOf(value: string): number | undefined {
  const m = PRIORITY.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** Validates the `attributes` of a create or update request; throws RuleValidationError. */
export function parseRuleAttributes(body: unknown): NotificationRuleInput {
  const r = ruleAttributesSchema.safeParse(body);
  if (!r.success) {
    throw new RuleValidationError(
      r.error.issues.map((i) =>
        invalid(['data', 'attributes', ...i.path].join('.'), issueText(i as unknown as ZodIssueLike)),
      ),
    );
  }
  const a = r.data;
  const problems: string[] = [];
  const p = (param: string, why: string) => problems.push(invalid(`data.attributes.${param}`, why));
  if (a.name.trim() === '') p('name', 'the name must not be blank');
  if (a.recipients && a.conditional_recipients)
    p('recipients', '`recipients` cannot be used with `conditional_recipients`');
  if (!a.recipients && !a.conditional_recipients)
    p('recipients', 'one of `recipients` or `conditional_recipients` is required');
  const checkRecipients = (param: string, list: string[] | undefined) => {
    if (!list) return;
    list.forEach((x, i) => {
      if (x.startsWith('@')) p(`${param}.${i}`, `"${x}" must not start with an '@'`);
      else if (/\s/.test(x)) p(`${param}.${i}`, `"${x}" must not contain whitespace`);
    });
    if (new Set(list).size !== list.length) p(param, 'the recipients must be unique');
  };
  checkRecipients('recipients', a.recipients);
  a.conditional_recipients?.conditions.forEach((c, i) => {
    checkRecipients(`conditional_recipients.conditions.${i}.recipients`, c.recipients);
    try {
      parseConditionScope(c.scope);
    } catch (err) {
      if (!(err instanceof ScopeSyntaxError)) throw err;
      p(`conditional_recipients.conditions.${i}.scope`, err.message);
    }
  });
  checkRecipients(
    'conditional_recipients.fallback_recipients',
    a.conditional_recipients?.fallback_recipients,
  );
  if (a.filter && 'tags' in a.filter) {
    if (new Set(a.filter.tags.map((t) => t.toLowerCase())).size !== a.filter.tags.length)
      p('filter.tags', 'the tags must be unique');
    a.filter.tags.forEach((t, i) => {
      if (/\s/.test(t)) p(`filter.tags.${i}`, `"${t}" must not contain whitespace`);
    });
  }
  if (a.filter && 'scope' in a.filter) {
    try {
      parseScope(a.filter.scope);
    } catch (err) {
      if (!(err instanceof ScopeSyntaxError)) throw err;
      p('filter.scope', err.message);
    }
  }
  if (problems.length > 0) throw new RuleValidationError(problems);
  return a;
}

interface ZodIssueLike {
  code: string;
  message: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
  keys?: string[];
}

/** A zod issue in words a Datadog user recognises. */
function issueText(i: ZodIssueLike): string {
  if (i.code === 'unrecognized_keys') return `unknown field(s) ${(i.keys ?? []).join(', ')}`;
  if (i.code === 'too_small' && i.origin === 'array') return `must have at least ${i.minimum} item(s)`;
  if (i.code === 'too_big' && i.origin === 'array') return `must have at most ${i.maximum} item(s)`;
  if (i.code === 'too_small' && i.origin === 'string')
    return `must be at least ${i.minimum} character(s) long`;
  if (i.code === 'too_big' && i.origin === 'string') return `must be at most ${i.maximum} character(s) long`;
  return i.message;
}
