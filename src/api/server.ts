// The HTTP server: one Fastify app, the intake scope, the API routes and one error handler.
import { readFileSync } from 'node:fs';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Keyring } from '../auth/keys.ts';
import type { Settings } from '../config/settings.ts';
import { intakeScope } from '../intake/scope.ts';
import { hecErrorBody } from '../intake/splunk-hec.ts';
import type { LogWriter } from '../intake/writer.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { DowntimeService } from '../monitors/downtime-service.ts';
import type { MonitorEvaluator } from '../monitors/evaluator.ts';
import type { IncidentCloser } from '../notify/close-incidents.ts';
import type { IntegrationRecipients } from '../notify/integrations.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { PipelineService } from '../pipelines/service.ts';
import type { Store } from '../store/store.ts';
import { registerDowntimes } from './downtimes.ts';
import { datadogErrorBody, HttpError } from './errors.ts';
import { registerHealth } from './health.ts';
import { registerHome } from './home.ts';
import { registerOpsgenieIntegration } from './integration-opsgenie.ts';
import { registerPagerDutyIntegration } from './integration-pagerduty.ts';
import { registerSlackIntegration } from './integration-slack.ts';
import { registerTeamsIntegration } from './integration-teams.ts';
import { registerLogsAggregate } from './logs-aggregate.ts';
import { registerLogsLive } from './logs-live.ts';
import { registerLogsPipelines } from './logs-pipelines.ts';
import { registerLogsSearch } from './logs-search.ts';
import { registerMonitorSearch } from './monitor-search.ts';
import { registerMonitors } from './monitors.ts';
import { registerNotificationRules } from './notification-rules.ts';
import { registerNotifications } from './notifications.ts';
import { registerWebhooks } from './webhooks.ts';

/** Everything the HTTP layer needs. */
export interface ServerDeps {
  settings: Settings;
  store: Store;
  keys: Keyring;
  writer: LogWriter;
  metrics: Metrics;
  logger: Logger;
  pipelines: PipelineService;
  monitors: MonitorEvaluator;
  /** the delivery outbox (webhooks and notification routes are registered when present) */
  notifier?: Notifier;
  /** closes a deleted monitor's open PagerDuty and Opsgenie incidents */
  incidents?: IncidentCloser;
  /** recipients of the file and the integration APIs (the PagerDuty, Slack, Opsgenie and Teams routes) */
  integrations?: IntegrationRecipients;
  downtimes: DowntimeService;
  /** false until the store is open and keys are loaded */
  ready: () => boolean;
}

const INTAKE_PATHS = /^\/(api\/v2\/logs|v1\/input(\/[^/?]*)?)(\?|$)/;

/** Maps Fastify's own errors (body too large, bad content type…) to our HttpError. */
function toHttpError(err: FastifyError | HttpError): HttpError {
  if (err instanceof HttpError) return err;
  const status = err.statusCode ?? 500;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'Payload too large: the body exceeds 5 MB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, `Unsupported Content-Type: ${err.message}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, `Malformed JSON body: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'Bad Request: Content-Length does not match the body');
    default:
      return new HttpError(status, status >= 500 ? 'Internal Server Error' : err.message);
  }
}

/** Renders an error in the shape the route's clients expect (Datadog intake, Datadog API, Splunk HEC). */
export function sendError(req: FastifyRequest, reply: FastifyReply, e: HttpError) {
  if (e.retryAfterS !== undefined) void reply.header('retry-after', String(e.retryAfterS));
  const url = req.url;
  if (url.startsWith('/services/collector')) return reply.code(e.status).send(hecErrorBody(e));
  if (INTAKE_PATHS.test(url)) return reply.code(e.status).send(datadogErrorBody(e.status, e.detail));
  return reply.code(e.status).send({ errors: e.problems ?? [e.detail] });
}

/** Builds the app (not yet listening). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const s = deps.settings;
  const https =
    s.tls_cert && s.tls_key ? { cert: readFileSync(s.tls_cert), key: readFileSync(s.tls_key) } : null;
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 200 },
    // Requests that reach us while closing are served normally (the writer drains after them), not 503'd.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    requestTimeout: 60_000,
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500 && e.status !== 503 && e.status !== 507) req.log.error({ err }, 'request failed');
    return sendError(req, reply, e);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new HttpError(404, `Not found: ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.addHook('onResponse', (req, reply, done) => {
    const url = req.routeOptions.url ?? '';
    const receiver = url.startsWith('/services/collector')
      ? 'splunk_hec'
      : INTAKE_PATHS.test(url)
        ? 'datadog'
        : undefined;
    if (receiver) deps.metrics.intakeRequests.inc({ receiver, status: String(reply.statusCode) });
    done();
  });

  await app.register(async (scope) =>
    intakeScope(scope, {
      keys: deps.keys,
      writer: deps.writer,
      pipelines: deps.pipelines,
      metrics: deps.metrics,
      outOfWindow: s.out_of_window_timestamps,
      maxInflightBytes: s.max_inflight_bytes,
    }),
  );
  registerHealth(app, deps);
  registerHome(app, deps);
  registerLogsSearch(app, deps);
  registerLogsAggregate(app, deps);
  registerLogsPipelines(app, deps);
  registerMonitors(app, deps, deps.monitors);
  registerMonitorSearch(app, deps, deps.monitors);
  if (deps.notifier) {
    registerWebhooks(app, deps);
    registerNotifications(app, deps, deps.notifier);
  }
  if (deps.integrations) {
    const i = { store: deps.store.integrations, recipients: deps.integrations, logger: deps.logger };
    registerPagerDutyIntegration(app, deps, i);
    registerSlackIntegration(app, deps, i);
    registerOpsgenieIntegration(app, deps, i);
    registerTeamsIntegration(app, deps, i);
  }
  registerNotificationRules(app, deps);
  registerDowntimes(app, deps);
  registerLogsLive(app, deps);
  return app;
}
