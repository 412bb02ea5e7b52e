// string-builder-processor: writes `template` with `%{path}` replaced by attribute values into `target`.
// A missing attribute skips the processor, or becomes "" with is_replace_missing. Objects cannot be used;
// arrays of values are joined with commas. The result is cut at 256 characters (Datadog's limit).
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase } from '../processor.ts';

const MAX_RESULT = 256;
const PLACEHOLDER = /%\{([^}]+)\}/g;

export const stringBuilderProcessor = defineProcessor({
  type: 'string-builder-processor',
  schema: z.object({
    type: z.literal('string-builder-processor'),
    ...processorBase,
    template: z.string().min(1).max(4096),
    target: z.string().min(1).max(512),
    is_replace_missing: z.boolean().default(false),
  }),
  compile(def) {
    const parts = def.template.split(PLACEHOLDER).map((p, i) => (i % 2 === 1 ? p.trim() : p));
    return (log) => {
      let out = '';
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as string;
        if (i % 2 === 0) {
          out += part;
          continue;
        }
        const text = render(getPath(log.event, part));
        if (text === undefined) {
          if (!def.is_replace_missing) return;
          continue;
        }
        out += text;
      }
      setAttribute(log.event.attributes, def.target, cut(out));
    };
  },
});

/** The first MAX_RESULT characters (code points); a string of at most that many UTF-16 units is kept as is. */
function cut(s: string): string {
  return s.length <= MAX_RESULT ? s : [...s].slice(0, MAX_RESULT).join('');
}

function render(v: Json | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'))
    return v.map((x) => (x === null ? '' : String(x))).join(',');
  return undefined;
}
