// category-processor: sets `target` to the name of the first category whose filter matches the log
// (the search query language, evaluated in memory).
import { z } from 'zod';
import { compileMatcher } from '../../search/match.ts';
import { parseQuery } from '../../search/parse.ts';
import { setAttribute } from '../attributes.ts';
import { filterSchema } from '../filter.ts';
import { defineProcessor, processorBase } from '../processor.ts';

export const categoryProcessor = defineProcessor({
  type: 'category-processor',
  schema: z
    .object({
      type: z.literal('category-processor'),
      ...processorBase,
      target: z.string().min(1).max(512),
      categories: z.array(z.object({ filter: filterSchema, name: z.string().min(1).max(512) })).max(1000),
    })
    .superRefine((p, ctx) => {
      const seen = new Set<string>();
      p.categories.forEach((c, i) => {
        if (seen.has(c.name))
          ctx.addIssue({
            code: 'custom',
            path: ['categories', i, 'name'],
            message: `category "${c.name}" appears twice`,
          });
        seen.add(c.name);
      });
    }),
  compile(def) {
    const categories = def.categories.map((c) => ({
      name: c.name,
      match: compileMatcher(parseQuery(c.filter.query)),
    }));
    return (log) => {
      for (const c of categories) {
        if (!c.match(log.event)) continue;
        setAttribute(log.event.attributes, def.target, c.name);
        return;
      }
    };
  },
});
