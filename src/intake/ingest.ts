// The receiver-independent part of intake: normalise every received item and hand the batch to the writer.
import type { LogEvent } from '../domain/log-event.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { IntakeBudget } from './budget.ts';
import { LIMITS } from './limits.ts';
import { type NormalizeContext, normalize, type RequestDefaults, rewindow } from './normalize.ts';
import type { LogWriter } from './writer.ts';

/** What a request's logs became. */
export interface IngestResult {
  stored: number;
  duplicates: number;
  dropped: number;
}

/** Dependencies of ingestion. */
export interface IngestDeps {
  writer: LogWriter;
  /** the pipelines logs go through before storage */
  pipelines?: { process(events: LogEvent[], now?: number): { failures: number } };
  metrics: Metrics;
  outOfWindow: NormalizeContext['outOfWindow'];
  /** in-flight byte budget; receivers add the decompressed size of each body */
  budget?: IntakeBudget;
  now?: () => number;
}

/** Normalises items and resolves once they are committed; rejects with an HttpError on store failure. */
export async function ingest(
  deps: IngestDeps,
  items: unknown[],
  defaults: RequestDefaults,
  bodyBytes: number,
): Promise<IngestResult> {
  const ctx: NormalizeContext = {
    now: (deps.now ?? Date.now)(),
    outOfWindow: deps.outOfWindow,
    checkSize: bodyBytes > LIMITS.maxLogBytes,
  };
  const events: LogEvent[] = [];
  let dropped = 0;
  const m = deps.metrics;
  for (const item of items) {
    const { event, notes } = normalize(item, defaults, ctx);
    const t = notes.trimmed;
    if (t.tags) m.intakeTrimmed.inc({ kind: 'tags' }, t.tags);
    if (t.attributes) m.intakeTrimmed.inc({ kind: 'attributes' }, t.attributes);
    if (t.keys) m.intakeTrimmed.inc({ kind: 'keys' }, t.keys);
    if (t.depth) m.intakeTrimmed.inc({ kind: 'depth' }, t.depth);
    if (notes.truncated) m.intakeTrimmed.inc({ kind: 'truncated_logs' });
    if (notes.outOfWindow) m.intakeOutOfWindow.inc({ direction: notes.outOfWindow });
    if (event) events.push(event);
    else dropped++;
  }
  // The parsed body is not needed any more: let it go while the logs wait for their commit.
  items.length = 0;
  let toStore = events;
  if (deps.pipelines && events.length > 0) {
    const before = events.map((e) => e.timestamp);
    const { failures } = deps.pipelines.process(events, ctx.now);
    if (failures) m.pipelineFailures.inc(failures);
    // A date remapper may have set a date outside the acceptance window: same policy as intake's.
    toStore = events.filter((e, i) => {
      if (e.timestamp === before[i]) return true;
      const w = rewindow(e, ctx);
      if (w.outOfWindow) m.intakeOutOfWindow.inc({ direction: w.outOfWindow });
      if (w.drop) dropped++;
      return !w.drop;
    });
  }
  const inserted = await deps.writer.submit(toStore);
  const stored = inserted.filter(Boolean).length;
  const duplicates = inserted.length - stored;
  if (stored) m.intakeLogs.inc({ outcome: 'stored' }, stored);
  if (duplicates) m.intakeLogs.inc({ outcome: 'duplicate' }, duplicates);
  if (dropped) m.intakeLogs.inc({ outcome: 'dropped_out_of_window' }, dropped);
  m.intakeBytes.inc(bodyBytes);
  return { stored, duplicates, dropped };
}
