// The pipeline JSON of Datadog's API (/api/v1/logs/config/pipelines) as zod schemas: validation with
// precise errors, defaults applied as Datadog applies them (processors are disabled unless told otherwise).
import { z } from 'zod';
import { filterSchema } from './filter.ts';
import { processorBase } from './processor.ts';
import { PROCESSORS } from './registry.ts';

/** Limits, from Datadog's recommendations (soft there, enforced here). */
export const PIPELINE_LIMITS = { processors: 100, pipelines: 200, nameLength: 512 } as const;

const leafProcessor = z.discriminatedUnion(
  'type',
  PROCESSORS.map((p) => p.schema) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** A nested pipeline: a filter and processors, but no pipelines inside. */
export const nestedPipelineSchema = z.object({
  type: z.literal('pipeline'),
  ...processorBase,
  filter: filterSchema.default({ query: '' }),
  processors: z.array(leafProcessor).max(PIPELINE_LIMITS.processors).default([]),
  tags: z.array(z.string()).default([]),
  description: z.string().optional(),
});

/** Any processor of a top-level pipeline. */
export const processorSchema = z.discriminatedUnion('type', [
  nestedPipelineSchema,
  ...(PROCESSORS.map((p) => p.schema) as unknown as z.ZodObject[]),
] as unknown as [z.ZodObject, ...z.ZodObject[]]);

/** The writable part of a pipeline (create and update bodies). */
export const pipelineInputSchema = z.object({
  name: z.string().trim().min(1, 'a pipeline needs a name').max(PIPELINE_LIMITS.nameLength),
  is_enabled: z.boolean().default(false),
  filter: filterSchema.default({ query: '' }),
  processors: z.array(processorSchema).max(PIPELINE_LIMITS.processors).default([]),
  tags: z.array(z.string().max(200)).max(100).default([]),
  description: z.string().max(4096).optional(),
});

/** A processor other than a nested pipeline (its own fields are checked by its schema in processors/). */
export interface LeafProcessorDef {
  type: string;
  name?: string;
  is_enabled: boolean;
  [field: string]: unknown;
}

/** A nested pipeline. */
export interface NestedPipelineDef {
  type: 'pipeline';
  name?: string;
  is_enabled: boolean;
  filter: { query: string };
  processors: LeafProcessorDef[];
  tags: string[];
  description?: string;
}

export type ProcessorDef = LeafProcessorDef | NestedPipelineDef;

/** The writable part of a pipeline. */
export interface PipelineInput {
  name: string;
  is_enabled: boolean;
  filter: { query: string };
  processors: ProcessorDef[];
  tags: string[];
  description?: string;
}

/** A stored pipeline as the API shows it. */
export interface Pipeline extends PipelineInput {
  id: string;
  type: 'pipeline';
  is_read_only: boolean;
}

/** Validates a body; throws PipelineValidationError listing every problem with its path. */
export function parsePipelineInput(body: unknown): PipelineInput {
  const r = pipelineInputSchema.safeParse(body);
  if (r.success) return r.data as PipelineInput;
  throw new PipelineValidationError(r.error.issues.map(describeIssue));
}

/** Validation failures, one message per problem ("processors[1].sources: expected an array"). */
export class PipelineValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  let message = issue.message;
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    const nested = issue.path.filter((p) => p === 'processors').length > 1;
    message = nested
      ? 'a nested pipeline can hold processors only, not pipelines'
      : `unknown processor type; expected one of pipeline, ${PROCESSORS.map((p) => p.type).join(', ')}`;
  }
  return path ? `${path}: ${message}` : message;
}
