// Runs the CLI from source (tests and `npm run dev` use this through tsx; the package uses bin/flowwatch.js).
import { main } from './main.ts';

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`flowwatch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
