// Deterministic generator of realistic Okta Workflows Execution Log Streaming traffic: pure, no I/O, the
// clock passed in. `flowwatch simulate` posts what it yields; tests use it as a source of realistic events.
import { ADDRESS, errorsFor, FIRST, KINDS, type Kind, LAST, ORGS } from './sim-catalog.ts';
import { Rng } from './sim-random.ts';

/** One ELS event with the fields and types of test/fixtures/els (optional keys are omitted, never null). */
export interface ElsEvent {
  event_type: string;
  execution_id: string;
  timestamp: string;
  flow_id: string;
  flow_name: string;
  org_id: string;
  org_name: string;
  org_hostname: string;
  user_id?: string;
  user_email?: string;
  parent_execution_id?: string;
  parent_flow_id?: string;
  parent_flow_name?: string;
  root_execution_id: string;
  root_flow_id: string;
  root_flow_name: string;
  folder_id_path: string;
  folder_id: string;
  folder_name: string;
  engine_mode: string;
  idempotency_key: string;
  depth: number;
  throttled: boolean;
  duration?: number;
  step_count?: number;
  address?: string;
  error_type?: string;
  error_message?: string;
}

/** Shape of the simulated org; `eventsPerSecond` (default 5) sets the average traffic, bursts included. */
export interface SimOptions {
  seed: number;
  flows: number;
  failureRatio: number;
  startMs: number;
  eventsPerSecond?: number;
}

/** Fraction of events that Okta redelivers (an exact copy, later). */
export const REDELIVERY_RATIO = 0.005;

interface Folder {
  id: string;
  path: string;
  name: string;
}
interface Flow {
  id: string;
  name: string;
  kind: Kind;
  app: string;
  folder: Folder;
  medianMs: number;
  steps: number;
  calls: { flow: number; mean: number }[];
  rootsPerMs: number;
  burstLeft: number;
}
interface User {
  id: string;
  email: string;
}
interface Exec {
  id: string;
  flow: Flow;
  depth: number;
  parent?: Exec;
  root: Exec;
  user?: User;
}
type Item = { at: number; seq: number } & ({ event: ElsEvent } | { arrival: Flow });

/** Simulated Okta org whose flows run on schedules, in bursts and through helper flows; pull events in time order. */
export class ElsSimulator {
  private readonly rng: Rng;
  private readonly heap: Item[] = [];
  private readonly redelivered = new WeakSet<ElsEvent>();
  private readonly org: { id: string; name: string; hostname: string };
  private readonly flows: Flow[];
  private readonly users: User[];
  private readonly folders = new Map<string, Folder>();
  private readonly opts: SimOptions;
  private seq = 0;

  constructor(opts: SimOptions) {
    this.opts = opts;
    if (!(opts.flows >= 1)) throw new RangeError('flows must be at least 1');
    if (!(opts.failureRatio >= 0 && opts.failureRatio <= 1))
      throw new RangeError('failureRatio must be in [0, 1]');
    const rng = new Rng(opts.seed);
    this.rng = rng;
    const name = rng.pick(ORGS);
    this.org = {
      id: this.pastId(900, 1200),
      name,
      hostname: `${name}.workflows.okta.com`,
    };
    const hashed = rng.chance(0.5);
    this.users = Array.from({ length: 40 }, () => {
      const email = `${rng.pick(FIRST)}.${rng.pick(LAST)}@${name}.com`;
      return {
        id: this.pastId(1, 900),
        email: hashed ? rng.hex(32) : email,
      };
    });
    this.flows = this.buildFlows(Math.floor(opts.flows));
    for (const f of this.flows) if (f.kind !== 'helper') this.scheduleArrival(f, opts.startMs, true);
  }

  /** Every event delivered at or before `nowMs` not yet returned, in delivery order. */
  next(nowMs: number): ElsEvent[] {
    const out: ElsEvent[] = [];
    for (let e = this.pull(nowMs); e; e = this.pull(nowMs)) out.push(e);
    return out;
  }

  /** The next `count` events in delivery order, whatever the clock (for senders that pace themselves). */
  take(count: number): ElsEvent[] {
    const out: ElsEvent[] = [];
    while (out.length < count) out.push(this.pull(Number.POSITIVE_INFINITY)!);
    return out;
  }

  /** True when this event object is Okta redelivering an event already sent (same idempotency_key). */
  isRedelivery(event: ElsEvent): boolean {
    return this.redelivered.has(event);
  }

  // A ULID created between minDays and maxDays before the simulation starts.
  private pastId(minDays: number, maxDays: number): string {
    return this.rng.ulid(this.opts.startMs - this.rng.int(minDays * 86_400_000, maxDays * 86_400_000));
  }

  private pull(limit: number): ElsEvent | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > limit) return undefined;
      this.pop();
      if ('event' in top) return top.event;
      this.runRoot(top.arrival, top.at);
    }
  }

  private buildFlows(n: number): Flow[] {
    const rng = this.rng;
    const helpers = n >= 3 ? Math.max(1, Math.round(n * 0.25)) : 0;
    const scheduled = n - helpers >= 2 ? Math.max(1, Math.round((n - helpers) * 0.35)) : 0;
    const counts: [Kind, number][] = [
      ['scheduled', scheduled],
      ['event', n - helpers - scheduled],
      ['helper', helpers],
    ];
    const flows: Flow[] = [];
    for (const [kind, count] of counts) {
      const { names, ms, steps } = KINDS[kind];
      for (let i = 0; i < count; i++) {
        const [base, path, app] = names[i % names.length]!.split('|') as [string, string, string];
        const cycle = Math.floor(i / names.length);
        flows.push({
          id: this.pastId(1, 600),
          name: cycle > 0 ? `${base} ${cycle + 1}` : base,
          kind,
          app,
          folder: this.folder(path),
          medianMs: rng.int(ms[0], ms[1]),
          steps: rng.int(steps[0], steps[1]),
          calls: [],
          rootsPerMs: 0,
          burstLeft: 0,
        });
      }
    }
    this.wire(flows, n - helpers);
    return flows;
  }

  // Every helper gets a caller; helpers only call later helpers (no cycles); some roots call one more.
  // Root arrival rates are then calibrated so that the whole org averages eventsPerSecond.
  private wire(flows: Flow[], firstHelper: number): void {
    const rng = this.rng;
    for (let j = firstHelper; j < flows.length; j++) {
      const nested = j > firstHelper && rng.chance(0.4);
      const caller = flows[nested ? rng.int(firstHelper, j - 1) : rng.int(0, firstHelper - 1)]!;
      caller.calls.push({ flow: j, mean: caller.kind === 'scheduled' ? rng.int(1, 6) : 1 });
    }
    const roots = flows.slice(0, firstHelper);
    for (const f of roots) {
      if (firstHelper < flows.length && rng.chance(0.3)) {
        f.calls.push({ flow: rng.int(firstHelper, flows.length - 1), mean: 1 });
      }
    }
    const execs = (f: Flow): number => 1 + f.calls.reduce((s, c) => s + c.mean * execs(flows[c.flow]!), 0);
    const weights = roots.map((f) => (f.kind === 'scheduled' ? 0.5 : 0.5 + rng.float()) + rng.float() * 0.5);
    const perRoot = roots.reduce((s, f, i) => s + weights[i]! * 2 * execs(f) * (1 + REDELIVERY_RATIO), 0);
    const c = (this.opts.eventsPerSecond ?? 5) / 1000 / perRoot;
    for (const [i, f] of roots.entries()) f.rootsPerMs = c * weights[i]!;
  }

  // Folders nest (up to 5 levels in Okta): folder_id_path lists the ids from the top, '/'-separated.
  private folder(path: string): Folder {
    const known = this.folders.get(path);
    if (known) return known;
    const cut = path.lastIndexOf('/');
    const parent = cut >= 0 ? this.folder(path.slice(0, cut)) : undefined;
    const id = this.pastId(30, 700);
    const folder = { id, name: path.slice(cut + 1), path: parent ? `${parent.path}/${id}` : id };
    this.folders.set(path, folder);
    return folder;
  }

  // Scheduled flows tick at a fixed period (plus a little dispatch delay); event-driven flows come in bursts.
  private scheduleArrival(f: Flow, after: number, first = false): void {
    const rng = this.rng;
    let at: number;
    if (f.kind === 'scheduled') {
      const period = 1 / f.rootsPerMs;
      at = first ? after + rng.float() * period : after + period + rng.int(-150, 150);
    } else {
      // A burst of 1 + B runs a few hundred ms apart; the quiet gap before it keeps the average at rootsPerMs.
      const within = Math.min(400, 0.5 / f.rootsPerMs);
      if (f.burstLeft > 0) {
        f.burstLeft--;
        at = after + rng.exp(within);
      } else {
        f.burstLeft = rng.poisson(2);
        at = after + rng.exp((f.burstLeft + 1) / f.rootsPerMs - f.burstLeft * within);
      }
    }
    this.push({ at: Math.round(at), seq: 0, arrival: f });
  }

  private runRoot(f: Flow, at: number): void {
    this.scheduleArrival(f, at);
    this.execute(f, at, undefined, f.kind === 'event' ? this.rng.pick(this.users) : undefined);
  }

  private execute(flow: Flow, at: number, parent: Exec | undefined, user: User | undefined): void {
    const rng = this.rng;
    const id = rng.uuid();
    const exec = { id, flow, depth: parent ? parent.depth + 1 : 1, parent, user } as Exec;
    exec.root = parent ? parent.root : exec;
    this.emit(this.event(exec, 'FLOW_START', at, {}));
    const fr = this.opts.failureRatio;
    const other = (1 - fr) * 0.01;
    const r = rng.float();
    let end: number;
    if (r < fr) {
      const [type, message] = errorsFor(flow.app, rng);
      const ms =
        type === 'TimeoutError'
          ? 60_000 + rng.int(0, 400)
          : Math.max(5, Math.round(rng.lognormal(flow.medianMs, 0.6) * (0.2 + rng.float() * 0.8)));
      const steps = Math.max(1, Math.floor(flow.steps * (0.2 + rng.float() * 0.7)));
      end = at + ms;
      this.emit(
        this.event(exec, 'FLOW_FAIL', end, {
          duration: ms,
          step_count: steps,
          error_type: type,
          error_message: message,
        }),
      );
    } else if (r < fr + other) {
      end = at + Math.round(rng.lognormal(flow.medianMs * 3, 0.5));
      this.emit(this.event(exec, 'FLOW_CANCEL', end, {}));
    } else if (r < fr + 2 * other) {
      this.emit(this.event(exec, 'FLOW_THROTTLE', at + rng.int(20, 400), { throttled: true }));
      return;
    } else if (r < fr + 3 * other) {
      end = at + rng.int(200, 3000);
      this.emit(this.event(exec, 'FLOW_PAUSE', end, {}));
    } else {
      const ms = Math.max(5, Math.round(rng.lognormal(flow.medianMs, 0.6)));
      end = at + ms;
      this.emit(
        this.event(exec, 'FLOW_COMPLETE', end, {
          duration: ms,
          step_count: flow.steps + rng.int(0, 3),
          address: ADDRESS,
        }),
      );
    }
    // Helper calls happen while the parent runs (async calls may finish after it).
    for (const call of flow.calls) {
      const count = rng.poisson(call.mean);
      for (let i = 1; i <= count; i++) {
        const childAt = at + Math.max(1, Math.round((end - at) * (0.05 + (0.75 * i) / (count + 1))));
        this.execute(this.flows[call.flow]!, childAt, exec, user);
      }
    }
  }

  // Field order follows the fixtures; top-level executions are their own root.
  private event(exec: Exec, type: string, at: number, extra: Partial<ElsEvent>): ElsEvent {
    const { flow, root, user, parent } = exec;
    return {
      event_type: type,
      execution_id: exec.id,
      timestamp: new Date(at).toISOString(),
      flow_id: flow.id,
      flow_name: flow.name,
      org_id: this.org.id,
      org_name: this.org.name,
      org_hostname: this.org.hostname,
      ...(user ? { user_id: user.id, user_email: user.email } : {}),
      ...(parent
        ? {
            parent_execution_id: parent.id,
            parent_flow_id: parent.flow.id,
            parent_flow_name: parent.flow.name,
          }
        : {}),
      root_execution_id: root.id,
      root_flow_id: root.flow.id,
      root_flow_name: root.flow.name,
      folder_id_path: flow.folder.path,
      folder_id: flow.folder.id,
      folder_name: flow.folder.name,
      engine_mode: 'regular',
      idempotency_key: this.rng.hex(32),
      depth: exec.depth,
      throttled: false,
      ...extra,
    };
  }

  // Okta redelivers a few events: the very same payload, a few seconds later.
  private emit(event: ElsEvent): void {
    const at = Date.parse(event.timestamp);
    this.push({ at, seq: 0, event });
    if (this.rng.chance(REDELIVERY_RATIO)) {
      const copy = { ...event };
      this.redelivered.add(copy);
      this.push({ at: at + this.rng.int(500, 15_000), seq: 0, event: copy });
    }
  }

  // A binary min-heap on (at, seq): insertion order breaks ties, so the output never depends on the caller.
  private push(item: Item): void {
    const h = this.heap;
    item.seq = this.seq++;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: Item, b: Item): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** The request body Okta posts with the Datadog template; `message` is the event as an escaped JSON string. */
export function oktaDatadogBody(event: object): string {
  const host = (event as { org_hostname?: unknown }).org_hostname;
  return JSON.stringify({
    ddtags: 'env:production,service:okta',
    ddsource: 'okta-workflows-els',
    hostname: typeof host === 'string' ? host : '',
    message: JSON.stringify(event),
    service: 'okta',
  });
}
