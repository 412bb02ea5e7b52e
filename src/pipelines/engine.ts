// The pipeline engine (datadog-compat.md §2.3): every enabled pipeline whose filter matches a log applies,
// in pipeline order; a pipeline's filter is evaluated before its processors run; nested pipelines have their
// own filter; status, date, service, message and trace id remappers are first-wins across all pipelines.
// A processor that fails on a log leaves the log as it was at that point, records the failure on the log
// (`_flowwatch.pipeline_errors`) and the log goes on: nothing is dropped.
import type { Json, LogEvent } from '../domain/log-event.ts';
import { setOwn } from '../intake/limits.ts';
import { compileMatcher, type Matcher } from '../search/match.ts';
import { parseQuery } from '../search/parse.ts';
import type { NestedPipelineDef, Pipeline, ProcessorDef } from './model.ts';
import type { PipelineLog, RunProcessor } from './processor.ts';
import { processorSpec } from './registry.ts';

/** One compiled step of a pipeline. */
interface Step {
  label: string;
  run: RunProcessor;
}

interface CompiledPipeline {
  name: string;
  match: Matcher;
  steps: Step[];
}

/** What processing did to a batch, for metrics. */
export interface ProcessReport {
  /** processor failures (each recorded on its log) */
  failures: number;
}

/** A compiled set of pipelines, immutable: a change compiles a new one. */
export class PipelineEngine {
  private readonly pipelines: CompiledPipeline[];

  constructor(defs: Pipeline[]) {
    this.pipelines = defs.filter((p) => p.is_enabled).map(compilePipeline);
  }

  /** Number of enabled pipelines. */
  get size(): number {
    return this.pipelines.length;
  }

  /** Runs every matching pipeline over each log, in place. */
  process(events: LogEvent[], now = Date.now()): ProcessReport {
    let failures = 0;
    if (this.pipelines.length === 0) return { failures };
    for (const event of events) {
      const log: PipelineLog = { event, remapped: new Set(), now };
      let errors: string[] | undefined;
      for (const p of this.pipelines) {
        if (!safeMatch(p.match, event)) continue;
        for (const step of p.steps) {
          try {
            step.run(log);
          } catch (err) {
            failures++;
            errors ??= [];
            errors.push(`${p.name} › ${step.label}: ${(err as Error).message ?? String(err)}`.slice(0, 500));
          }
        }
      }
      if (errors) recordErrors(event, errors);
    }
    return { failures };
  }
}

function safeMatch(m: Matcher, e: LogEvent): boolean {
  try {
    return m(e);
  } catch {
    return false;
  }
}

function compilePipeline(p: Pipeline): CompiledPipeline {
  return {
    name: p.name,
    match: compileMatcher(parseQuery(p.filter.query)),
    steps: p.processors.filter((x) => x.is_enabled).map((x, i) => compileStep(x, i)),
  };
}

function compileStep(def: ProcessorDef, index: number): Step {
  const label = def.name ? `${def.name} (${def.type})` : `processor ${index + 1} (${def.type})`;
  if (isNested(def)) {
    const match = compileMatcher(parseQuery(def.filter.query));
    const inner = def.processors.filter((x) => x.is_enabled).map((x, i) => compileStep(x, i));
    return {
      label,
      run: (log) => {
        if (!match(log.event)) return;
        const failures: string[] = [];
        for (const s of inner) {
          try {
            s.run(log);
          } catch (err) {
            failures.push(`${s.label}: ${(err as Error).message}`);
          }
        }
        if (failures.length > 0) throw new Error(failures.join('; '));
      },
    };
  }
  const spec = processorSpec(def.type);
  if (!spec) throw new Error(`unknown processor type "${def.type}"`);
  return { label, run: spec.compile(def) };
}

function isNested(def: ProcessorDef): def is NestedPipelineDef {
  return def.type === 'pipeline';
}

function recordErrors(event: LogEvent, errors: string[]): void {
  const fw = event.attributes._flowwatch;
  const flags: Record<string, Json> = fw !== null && typeof fw === 'object' && !Array.isArray(fw) ? fw : {};
  setOwn(flags, 'pipeline_errors', errors);
  event.attributes._flowwatch = flags;
}
