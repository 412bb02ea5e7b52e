// `flowwatch simulate`: posts realistic Okta Workflows ELS traffic to an intake exactly as Okta does, to try
// Flowwatch (or any Datadog-compatible intake) without an Okta tenant, and to load-test it.
import { type Command, InvalidArgumentError } from 'commander';
import { intakeUrl, type Progress, runSimulation, type Summary } from '../okta/simulate-run.ts';

interface SimulateFlags {
  url: string;
  apiKey?: string;
  rate: number;
  duration: number;
  flows: number;
  failureRatio: number;
  seed?: number;
  concurrency: number;
  json?: boolean;
}

// commander names the flag in its message: "option '--rate <events_per_s>' argument 'x' is invalid. …".
function number(what: string, ok: (n: number) => boolean, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || !ok(n)) {
      throw new InvalidArgumentError(`Expected ${what}.`);
    }
    return n;
  };
}

function url(value: string): string {
  try {
    return intakeUrl(value);
  } catch {
    throw new InvalidArgumentError('Expected an http:// or https:// URL, such as http://127.0.0.1:8080.');
  }
}

const plural = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/** The end-of-run report people read: totals, outcomes, event mix and latency. */
export function formatSummary(s: Summary): string {
  return [
    `sent ${s.sent} events to ${s.url} in ${s.elapsedS.toFixed(1)} s (${s.achievedRate.toFixed(1)}/s), seed ${s.seed}${s.stopped ? ', stopped early' : ''}`,
    `  accepted ${s.accepted}, failed ${s.failed}, aborted ${s.aborted}, retries ${s.retries}, redelivered duplicates ${s.duplicatesSent}`,
    `  responses: ${plural(s.byStatus)}`,
    `  event types: ${plural(s.byEventType)}`,
    `  latency ms: p50 ${s.latencyMs.p50}, p95 ${s.latencyMs.p95}, p99 ${s.latencyMs.p99}`,
  ].join('\n');
}

const progressLine = (p: Progress): string =>
  `sent ${p.sent}, accepted ${p.accepted}, failed ${p.failed}, ${p.rate.toFixed(1)}/s, ${p.elapsedS.toFixed(0)} s`;

/** Adds `simulate` to the CLI. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Post realistic Okta Workflows ELS traffic to an intake, one event per request, as Okta does',
    )
    .requiredOption('--url <url>', 'intake URL; a bare origin gets /api/v2/logs', url)
    .option('--api-key <key>', 'intake API key sent as DD-API-KEY (default: env FLOWWATCH_API_KEY)')
    .option(
      '--rate <events_per_s>',
      'events per second',
      number('a number of events per second > 0', (n) => n > 0 && n <= 100_000),
      10,
    )
    .option(
      '--duration <seconds>',
      'how long to send',
      number('a number of seconds > 0', (n) => n > 0),
      60,
    )
    .option(
      '--flows <n>',
      'flows in the simulated org',
      number('a whole number of flows from 1 to 10000', (n) => n >= 1 && n <= 10_000, true),
      20,
    )
    .option(
      '--failure-ratio <r>',
      'fraction of executions ending in FLOW_FAIL',
      number('a ratio from 0 to 1', (n) => n >= 0 && n <= 1),
      0.05,
    )
    .option(
      '--seed <n>',
      'seed for the generator (default: random, printed)',
      number('a whole number >= 0', (n) => n >= 0 && Number.isSafeInteger(n), true),
    )
    .option(
      '--concurrency <n>',
      'most requests in flight',
      number('a whole number from 1 to 1024', (n) => n >= 1 && n <= 1024, true),
      16,
    )
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (flags: SimulateFlags, cmd: Command) => {
      const apiKey = flags.apiKey ?? process.env.FLOWWATCH_API_KEY;
      if (!apiKey) cmd.error("error: option '--api-key <key>' is required (or set FLOWWATCH_API_KEY)");
      const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
      process.stderr.write(
        `simulate: ${flags.rate} events/s for ${flags.duration} s to ${flags.url} (flows ${flags.flows}, failure ratio ${flags.failureRatio}, seed ${seed})\n`,
      );
      const summary = await runWithCtrlC(flags, apiKey, seed);
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`${formatSummary(summary)}\n`);
      if (summary.failed > 0) process.exitCode = 1;
    });
}

// The first Ctrl-C stops sending and still prints the summary; a second one quits at once.
async function runWithCtrlC(flags: SimulateFlags, apiKey: string, seed: number): Promise<Summary> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true;
  let shown = false;
  try {
    return await runSimulation({
      url: flags.url,
      apiKey,
      rate: flags.rate,
      durationS: flags.duration,
      flows: flags.flows,
      failureRatio: flags.failureRatio,
      seed,
      concurrency: flags.concurrency,
      signal: controller.signal,
      onProgress: (p) => {
        shown = true;
        process.stderr.write(tty ? `\r${progressLine(p)}\x1b[K` : `${progressLine(p)}\n`);
      },
    });
  } finally {
    if (tty && shown) process.stderr.write('\n');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
