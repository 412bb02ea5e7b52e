// `flowwatch serve`: runs the server in this process until SIGTERM/SIGINT, then stops in order and exits 0.
import type { Command } from 'commander';
import { loadSettings } from '../config/settings.ts';
import { startServer } from '../main.ts';

/** Prints generated keys once, on first start; only their hashes are stored. */
function printGenerated(generated: { api?: string; app?: string }): void {
  if (!generated.api && !generated.app) return;
  const lines = [
    '',
    'Flowwatch generated keys on first start. They are shown only this once; store them now.',
  ];
  if (generated.api) lines.push(`  API key (intake, DD-API-KEY):            ${generated.api}`);
  if (generated.app) lines.push(`  Application key (DD-APPLICATION-KEY):    ${generated.app}`);
  lines.push('Create more with `flowwatch keys create`, or set FLOWWATCH_API_KEY / FLOWWATCH_APP_KEY.', '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Registers `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve intake, API and UI (default http://127.0.0.1:8080, data in ./data)')
    .option('--host <host>', 'address to listen on (env FLOWWATCH_HOST)')
    .option('--port <port>', 'port (env FLOWWATCH_PORT)')
    .option('--data-dir <dir>', 'data directory for the embedded store (env FLOWWATCH_DATA_DIR)')
    .option('--config <file>', 'YAML configuration file (env FLOWWATCH_CONFIG)')
    .option('--tls-cert <file>', 'TLS certificate (PEM) to serve HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--public-url <url>', 'URL users and Okta reach Flowwatch at, used in links')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (o: Record<string, string | undefined>) => {
      const settings = loadSettings({
        configFile: o.config,
        flags: {
          host: o.host,
          port: o.port,
          data_dir: o.dataDir,
          tls_cert: o.tlsCert,
          tls_key: o.tlsKey,
          public_url: o.publicUrl,
          log_level: o.logLevel,
        },
      });
      const configFile = o.config ?? process.env.FLOWWATCH_CONFIG;
      const running = await startServer(settings, { configFile }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          throw new Error(
            `${settings.host}:${settings.port} is already in use: stop the other process or pass --port`,
          );
        }
        if (err.code === 'EACCES') {
          throw new Error(
            `not allowed to listen on ${settings.host}:${settings.port}: use a port above 1023 or a reverse proxy`,
          );
        }
        throw err;
      });
      printGenerated(running.bootstrap.generated);
      const stop = (signal: string) => {
        process.stderr.write(
          `flowwatch: ${signal} received, finishing in-flight requests and closing the store\n`,
        );
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`flowwatch: error while stopping: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      // SIGHUP re-reads the configuration file's notification channels; an invalid file keeps the old ones.
      process.on('SIGHUP', () => {
        const r = running.reloadConfig();
        process.stderr.write(
          r.ok
            ? 'flowwatch: SIGHUP received, notification channels reloaded\n'
            : `flowwatch: SIGHUP received, configuration not reloaded: ${r.error}\n`,
        );
      });
    });
}
