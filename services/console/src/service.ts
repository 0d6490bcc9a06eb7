import { kafkaConnectionOf } from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaAdmin } from '@streamtrain/kafka';
import {
  Health,
  createMetricsRegistry,
  createOpsServer,
  once,
  runShutdownSteps,
} from '@streamtrain/observability';
import type { Logger, Service } from '@streamtrain/observability';
import { listenEarly } from '@streamtrain/service-kit';
import { createPool, ping } from '@streamtrain/warehouse';
import type { ConsoleConfig } from './config';
import { createConsoleMetrics } from './adapters/console-metrics';
import { DeadLetterReader } from './adapters/dead-letter-reader';
import { LagExporter } from './adapters/lag-exporter';
import { ScorerQualityReader } from './adapters/scorer-quality-reader';
import { ServiceProber } from './adapters/service-prober';
import { WarehouseReader } from './adapters/warehouse-reader';
import { registerConsoleRoutes } from './entry-points/console-routes';

/** The console with the port it listens on once started. */
export interface ConsoleService extends Service {
  /** The HTTP port (known after `start`). */
  port(): number;
}

/** Runs `work` now and then every `intervalMs` after the previous run ended; returns a stopper. */
function every(intervalMs: number, work: () => Promise<void>): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const loop = (): void => {
    current = work().finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}

/**
 * The operators' console: a read-only page and JSON API over the whole loop, and the one
 * kafka-lag-exporter of the stack. It depends on nothing being up to start: Kafka, the warehouse
 * and the services are read in the background and each section of the page says what failed.
 */
export function createConsoleService(config: ConsoleConfig, logger: Logger): ConsoleService {
  const registry = createMetricsRegistry('console');
  const metrics = createConsoleMetrics(registry);
  const health = new Health();
  const http = createOpsServer({ registry, health, logger });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    schema: config.WAREHOUSE_SCHEMA,
    poolSize: config.DATABASE_POOL_SIZE,
    logger,
  });
  const kafka = createKafkaClient({
    ...kafkaConnectionOf(config),
    clientId: config.KAFKA_CLIENT_ID,
    logger,
  });
  let admin: KafkaAdmin | undefined;
  let connecting: Promise<void> | undefined;
  const lag = new LagExporter({
    admin: () => admin,
    groups: config.CONSOLE_LAG_GROUPS,
    clusterName: config.CONSOLE_CLUSTER_NAME,
    metrics: metrics.lag,
    logger: logger.child({ component: 'lag-exporter' }),
    tablePoints: config.CONSOLE_LAG_TABLE_POINTS,
    historyMs: config.CONSOLE_HISTORY_MS,
    trendWindowMs: config.CONSOLE_TREND_WINDOW_MS,
  });
  const deadLetters = new DeadLetterReader({
    kafka,
    topic: config.CONSOLE_DLQ_TOPIC,
    samplesPerReason: config.CONSOLE_DLQ_SAMPLES,
    counter: metrics.deadLetters,
    logger: logger.child({ component: 'dead-letter-reader' }),
  });
  const prober = new ServiceProber(config.CONSOLE_SERVICES);
  const warehouse = new WarehouseReader({
    pool,
    modelName: config.CONSOLE_MODEL_NAME,
    registryLimit: config.CONSOLE_REGISTRY_LIMIT,
    outboxTables: config.CONSOLE_OUTBOX_TABLES,
    runsTable: config.CONSOLE_RUNS_TABLE,
    tableRows: config.CONSOLE_TABLE_ROWS,
    metrics,
  });
  const liveQuality = new ScorerQualityReader({
    url: config.CONSOLE_SCORER_URL,
    token: config.CONSOLE_SCORER_TOKEN,
  });
  const snapshot = () => ({
    generatedAt: new Date().toISOString(),
    clusterName: config.CONSOLE_CLUSTER_NAME,
    refreshMs: config.CONSOLE_REFRESH_MS,
    lag: lag.current(),
    services: prober.current(),
    deadLetters: deadLetters.current(),
    liveQuality: liveQuality.current(),
    ...warehouse.current(),
  });
  const routes = registerConsoleRoutes(http, {
    token: config.CONSOLE_TOKEN,
    snapshot,
    refreshMs: config.CONSOLE_REFRESH_MS,
  });
  const brokers = config.KAFKA_BROKERS.join(',');
  let adminFailures = 0;
  // A stop does not wait for a connect in hand (the Kafka client retries for about a minute).
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const connectAdmin = async (): Promise<void> => {
    if (admin !== undefined) return;
    connecting ??= kafka
      .admin()
      .then(async (connected) => {
        if (stopping.signal.aborted) return connected.disconnect();
        admin = connected;
        if (adminFailures > 0) logger.info({ brokers }, `reached Kafka at ${brokers}`);
      })
      .catch((error: unknown) => {
        // An unreachable broker is already one warning of the Kafka client's (and `/readyz`
        // names it): debug here. Anything else (credentials, TLS) once as a warning.
        adminFailures += 1;
        const unreachable = (error as { code?: unknown }).code === 'BROKER_UNAVAILABLE';
        logger[adminFailures === 1 && !unreachable ? 'warn' : 'debug'](
          { err: error, brokers, failures: adminFailures },
          `cannot connect to Kafka at ${brokers} yet; retrying every poll`,
        );
      })
      .finally(() => {
        connecting = undefined;
      });
    await Promise.race([connecting, stopped]);
  };
  const stoppers: (() => Promise<void>)[] = [];
  let listeningPort = 0;

  const stop = once(async () => {
    stopping.abort();
    health.markShuttingDown();
    const errors = await runShutdownSteps(
      [
        {
          name: 'stop polling',
          run: async () => void (await Promise.all(stoppers.map((s) => s()))),
        },
        { name: 'close page streams', run: () => routes.closeStreams() },
        { name: 'close HTTP', run: () => http.close() },
        { name: 'stop dead-letter reader', run: () => deadLetters.stop() },
        { name: 'close Kafka admin', run: () => admin?.disconnect() },
        { name: 'close warehouse pool', run: () => pool.end() },
      ],
      logger,
    );
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} shutdown step(s) failed`);
  });

  return {
    port: () => listeningPort,
    async start() {
      health.register('kafka', () => {
        if (admin === undefined) throw new Error(`connecting to Kafka at ${brokers}`);
        const { error } = lag.current();
        if (error !== null) throw new Error(error);
        return true;
      });
      health.register('warehouse', () => ping(pool));
      // Nothing to wait for: Kafka, the warehouse and the services are read in the background,
      // and `/readyz` names whichever of Kafka and the warehouse is not there.
      const ops = await listenEarly(http, health, {
        port: config.HTTP_PORT,
        host: config.HTTP_HOST,
      });
      listeningPort = ops.port;
      ops.started();
      stoppers.push(
        every(config.CONSOLE_LAG_POLL_MS, async () => {
          await connectAdmin();
          await lag.poll();
        }),
        every(config.CONSOLE_REFRESH_MS, async () => {
          await Promise.all([prober.poll(), warehouse.poll(), liveQuality.poll()]);
          for (const service of prober.current()) {
            metrics.instancesUp.set({ target_service: service.name }, service.instancesAlive);
            metrics.instancesConfigured.set(
              { target_service: service.name },
              service.instancesConfigured,
            );
          }
        }),
      );
      deadLetters.start();
      logger.info(
        {
          port: listeningPort,
          groups: config.CONSOLE_LAG_GROUPS,
          cluster: config.CONSOLE_CLUSTER_NAME,
        },
        'console running',
      );
    },
    stop,
  };
}
