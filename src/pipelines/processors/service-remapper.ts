// service-remapper: the official service from the first source present. The first one that applies wins.
import { z } from 'zod';
import { asText, getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const serviceRemapper = defineProcessor({
  type: 'service-remapper',
  schema: z.object({ type: z.literal('service-remapper'), ...processorBase, sources: sources() }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('service')) return;
      for (const s of def.sources) {
        const v = asText(getPath(log.event, s));
        if (v === undefined || v.trim() === '') continue;
        log.event.service = v.trim();
        log.remapped.add('service');
        return;
      }
    };
  },
});
