// lookup-processor: maps the value of `source` through a table of "key,value" lines into `target`
// (datadog-compat.md §2.4). Entries split on the first comma; keys and values are trimmed; the source value
// is compared as text (numbers and booleans printed), trimmed.
import { z } from 'zod';
import { asText, getPath, setAttribute } from '../attributes.ts';
import { defineProcessor, processorBase } from '../processor.ts';

const MAX_TABLE_BYTES = 100 * 1024;

export const lookupProcessor = defineProcessor({
  type: 'lookup-processor',
  schema: z
    .object({
      type: z.literal('lookup-processor'),
      ...processorBase,
      source: z.string().min(1),
      target: z.string().min(1),
      lookup_table: z.array(z.string()).max(10_000),
      default_lookup: z.string().optional(),
    })
    .superRefine((p, ctx) => {
      let bytes = 0;
      p.lookup_table.forEach((line, i) => {
        bytes += Buffer.byteLength(line);
        if (!line.includes(','))
          ctx.addIssue({
            code: 'custom',
            path: ['lookup_table', i],
            message: `"${line}" is not a "key,value" line`,
          });
      });
      if (bytes > MAX_TABLE_BYTES)
        ctx.addIssue({ code: 'custom', path: ['lookup_table'], message: 'the table is larger than 100 KB' });
    }),
  compile(def) {
    const table = new Map<string, string>();
    for (const line of def.lookup_table) {
      const comma = line.indexOf(',');
      const key = line.slice(0, comma).trim();
      // the first line of a key wins, as in a CSV lookup
      if (!table.has(key)) table.set(key, line.slice(comma + 1).trim());
    }
    return (log) => {
      const raw = asText(getPath(log.event, def.source) ?? undefined);
      const hit = raw === undefined ? undefined : table.get(raw.trim());
      const value = hit ?? def.default_lookup;
      if (value !== undefined) setAttribute(log.event.attributes, def.target, value);
    };
  },
});
