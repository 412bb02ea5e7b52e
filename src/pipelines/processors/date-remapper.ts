// date-remapper: the official date from the first source holding a date (ISO 8601, epoch ms or s,
// RFC 3164). The first date remapper that applies wins.
import { z } from 'zod';
import { parseDate } from '../../domain/dates.ts';
import { getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const dateRemapper = defineProcessor({
  type: 'date-remapper',
  schema: z.object({ type: z.literal('date-remapper'), ...processorBase, sources: sources() }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('date')) return;
      for (const s of def.sources) {
        const t = parseDate(getPath(log.event, s), log.now);
        if (t === undefined) continue;
        log.event.timestamp = t;
        log.remapped.add('date');
        return;
      }
    };
  },
});
