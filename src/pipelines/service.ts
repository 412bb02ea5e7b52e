// The pipelines of a running server: the stored definitions, the compiled engine intake uses, and the
// rules of the API (read-only built-in, ids, order). A change recompiles the engine at once, so new logs see
// it within the request that made it; changes made by another process are picked up by reloadIfChanged().
import { randomBytes } from 'node:crypto';
import type { LogEvent } from '../domain/log-event.ts';
import type { Store } from '../store/store.ts';
import { PipelineEngine, type ProcessReport } from './engine.ts';
import { PIPELINE_LIMITS, type Pipeline, type PipelineInput, parsePipelineInput } from './model.ts';
import { OKTA_PIPELINE, OKTA_PIPELINE_ID } from './okta-pipeline.ts';

/** A request the rules refuse (the API answers 400 or 404 with the message). */
export class PipelineRuleError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A 22-character id like Datadog's. */
function newId(): string {
  const bytes = randomBytes(22);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export class PipelineService {
  private engine = new PipelineEngine([]);
  private pipelines: Pipeline[] = [];

  constructor(private readonly store: Store) {}

  /** Seeds or refreshes the built-in pipeline, then compiles. */
  async start(): Promise<void> {
    const current = (await this.store.listPipelines()).find((p) => p.id === OKTA_PIPELINE_ID);
    const builtIn: Pipeline = {
      ...parsePipelineInput(OKTA_PIPELINE),
      id: OKTA_PIPELINE_ID,
      type: 'pipeline',
      is_read_only: true,
    };
    if (!current) await this.store.insertPipeline(builtIn, 'first');
    // A newer Flowwatch may ship a better definition; the user's choice of is_enabled stays.
    else await this.store.replacePipeline({ ...builtIn, is_enabled: current.is_enabled });
    await this.reload();
  }

  async reload(): Promise<void> {
    this.pipelines = await this.store.listPipelines();
    this.engine = new PipelineEngine(this.pipelines);
  }

  /** Runs the pipelines over logs about to be stored. */
  process(events: LogEvent[], now?: number): ProcessReport {
    return this.engine.process(events, now);
  }

  list(): Pipeline[] {
    return this.pipelines;
  }

  get(id: string): Pipeline {
    const p = this.pipelines.find((x) => x.id === id);
    if (!p) throw new PipelineRuleError(404, `no pipeline with id "${id}"`);
    return p;
  }

  async create(input: PipelineInput): Promise<Pipeline> {
    if (this.pipelines.length >= PIPELINE_LIMITS.pipelines)
      throw new PipelineRuleError(400, `at most ${PIPELINE_LIMITS.pipelines} pipelines; delete one first`);
    const p: Pipeline = { ...input, id: newId(), type: 'pipeline', is_read_only: false };
    await this.store.insertPipeline(p);
    await this.reload();
    return this.get(p.id);
  }

  async update(id: string, input: PipelineInput): Promise<Pipeline> {
    const current = this.get(id);
    let next: Pipeline = { ...input, id, type: 'pipeline', is_read_only: current.is_read_only };
    if (current.is_read_only) {
      const { is_enabled: _a, ...was } = stripped(current);
      const { is_enabled: _b, ...now } = stripped(next);
      if (JSON.stringify(was) !== JSON.stringify(now))
        throw new PipelineRuleError(
          400,
          `pipeline "${current.name}" is read-only: only is_enabled can change; clone it (create a pipeline with the same body) to edit it`,
        );
      next = { ...current, is_enabled: input.is_enabled };
    }
    await this.store.replacePipeline(next);
    await this.reload();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    const p = this.get(id);
    if (p.is_read_only)
      throw new PipelineRuleError(
        400,
        `pipeline "${p.name}" is read-only: it cannot be deleted, but it can be disabled`,
      );
    await this.store.deletePipeline(id);
    await this.reload();
  }

  order(): string[] {
    return this.pipelines.map((p) => p.id);
  }

  async setOrder(ids: string[]): Promise<string[]> {
    try {
      await this.store.setPipelineOrder(ids);
    } catch (err) {
      throw new PipelineRuleError(400, `pipeline_ids: ${(err as Error).message}`);
    }
    await this.reload();
    return this.order();
  }
}

/** A pipeline without its id and flags, in a canonical key order (to compare bodies). */
function stripped(p: Pipeline): Omit<Pipeline, 'id' | 'type' | 'is_read_only'> {
  const { id: _i, type: _t, is_read_only: _r, ...rest } = p;
  return JSON.parse(JSON.stringify(rest, Object.keys(rest).sort().concat(deepKeys(rest))));
}

function deepKeys(v: unknown, out: Set<string> = new Set()): string[] {
  if (Array.isArray(v)) for (const x of v) deepKeys(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      deepKeys(x, out);
    }
  return [...out].sort();
}
