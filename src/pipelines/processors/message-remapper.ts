// message-remapper: the official message from the first source present (default `msg`). The first one
// that applies wins.
import { z } from 'zod';
import { asText, getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const messageRemapper = defineProcessor({
  type: 'message-remapper',
  schema: z.object({ type: z.literal('message-remapper'), ...processorBase, sources: sources(['msg']) }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('message')) return;
      for (const s of def.sources) {
        const v = asText(getAttributeOnly(log, s));
        if (v === undefined) continue;
        log.event.message = v;
        log.remapped.add('message');
        return;
      }
    };
  },
});

function getAttributeOnly(log: { event: Parameters<typeof getPath>[0] }, path: string) {
  return path === 'message' ? undefined : getPath(log.event, path);
}
