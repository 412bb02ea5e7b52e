// span-id-remapper: the official span id from the first source present (default `dd.span_id`). First one wins
// across all pipelines, like the trace id remapper (`log.remapped` kind `span_id`).
// A LogEvent has no span id field: the official span id is the top-level attribute `span_id` (what Datadog
// shows as the log's span id, and what the attribute remapper refuses as a target for that reason).
// A source that is missing, empty, or not a string/number/boolean is passed over; the source is kept.
import { z } from 'zod';
import { asText, getPath } from '../attributes.ts';
import { defineProcessor, processorBase, sources } from '../processor.ts';

export const spanIdRemapper = defineProcessor({
  type: 'span-id-remapper',
  schema: z.object({
    type: z.literal('span-id-remapper'),
    ...processorBase,
    sources: sources(['dd.span_id']),
  }),
  compile(def) {
    return (log) => {
      if (log.remapped.has('span_id')) return;
      for (const s of def.sources) {
        const v = asText(getPath(log.event, s));
        if (v === undefined || v.trim() === '') continue;
        log.event.attributes.span_id = v.trim();
        log.remapped.add('span_id');
        return;
      }
    };
  },
});
