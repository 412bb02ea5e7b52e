// The notification layer put together: channels, the dispatcher (events → jobs) and the delivery worker.
// The evaluator's onEvents calls wake(); a start dispatches what a crash left and resumes pending jobs.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NotificationJob, NotificationStore } from '../store/notifications.ts';
import { ChannelRegistry } from './channel.ts';
import { createEmailChannel } from './channels/email.ts';
import { createOpsgenieChannel } from './channels/opsgenie.ts';
import { createPagerDutyChannel } from './channels/pagerduty.ts';
import { createSlackChannel } from './channels/slack.ts';
import { createTeamsChannel } from './channels/teams.ts';
import { createWebhookChannel } from './channels/webhook.ts';
import { emptyNotificationsConfig, type NotificationsConfig } from './config.ts';
import { DeliveryWorker, type RetryPolicy } from './deliver.ts';
import { createNotifyMetrics } from './metrics.ts';
import { type BundleWindowsLoader, Dispatcher, type RecipientsLoader } from './outbox.ts';

/** Settings of delivery (config/settings.ts `notify_*`). */
export interface NotifierOptions {
  store: NotificationStore;
  logger?: Logger;
  /** the server's metrics registry */
  registry?: Registry;
  retry: RetryPolicy;
  deadLetterAfterMs: number;
  webhookTimeoutMs?: number;
  /** channel definitions of the configuration file (Slack, PagerDuty, Teams, Opsgenie…), read at each send */
  channelConfig?: () => NotificationsConfig;
  concurrency?: number;
  /** recipients beyond the message's handles (notification rules), loaded once per dispatch pass */
  recipients?: RecipientsLoader;
  /** bundling windows per recipient (rules' bundle_config, the configured default); none: no bundling */
  bundleWindows?: BundleWindowsLoader;
  now?: () => number;
  random?: () => number;
}

/** Dispatches monitor events to delivery jobs and delivers them. */
export class Notifier {
  readonly channels: ChannelRegistry;
  private readonly dispatcher: Dispatcher;
  private readonly worker: DeliveryWorker;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: NotifierOptions) {
    this.now = o.now ?? Date.now;
    const empty = emptyNotificationsConfig();
    const config = o.channelConfig ?? (() => empty);
    const timeoutMs = o.webhookTimeoutMs;
    this.channels = new ChannelRegistry()
      .add(createWebhookChannel({ store: o.store, timeoutMs, now: this.now }))
      .add(createEmailChannel({ config }))
      .add(createSlackChannel({ config, timeoutMs, now: this.now }))
      .add(createPagerDutyChannel({ config, timeoutMs, now: this.now }))
      .add(createTeamsChannel({ config, timeoutMs, now: this.now }))
      .add(createOpsgenieChannel({ config, timeoutMs, now: this.now }));
    const metrics = o.registry ? createNotifyMetrics(o.registry, o.store) : undefined;
    this.dispatcher = new Dispatcher({
      store: o.store,
      registry: this.channels,
      recipients: o.recipients,
      bundleWindows: o.bundleWindows,
      onHold: (channel) => metrics?.bundled.inc({ channel }),
      deadLetterAfterMs: o.deadLetterAfterMs,
      now: this.now,
    });
    this.worker = new DeliveryWorker({
      store: o.store,
      registry: this.channels,
      metrics,
      logger: o.logger,
      retry: o.retry,
      concurrency: o.concurrency,
      deadLetterNotify: () => config().dead_letter_notify ?? [],
      deadLetterAfterMs: o.deadLetterAfterMs,
      now: this.now,
      random: o.random,
    });
  }

  /** Dispatches events left undispatched (a crash) and resumes pending jobs. */
  start(): void {
    this.wake();
  }

  /** New monitor events were saved: dispatch them, then deliver. */
  wake(): void {
    if (this.stopped) return;
    this.dispatcher
      .dispatch()
      .then(() => this.worker.wake())
      .catch((err: unknown) => this.o.logger?.error({ err }, 'dispatching monitor events failed'));
  }

  /** Resolves when every monitor event saved so far has its jobs (one dispatch pass). */
  async dispatched(): Promise<void> {
    await this.dispatcher.dispatch();
  }

  /** Makes a pending or dead job due now with a fresh deadline; undefined when there is no such job. */
  async retry(id: number): Promise<NotificationJob | undefined> {
    const now = this.now();
    const job = await this.o.store.retryJob(id, now, now + this.o.deadLetterAfterMs);
    if (job?.state === 'pending') this.worker.wake();
    return job;
  }

  /** Stops delivering; sends in flight get `graceMs` to finish, then stay pending for the next start. */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true;
    await this.dispatcher.dispatch().catch(() => 0);
    await this.worker.stop(graceMs);
  }
}
