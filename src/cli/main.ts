// The `flowwatch` command line: one file per command, registered here.
import { Command } from 'commander';
import { registerBackup } from './backup.ts';
import { registerKeys } from './keys.ts';
import { registerMonitors } from './monitors.ts';
import { registerNotify } from './notify.ts';
import { registerSearch } from './search.ts';
import { registerServe } from './serve.ts';
import { registerSimulate } from './simulate.ts';
import { registerTail } from './tail.ts';

/** Builds the program; exported so tests can run commands in-process. */
export function buildProgram(): Command {
  const program = new Command('flowwatch')
    .description('Self-hosted, Datadog-compatible log intake and alerting for Okta Workflows')
    .showHelpAfterError('(run with --help for usage)');
  registerServe(program);
  registerKeys(program);
  registerSimulate(program);
  registerSearch(program);
  registerTail(program);
  registerMonitors(program);
  registerNotify(program);
  registerBackup(program);
  return program;
}

/** Parses argv and runs the chosen command. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
