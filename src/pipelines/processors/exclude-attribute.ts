// exclude-attribute: removes an attribute (a dot path) from the log.
import { z } from 'zod';
import { deleteAttribute } from '../attributes.ts';
import { defineProcessor, processorBase } from '../processor.ts';

export const excludeAttribute = defineProcessor({
  type: 'exclude-attribute',
  schema: z.object({
    type: z.literal('exclude-attribute'),
    ...processorBase,
    attribute_to_exclude: z.string().min(1).max(512),
  }),
  compile(def) {
    return (log) => {
      deleteAttribute(log.event.attributes, def.attribute_to_exclude);
    };
  },
});
