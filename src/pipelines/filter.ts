// Pipeline and processor filters: the search query language, parsed when a pipeline is saved.
import { z } from 'zod';
import type { Query } from '../search/ast.ts';
import { parseQuery, QuerySyntaxError } from '../search/parse.ts';

/** True when a query uses full text (`*:`), which Datadog refuses in pipeline and processor filters. */
export function usesFullText(q: Query): boolean {
  switch (q.kind) {
    case 'and':
    case 'or':
      return q.children.some(usesFullText);
    case 'not':
      return usesFullText(q.child);
    case 'term':
    case 'exists':
    case 'cidr':
      return q.field.kind === 'fulltext';
    default:
      return false;
  }
}

/** A filter `{query}`: a bad query is a validation error naming the column. */
export const filterSchema = z.object({ query: z.string().max(8192).default('') }).superRefine((f, ctx) => {
  try {
    if (usesFullText(parseQuery(f.query)))
      ctx.addIssue({
        code: 'custom',
        path: ['query'],
        message: 'full-text search (*:) is not allowed in filters',
      });
  } catch (err) {
    if (err instanceof QuerySyntaxError)
      ctx.addIssue({ code: 'custom', path: ['query'], message: err.message });
    else throw err;
  }
});
