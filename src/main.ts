// Composition root: settings → store → keys → writer → HTTP server, and the orderly stop.
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildServer } from './api/server.ts';
import { type BootstrapResult, bootstrapKeys, Keyring } from './auth/keys.ts';
import type { Settings } from './config/settings.ts';
import { LogWriter } from './intake/writer.ts';
import { createMetrics } from './metrics/metrics.ts';
import { describeEvent } from './monitors/describe.ts';
import { DowntimeService } from './monitors/downtime-service.ts';
import { MonitorEvaluator } from './monitors/evaluator.ts';
import { bundleWindowMs } from './notify/bundle.ts';
import { IncidentCloser } from './notify/close-incidents.ts';
import { NotificationsConfigSource, type ReloadResult } from './notify/config.ts';
import { IntegrationRecipients } from './notify/integrations.ts';
import { Notifier } from './notify/notifier.ts';
import { recipientsFor } from './notify/rules.ts';
import { PipelineService } from './pipelines/service.ts';
import { openStore, storePermissionWarnings } from './store/open.ts';
import { startRetention } from './store/retention.ts';
import type { Store } from './store/store.ts';

/** A running Flowwatch. */
export interface Running {
  app: FastifyInstance;
  store: Store;
  writer: LogWriter;
  /** base URL it listens on */
  url: string;
  bootstrap: BootstrapResult;
  /** re-reads the configuration file's channel definitions (SIGHUP); an invalid file keeps the old ones */
  reloadConfig(): ReloadResult;
  /** stops accepting, finishes in-flight requests, flushes, closes the store */
  close(): Promise<void>;
}

/** Starts Flowwatch with validated settings. */
export async function startServer(
  settings: Settings,
  opts: { env?: NodeJS.ProcessEnv; logger?: Logger; store?: Store; configFile?: string } = {},
): Promise<Running> {
  const logger = opts.logger ?? pino({ level: settings.log_level, base: { service: 'flowwatch' } });
  const env = opts.env ?? process.env;
  // Slack channels and PagerDuty services of the configuration file (secrets from ${env:…}); checked first.
  const channelConfig = new NotificationsConfigSource({ file: opts.configFile, env, logger });
  let ready = false;
  const store = opts.store ?? (await openStore(settings));
  const metrics = createMetrics();
  const keys = new Keyring(store);
  const bootstrap = await bootstrapKeys(store, env, Date.now());
  for (const w of bootstrap.warnings) logger.warn(w);
  if (!opts.store) for (const w of storePermissionWarnings(settings)) logger.warn(w);
  await keys.reload();
  await store.changedElsewhere();
  // Recipients of the integration APIs, merged with the file's (the file wins a name both define).
  const integrations = new IntegrationRecipients({
    store: store.integrations,
    file: () => channelConfig.current(),
    logger,
  });
  await integrations.load();
  const pipelines = new PipelineService(store);
  await pipelines.start();
  const writer = new LogWriter(store, metrics, settings.max_queue_events);
  let baseUrl = settings.public_url ?? `http://${settings.host}:${settings.port}`;
  // Downtimes load first: transitions evaluated while the monitors start are already muted by them.
  // Its notices to the handles of a downtime's message go through the outbox (notifier, below).
  const downtimes = new DowntimeService({
    store,
    logger,
    baseUrl: () => baseUrl,
    onNotices: () => notifier.wake(),
  });
  await downtimes.start();
  // The delivery outbox: events the evaluator saves wake it; a start resumes what a stop left pending.
  const notifier = new Notifier({
    store: store.notifications,
    logger,
    registry: metrics.registry,
    retry: { baseMs: settings.notify_retry_base_ms, maxMs: settings.notify_retry_max_ms },
    deadLetterAfterMs: settings.notify_dead_letter_after_s * 1000,
    webhookTimeoutMs: settings.notify_webhook_timeout_ms,
    channelConfig: () => integrations.current(),
    // The message's @-handles merged with those of matching notification rules (loaded once per pass).
    recipients: async () => {
      const rules = await store.listNotificationRules();
      return (e) => recipientsFor(e.body, rules);
    },
    // Bundling windows: the matching rules' bundle_config, else the configuration's default (off when absent).
    bundleWindows: async () => {
      const rules = await store.listNotificationRules();
      const defaultMs = channelConfig.current().bundle_ms ?? 0;
      return (e, handle) => bundleWindowMs(e.body, handle, rules, defaultMs);
    },
  });
  const monitors: MonitorEvaluator = new MonitorEvaluator({
    store,
    logger,
    onEvents: () => notifier.wake(),
    muting: (m, group, t) => downtimes.muting(m, group, t),
    describe: (e) =>
      describeEvent(e, {
        baseUrl: () => baseUrl,
        options: (id) => monitors.definition(id)?.options,
      }),
  });
  downtimes.attach(monitors);
  // Deleting a monitor, or a downtime starting to mute groups, resolves their open incidents.
  const incidents = new IncidentCloser({ store, outbox: notifier, logger });
  downtimes.onWindowStart((d, at, scopeOf) => incidents.muted(d, at, scopeOf));
  await monitors.start();
  notifier.start();
  // Monitors read committed logs (after the pipelines), never the requests themselves.
  writer.onCommit((events) => monitors.feed(events));
  const app = await buildServer({
    settings,
    store,
    keys,
    writer,
    metrics,
    logger,
    pipelines,
    monitors,
    notifier,
    incidents,
    integrations,
    downtimes,
    ready: () => ready,
  });

  // Keys and pipelines changed by another process (the CLI) are picked up within a second.
  const keyTimer = setInterval(() => {
    store
      .changedElsewhere()
      .then(async (changed) => {
        if (!changed) return;
        await keys.reload();
        await pipelines.reload();
      })
      .catch((err: unknown) => logger.error({ err }, 'reloading keys and pipelines failed'));
  }, 1000);
  keyTimer.unref();
  const retention = startRetention({
    store,
    metrics,
    logger,
    retentionDays: settings.retention_days,
    intervalS: settings.retention_interval_s,
  });

  try {
    await app.listen({ host: settings.host, port: settings.port });
  } catch (err) {
    clearInterval(keyTimer);
    retention.stop();
    await app.close().catch(() => undefined);
    await notifier.stop();
    await store.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : settings.port;
  const scheme = settings.tls_cert ? 'https' : 'http';
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `${scheme}://${host}:${port}`;
  baseUrl = settings.public_url ?? url;
  ready = true;
  logger.info(
    {
      url,
      store: store.kind,
      data_dir: settings.data_dir,
      public_url: settings.public_url,
      // `npm start` caps it at 256 MB (docs/operations.md, Memory); V8's default is a share of the RAM
      heap_limit_mb: Math.round(getHeapStatistics().heap_size_limit / 1048576),
    },
    'Flowwatch is listening',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      ready = false;
      clearInterval(keyTimer);
      retention.stop();
      await app.close();
      await writer.drain();
      await downtimes.stop();
      await monitors.stop();
      await notifier.stop();
      await retention.done();
      await store.close();
      logger.info('Flowwatch stopped');
    })();
    return closing;
  };
  const reloadConfig = () => {
    const r = channelConfig.reload();
    // Merges the new file with the API's recipients now, so a new shadowing is logged at once.
    integrations.current();
    return r;
  };
  return { app, store, writer, url, bootstrap, reloadConfig, close };
}
