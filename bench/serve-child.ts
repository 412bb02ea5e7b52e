// Last-resort launcher used only when the `flowwatch serve` CLI does not start (e.g. a half-edited CLI
// module): the same startServer() and SIGTERM handling as src/cli/serve.ts, without the CLI around it.
// Run as a child: `node --import tsx bench/serve-child.ts PORT DATA_DIR` (keys and log level from env).
import { loadSettings } from '../src/config/settings.ts';
import { startServer } from '../src/main.ts';

const [port, dataDir] = process.argv.slice(2);
const running = await startServer(loadSettings({ flags: { port, data_dir: dataDir } }));
process.once('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`serve-child: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
});
