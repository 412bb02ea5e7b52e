// status-remapper: the official status from the first source present, with Datadog's mapping (§2.5).
// The first status remapper that applies to a log wins, across all pipelines.
import { z } from 'zod';
import { statusFromValue } from '../../domain/status.ts';
import { getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const statusRemapper = defineProcessor({
  type: 'status-remapper',
  schema: z.object({ type: z.literal('status-remapper'), ...processorBase, sources: sources() }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('status')) return;
      for (const s of def.sources) {
        const status = statusFromValue(getPath(log.event, s));
        if (status === undefined) continue;
        log.event.status = status;
        log.remapped.add('status');
        return;
      }
    };
  },
});
