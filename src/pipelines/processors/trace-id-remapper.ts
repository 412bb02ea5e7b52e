// trace-id-remapper: the official trace id from the first source present (default `dd.trace_id`).
import { z } from 'zod';
import { asText, getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const traceIdRemapper = defineProcessor({
  type: 'trace-id-remapper',
  schema: z.object({
    type: z.literal('trace-id-remapper'),
    ...processorBase,
    sources: sources(['dd.trace_id']),
  }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('trace_id')) return;
      for (const s of def.sources) {
        const v = asText(getPath(log.event, s));
        if (v === undefined || v.trim() === '') continue;
        log.event.trace_id = v.trim();
        log.remapped.add('trace_id');
        return;
      }
    };
  },
});
