import type { AmqpClient, IncomingEvent, Verdict } from '@streamtrain/amqp';
import {
  Counter,
  Health,
  createOpsServer,
  once,
  runShutdownSteps,
} from '@streamtrain/observability';
import type { Logger, Registry, Service, ShutdownStep } from '@streamtrain/observability';
import { migrate, ping } from '@streamtrain/warehouse';
import type { OutboxRelay } from '@streamtrain/warehouse';
import type { OutboxTable, Pool } from '@streamtrain/warehouse';
import type { FastifyInstance } from 'fastify';
import { createCountedPool, publishPendingStep, relayOutbox } from './warehouse-link';
import { listenEarly } from './early-ops-server';
import { connectAmqpWhenReachable } from './dependency-wait';

/** What the consumer of an event service is given to build its handler. */
export interface EventServiceContext {
  pool: Pool;
  amqp: AmqpClient;
  /** Publishes newly enqueued outbox events now rather than at the next poll. */
  wakeRelay: () => void;
}

/** Options of {@link createEventService}. */
export interface EventServiceOptions {
  name: string;
  logger: Logger;
  registry: Registry;
  onFatal: (error: Error) => void;
  databaseUrl: string;
  schema: string;
  poolSize: number;
  amqpUrl: string;
  exchange: string;
  prefetch: number;
  httpPort: number;
  httpHost: string;
  outboxTable: OutboxTable;
  /** The queue to consume (declared by the shared topology) and how. */
  consume: (context: EventServiceContext) => Promise<{
    queue: string;
    routingKeys: readonly string[];
    handler: (event: IncomingEvent) => Promise<Verdict>;
  }>;
  /**
   * Adds the service's own HTTP routes. Called before the ops server listens, which it does
   * before anything connects (routes cannot be added to a listening server).
   */
  routes?: (http: FastifyInstance, pool: Pool) => void;
  /** Extra steps run first on stop (e.g. finish a training run). */
  beforeStop?: ShutdownStep[];
}

/** The environment every event service shares (see `libs/config`'s common shapes). */
export interface EventServiceEnv {
  DATABASE_URL: string;
  WAREHOUSE_SCHEMA: string;
  DATABASE_POOL_SIZE: number;
  AMQP_URL: string;
  AMQP_EXCHANGE: string;
  AMQP_PREFETCH: number;
  HTTP_PORT: number;
  HTTP_HOST: string;
}

/** The connection and HTTP options of {@link createEventService}, from a service's config. */
export function connectionOptionsFrom(
  config: EventServiceEnv,
): Pick<
  EventServiceOptions,
  | 'databaseUrl'
  | 'schema'
  | 'poolSize'
  | 'amqpUrl'
  | 'exchange'
  | 'prefetch'
  | 'httpPort'
  | 'httpHost'
> {
  return {
    databaseUrl: config.DATABASE_URL,
    schema: config.WAREHOUSE_SCHEMA,
    poolSize: config.DATABASE_POOL_SIZE,
    amqpUrl: config.AMQP_URL,
    exchange: config.AMQP_EXCHANGE,
    prefetch: config.AMQP_PREFETCH,
    httpPort: config.HTTP_PORT,
    httpHost: config.HTTP_HOST,
  };
}

/** A running event service. */
export interface EventService extends Service {
  port(): number;
  /** The warehouse pool, once started. */
  pool: Pool;
}

/**
 * The shape shared by the RabbitMQ-driven services (pipeline, trainer): migrate the warehouse,
 * connect RabbitMQ, relay the service's outbox, consume one queue, serve health and metrics,
 * and stop in order (stop intake → finish deliveries in hand → publish the outbox → close).
 */
export function createEventService(options: EventServiceOptions): EventService {
  const { logger } = options;
  const health = new Health();
  const http = createOpsServer({ registry: options.registry, health, logger });
  const deliveries = new Counter({
    name: `streamtrain_${options.name}_deliveries_total`,
    help: 'RabbitMQ deliveries by outcome (ack, dead-letter, retry).',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const pool = createCountedPool(
    {
      databaseUrl: options.databaseUrl,
      schema: options.schema,
      poolSize: options.poolSize,
      logger,
    },
    options.registry,
  );
  let amqp: AmqpClient | undefined;
  let relay: OutboxRelay | undefined;
  let cancelConsumer: (() => Promise<void>) | undefined;
  let listeningPort = 0;
  const stopping = new AbortController();

  const stop = once(async () => {
    stopping.abort(new Error(`${options.name} stopped while starting`));
    health.markShuttingDown();
    const errors = await runShutdownSteps(
      [
        { name: 'stop consuming and finish deliveries in hand', run: () => cancelConsumer?.() },
        ...(options.beforeStop ?? []),
        publishPendingStep(
          () => relay,
          () => amqp,
        ),
        { name: 'close RabbitMQ', run: () => amqp?.close() },
        { name: 'close warehouse pool', run: () => pool.end() },
        { name: 'close HTTP', run: () => http.close() },
      ],
      logger,
    );
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} shutdown step(s) failed`);
  });

  return {
    pool,
    port: () => listeningPort,
    async start() {
      options.routes?.(http, pool);
      const ops = await listenEarly(http, health, {
        port: options.httpPort,
        host: options.httpHost,
      });
      listeningPort = ops.port;
      ops.phase('migrating the warehouse');
      await migrate({ databaseUrl: options.databaseUrl, schema: options.schema, logger });
      const client = await connectAmqpWhenReachable(
        { url: options.amqpUrl, exchange: options.exchange, logger, onFatal: options.onFatal },
        { ops, signal: stopping.signal },
      );
      amqp = client;
      relay = relayOutbox({
        pool,
        table: options.outboxTable,
        amqp: client,
        logger,
        registry: options.registry,
      });
      const activeRelay = relay;
      health.register('warehouse', () => ping(pool));
      health.register('rabbitmq', () => client.isConnected());
      ops.phase('preparing the consumer');
      const consumer = await options.consume({
        pool,
        amqp: client,
        wakeRelay: () => activeRelay.wake(),
      });
      relay.start();
      const handle = await client.consume({
        queue: consumer.queue,
        routingKeys: consumer.routingKeys,
        prefetch: options.prefetch,
        handler: consumer.handler,
        onOutcome: (outcome) => deliveries.inc({ outcome }),
      });
      cancelConsumer = () => handle.cancel();
      ops.started();
      logger.info({ port: listeningPort, queue: consumer.queue }, `${options.name} running`);
    },
    stop,
  };
}
