// grok-parser (datadog-compat.md §2.4): parses a string attribute (the official message by default) with
// Datadog grok rules. The first match rule matching the whole text wins and its extracted values become
// attributes (dot paths nest; an object from a filter with no extract name, such as %{data::keyvalue}, is
// merged at the root); null and empty values are not written; no match leaves the log unchanged. Rules are
// compiled and checked when the pipeline is saved (grok/compile.ts): a bad rule is a validation error naming
// it. Texts above 1 MB are not parsed (a failure recorded on the log), which bounds regex backtracking.
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { setOwn } from '../../intake/limits.ts';
import { getPath, setAttribute } from '../attributes.ts';
import { compileGrok, GrokError } from '../grok/compile.ts';
import { defineProcessor, processorBase } from '../processor.ts';

/** Longest text parsed, in UTF-16 code units. */
export const GROK_MAX_TEXT = 1024 * 1024;
const MAX_RULES_TEXT = 64 * 1024;

export const grokParser = defineProcessor({
  type: 'grok-parser',
  schema: z
    .object({
      type: z.literal('grok-parser'),
      ...processorBase,
      source: z.string().min(1).max(512).default('message'),
      samples: z.array(z.string().max(5000, 'a sample is at most 5000 characters')).max(5).default([]),
      grok: z.object({
        match_rules: z.string().max(MAX_RULES_TEXT),
        support_rules: z.string().max(MAX_RULES_TEXT).default(''),
      }),
    })
    .superRefine((p, ctx) => {
      try {
        compileGrok(p.grok.match_rules, p.grok.support_rules);
      } catch (e) {
        if (!(e instanceof GrokError)) throw e;
        ctx.addIssue({ code: 'custom', path: ['grok', e.field], message: e.message });
      }
    }),
  compile(def) {
    const parser = compileGrok(def.grok.match_rules, def.grok.support_rules);
    return (log) => {
      const text = def.source === 'message' ? log.event.message : getPath(log.event, def.source);
      if (typeof text !== 'string') return;
      if (text.length > GROK_MAX_TEXT) throw new Error(`${def.source} is longer than 1 MB: not parsed`);
      const match = parser.parse(text, log.now);
      if (!match) return;
      write(log.event.attributes, match.values);
    };
  },
});

/** Writes extracted values; with no extract name an object (keyvalue, json, csv...) is merged at the root. */
function write(attrs: Record<string, Json>, values: [string, Json][]): void {
  for (const [path, value] of values) {
    if (isEmpty(value)) continue;
    if (path !== '') setAttribute(attrs, path, value);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      for (const [k, v] of Object.entries(value)) if (!isEmpty(v)) setOwn(attrs, k, v);
  }
}

/** Datadog: "Properties with null or empty values are not displayed". */
function isEmpty(v: Json): boolean {
  if (v === null || v === '') return true;
  return typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}
