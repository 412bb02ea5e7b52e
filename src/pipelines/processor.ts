// What every processor provides: its Datadog `type`, a schema for its JSON (API validation), and a compiler
// from that JSON to a function run on each log. One processor per file under processors/.
import { z } from 'zod';
import type { LogEvent } from '../domain/log-event.ts';

/** The official fields a remapper sets; the first remapper of each kind wins across all pipelines. */
export type RemapKind = 'status' | 'date' | 'service' | 'message' | 'trace_id' | 'span_id';

/** One log going through the pipelines. */
export interface PipelineLog {
  event: LogEvent;
  /** official fields already set by a remapper (later remappers of the same kind skip) */
  remapped: Set<RemapKind>;
  /** when the log is processed, epoch ms (dates without a year) */
  now: number;
}

/** A compiled processor: changes the log in place; throws to report a failure on this log. */
export type RunProcessor = (log: PipelineLog) => void;

/** A processor type. `S` is its zod schema (Datadog's JSON, defaults applied). */
export interface ProcessorSpec<S extends z.ZodType = z.ZodType> {
  type: string;
  schema: S;
  compile(def: z.infer<S>): RunProcessor;
}

/** Helper keeping the schema's type attached to compile's argument. */
export function defineProcessor<S extends z.ZodType>(spec: ProcessorSpec<S>): ProcessorSpec<S> {
  return spec;
}

/** Fields every processor has: a name, and `is_enabled`, false unless given (as in Datadog's API). */
export const processorBase = {
  name: z.string().max(512).optional(),
  is_enabled: z.boolean().default(false),
};

/** `sources`: a non-empty list of attribute paths. */
export function sources(defaults?: string[]) {
  const list = z.array(z.string().min(1).max(512)).min(1, 'give at least one source').max(100);
  return defaults ? list.default(defaults) : list;
}
