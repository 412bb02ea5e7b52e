#!/usr/bin/env node
// Entry point for `npx flowwatch`: runs the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  console.error(`flowwatch: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
