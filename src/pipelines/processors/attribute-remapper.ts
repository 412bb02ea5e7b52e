// attribute-remapper: moves (or copies) the first present source attribute or tag to a target attribute or
// tag, optionally casting it (datadog-compat.md §2.4). Reserved attributes are refused as targets: they
// have their own remappers.
import { z } from 'zod';
import type { Json } from '../../domain/log-event.ts';
import { deleteAttribute, getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

const RESERVED_TARGETS = new Set([
  'host',
  'message',
  'service',
  'status',
  'date',
  'timestamp',
  'trace_id',
  'span_id',
]);

export const attributeRemapper = defineProcessor({
  type: 'attribute-remapper',
  schema: z
    .object({
      type: z.literal('attribute-remapper'),
      ...processorBase,
      sources: sources(),
      source_type: z.enum(['attribute', 'tag']).default('attribute'),
      target: z.string().min(1).max(512),
      target_type: z.enum(['attribute', 'tag']).default('attribute'),
      target_format: z.enum(['auto', 'string', 'integer', 'double']).optional(),
      preserve_source: z.boolean().default(false),
      override_on_conflict: z.boolean().default(false),
    })
    .superRefine((p, ctx) => {
      if (RESERVED_TARGETS.has(p.target))
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: `"${p.target}" is reserved: use the ${p.target === 'host' ? 'host field as sent' : `${p.target === 'timestamp' ? 'date' : p.target}-remapper`} instead`,
        });
      if (/[:,]/.test(p.target))
        ctx.addIssue({ code: 'custom', path: ['target'], message: 'the target cannot contain ":" or ","' });
      if (p.target_format && p.target_type === 'tag')
        ctx.addIssue({
          code: 'custom',
          path: ['target_format'],
          message: 'target_format applies to attribute targets only',
        });
    }),
  compile(def) {
    const cast = caster(def.target_format ?? 'auto');
    return (log) => {
      const e = log.event;
      for (const source of def.sources) {
        let value: Json | undefined;
        if (def.source_type === 'tag') {
          const prefix = `${source.toLowerCase()}:`;
          const found = e.tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
          if (found.length === 0) continue;
          value = found.length === 1 ? (found[0] as string) : found;
        } else {
          value = getPath(e, source);
          if (value === undefined) continue;
        }
        if (def.target_type === 'tag') {
          const key = def.target.toLowerCase();
          const has = e.tags.some((t) => t.startsWith(`${key}:`));
          if (has && !def.override_on_conflict) return;
          if (has) e.tags = e.tags.filter((t) => !t.startsWith(`${key}:`));
          for (const v of Array.isArray(value) ? value : [value]) {
            if (v === null || typeof v === 'object') continue;
            const tag = `${key}:${String(v).toLowerCase()}`;
            if (!e.tags.includes(tag)) e.tags.push(tag);
          }
        } else {
          if (getPath(e, def.target) !== undefined && !def.override_on_conflict) return;
          setAttribute(e.attributes, def.target, cast(value));
        }
        if (!def.preserve_source && !(def.source_type === def.target_type && source === def.target)) {
          if (def.source_type === 'tag') {
            const prefix = `${source.toLowerCase()}:`;
            e.tags = e.tags.filter((t) => !t.startsWith(prefix));
          } else deleteAttribute(e.attributes, source);
        }
        return;
      }
    };
  },
});

/** Casts for target_format; a value that does not cast stays as it was (Datadog's rule). */
function caster(format: 'auto' | 'string' | 'integer' | 'double'): (v: Json) => Json {
  switch (format) {
    case 'auto':
      return (v) => v;
    case 'string':
      return (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
    case 'integer':
      return (v) => {
        if (typeof v === 'number') return Math.trunc(v);
        if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
        return v;
      };
    case 'double':
      return (v) => {
        if (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v))
          return Number(v);
        return v;
      };
  }
}
