import { refuseRepeatedKeys } from './http/repeated-keys.js';
import './http/schema-docs.js';
import { Ajv } from 'ajv';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { AppConfig } from './config/schema.js';
import type { Clock } from './domain/clock.js';
import { systemClock } from './domain/clock.js';
import { LimitEngine } from './domain/engine.js';
import type { EngineConfig } from './domain/engine.js';
import { authPlugin } from './http/plugins/auth.js';
import { coalescedWritesPlugin } from './http/plugins/coalesced-writes.js';
import { deadlinePlugin } from './http/plugins/deadline.js';
import { clientErrorHandler } from './http/client-errors.js';
import { errorsPlugin, frameworkErrorHandler } from './http/plugins/errors.js';
import { newBodyAjv } from './http/body-validation.js';
import { openApiYaml, recordRoutes } from './http/openapi.js';
import { registerRateLimit } from './http/plugins/rate-limit.js';
import { checkRoutes } from './http/routes/checks.js';
import { lazyRequestLogger } from './http/request-logger.js';
import type { RouteDeps } from './http/routes/deps.js';
import { feedRoutes } from './http/routes/feeds.js';
import { healthRoutes } from './http/routes/health.js';
import { limitRoutes } from './http/routes/limits.js';
import { operationRoutes } from './http/routes/operations.js';
import { violationRoutes } from './http/routes/violations.js';
import { HttpWarmUp } from './http/warm-up.js';
import { DurableStore } from './store/durable-store.js';
import { NO_STORE } from './http/durable-reply.js';
import { Telemetry } from './telemetry/metrics.js';
import { disabledTracing } from './telemetry/tracing.js';
import type { Tracing } from './telemetry/tracing.js';
import { startSweeper } from './sweeper.js';
import { warmUp } from './warm-up.js';

export interface AppOptions {
  clock?: Clock;
  /** Where log lines go (tests capture them); defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  defaultMetrics?: boolean;
  /** Started by the process entry from OTEL_* variables; off by default. */
  tracing?: Tracing;
  /** Requests the app sends itself through the whole HTTP path before it reports ready. */
  httpWarmUpRequests?: number;
}

export interface App {
  readonly server: FastifyInstance;
  readonly engine: LimitEngine;
  readonly telemetry: Telemetry;
  /** The journal and snapshots; undefined with `storage.durability: off`. */
  readonly store: DurableStore | undefined;
  /** The OpenAPI document of this app's routes, as YAML. */
  readonly openApi: () => string;
  /** The start-up warm-up of the HTTP path (done once the server is ready). */
  readonly httpWarmUp: HttpWarmUp;
}

export const API_VERSION = '1.0.0';

/** Enough for V8 to have compiled the check path; each costs well under a millisecond. */
const DEFAULT_HTTP_WARM_UP_REQUESTS = 200;

/** Paths that never reach a log, whatever the config says. */
const ALWAYS_REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
];

export function engineConfigOf(config: AppConfig): EngineConfig {
  return {
    severityActions: config.severityActions,
    openOrderTtlMs: config.server.openOrderTtlMs,
    lateFillWindowMs: config.server.lateFillWindowMs,
    maxReferenceAgeMs: config.server.maxReferenceAgeMs,
    history: config.history,
    capacity: config.capacity,
  };
}

/**
 * Bodies are validated without type coercion ("5" is not a number) and unknown fields are
 * errors, not silently dropped (see newBodyAjv); query strings and params may coerce (they are all text).
 */
function validatorCompiler() {
  const forBodies = newBodyAjv();
  const forText = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? forBodies : forText).compile(schema) as (data: unknown) => boolean;
}

function openStore(config: AppConfig, engine: LimitEngine, clock: Clock, server: FastifyInstance): Promise<DurableStore> {
  const { dataDir, durability, snapshotIntervalMs, maxSegmentBytes, snapshotJournalRatio, asyncFlushMs, snapshotsIn, recoveryIntervalMs } = config.storage;
  if (durability === 'off') throw new RangeError('storage is off');
  const snapshotWorker = snapshotsIn === 'worker' ? { engineConfig: engineConfigOf(config), limits: config.limits } : undefined;
  // The journal's recovery with fsync durability rebuilds the state from disk in an engine as this one started.
  const freshEngine = () => new LimitEngine(engineConfigOf(config), clock, config.limits);
  return DurableStore.open(
    { dataDir, durability, snapshotIntervalMs, maxSegmentBytes, snapshotJournalRatio, asyncFlushMs, recoveryIntervalMs, freshEngine, ...(snapshotWorker === undefined ? {} : { snapshotWorker }) },
    engine,
    server.log,
  );
}

/** The composition root: one engine, its telemetry, and the HTTP API around them. */
export async function buildApp(config: AppConfig, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const engine = new LimitEngine(engineConfigOf(config), clock, config.limits);
  const telemetry = new Telemetry(() => engine, { defaultMetrics: options.defaultMetrics ?? true });
  const logger: FastifyServerOptions['logger'] = {
    level: config.server.logLevel,
    redact: { paths: [...ALWAYS_REDACTED, ...config.server.redactPaths], censor: '[redacted]' },
    ...(options.logStream === undefined ? {} : { stream: options.logStream }),
  };
  const server = Fastify({
    logger,
    bodyLimit: config.server.bodyLimitBytes,
    // A client that sends its body slowly (or never) cannot hold a connection forever. Node
    // enforces requestTimeout only while headersTimeout (60 s unless given) is not longer, and
    // looks for late requests every connectionsCheckingInterval (30 s unless given): so all three.
    requestTimeout: config.server.requestTimeoutMs,
    http: {
      requestTimeout: config.server.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.server.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, config.server.requestTimeoutMs),
    },
    clientErrorHandler,
    logController: new LogController({ disableRequestLogging: !config.server.accessLog }),
    childLoggerFactory: lazyRequestLogger,
    // Our own 503 while closing is problem+json (errors plugin).
    return503OnClosing: false,
    // Answered before routing, so no route hook (onResponse included) runs: counted here, under `unmatched`.
    frameworkErrors: (error, request, reply) => {
      reply.raw.once('finish', () => telemetry.recordHttp(request.method, undefined, reply.statusCode, reply.elapsedTime));
      frameworkErrorHandler(error, request, reply);
    },
  });
  server.setValidatorCompiler(validatorCompiler());
  // Fastify parses text/plain by default; this API takes JSON only, so anything else is a 415.
  server.removeContentTypeParser('text/plain');
  // A JSON body with a key twice in one object is refused (see repeated-keys.ts), in every route.
  refuseRepeatedKeys(server);
  const routes = recordRoutes(server);

  await server.register(errorsPlugin);
  if (config.server.coalesceWrites) await server.register(coalescedWritesPlugin);
  const httpWarmUp = new HttpWarmUp(engineConfigOf(config), config.limits);
  await server.register(authPlugin, { ...config.auth, transient: httpWarmUp });
  await server.register(deadlinePlugin, { defaultDeadlineMs: config.server.defaultDeadlineMs, now: () => clock.monotonic() });
  await registerRateLimit(server, config.rateLimit, () => telemetry.rateLimited.inc(), () => clock.monotonic());

  // Recovery happens before any route can answer: until then the process does not even listen.
  const store = config.storage.durability === 'off' ? undefined : await openStore(config, engine, clock, server);
  telemetry.watchDependency('journal', () => store?.isHealthy ?? true);
  if (store !== undefined) telemetry.watchBreaker('journal', () => store.breakerState);
  // Not fatal (snapshots fall back to the main thread, and stall it), but worth an alert.
  if (store !== undefined && config.storage.snapshotsIn === 'worker') telemetry.watchDependency('snapshot_worker', () => store.isSnapshotWorkerUp);

  let isReady = false;
  const deps: RouteDeps = { engine, config, telemetry, clock, tracing: options.tracing ?? disabledTracing, store: store ?? NO_STORE, warmUp: httpWarmUp };
  healthRoutes(server, { telemetry, readiness: { isStarted: () => isReady, isJournalHealthy: () => store?.isHealthy ?? true } });
  await checkRoutes(server, deps);
  await feedRoutes(server, deps);
  limitRoutes(server, deps);
  violationRoutes(server, deps);
  operationRoutes(server, deps);

  server.addHook('onResponse', (request, reply, done) => {
    (httpWarmUp.owns(request) ? httpWarmUp.target.telemetry : telemetry).recordHttp(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });

  const sweeper = startSweeper(engine, config.server.sweepIntervalMs);
  server.addHook('onClose', async () => {
    sweeper.stop();
    await store?.close();
  });
  // Ready only once the engine and the HTTP path are warm: the first gateway orders must not
  // pay for compiling them (they did: tens of ms, over the default deadline on a loaded host).
  server.addHook('onReady', async () => {
    warmUp(engineConfigOf(config), config.limits);
    const outcome = await httpWarmUp.run(server, options.httpWarmUpRequests ?? DEFAULT_HTTP_WARM_UP_REQUESTS);
    if (outcome.failures > 0) server.log.warn(outcome, 'some HTTP warm-up requests failed');
    isReady = true;
  });
  return { server, engine, telemetry, store, openApi: () => openApiYaml(routes, API_VERSION), httpWarmUp };
}
