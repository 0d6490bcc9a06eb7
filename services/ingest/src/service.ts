import type { AmqpClient } from '@streamtrain/amqp';
import { kafkaConnectionOf } from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaAdmin, KafkaConsumer, KafkaProducer } from '@streamtrain/kafka';
import {
  Health,
  createMetricsRegistry,
  createOpsServer,
  once,
  runShutdownSteps,
} from '@streamtrain/observability';
import type { Logger, Service } from '@streamtrain/observability';
import {
  connectAmqpWhenReachable,
  connectKafkaWhenReachable,
  createCountedPool,
  listenEarly,
  publishPendingStep,
  relayOutbox,
} from '@streamtrain/service-kit';
import { migrate, ping } from '@streamtrain/warehouse';
import type { OutboxRelay } from '@streamtrain/warehouse';
import type { IngestConfig } from './config';
import { createIngestMetrics } from './adapters/ingest-metrics';
import { createArrivalHandler } from './entry-points/arrival-handler';
import { ensureDeadLetterTopic } from './adapters/dead-letter-topic';

/** The ingest service with the port it listens on once started. */
export interface IngestService extends Service {
  /** The HTTP port of `/healthz`, `/readyz`, `/metrics` (known after `start`). */
  port(): number;
  /** The partitions this instance holds now, per topic. */
  assignment(): Record<string, number[]>;
}

/**
 * Kafka (transaction and label topics) → validation → warehouse (idempotent) → outbox →
 * RabbitMQ `batch.arrived`. Bad input goes to the dead-letter topic.
 */
export function createIngestService(
  config: IngestConfig,
  logger: Logger,
  onFatal: (error: Error) => void,
): IngestService {
  const registry = createMetricsRegistry('ingest');
  const metrics = createIngestMetrics(registry);
  const health = new Health();
  const http = createOpsServer({ registry, health, logger });
  const pool = createCountedPool(
    {
      databaseUrl: config.DATABASE_URL,
      schema: config.WAREHOUSE_SCHEMA,
      poolSize: config.DATABASE_POOL_SIZE,
      logger,
    },
    registry,
  );
  const kafka = createKafkaClient({
    ...kafkaConnectionOf(config),
    clientId: config.KAFKA_CLIENT_ID,
    logger,
  });
  const pattern =
    config.INGEST_TOPIC_PATTERN === undefined ? undefined : new RegExp(config.INGEST_TOPIC_PATTERN);
  let amqp: AmqpClient | undefined;
  let relay: OutboxRelay | undefined;
  let producer: KafkaProducer | undefined;
  let admin: KafkaAdmin | undefined;
  let consumer: KafkaConsumer | undefined;
  let listeningPort = 0;

  const subscribedTopics = async (): Promise<string[]> => {
    if (pattern === undefined) return [...config.INGEST_TOPICS, config.INGEST_LABELS_TOPIC];
    const all = (await admin?.listTopics()) ?? [];
    return [...all.filter((topic) => pattern.test(topic)), config.INGEST_LABELS_TOPIC];
  };

  const stopping = new AbortController();

  const stop = once(async () => {
    stopping.abort(new Error('ingest stopped while starting'));
    health.markShuttingDown();
    const errors = await runShutdownSteps(
      [
        { name: 'stop fetching and finish the batch in hand', run: () => consumer?.disconnect() },
        publishPendingStep(
          () => relay,
          () => amqp,
        ),
        { name: 'close dead-letter producer', run: () => producer?.disconnect() },
        { name: 'close Kafka admin', run: () => admin?.disconnect() },
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
    port: () => listeningPort,
    assignment: () => consumer?.assignment() ?? {},
    async start() {
      const ops = await listenEarly(http, health, {
        port: config.HTTP_PORT,
        host: config.HTTP_HOST,
      });
      listeningPort = ops.port;
      ops.phase('migrating the warehouse');
      await migrate({ databaseUrl: config.DATABASE_URL, schema: config.WAREHOUSE_SCHEMA, logger });
      amqp = await connectAmqpWhenReachable(
        { url: config.AMQP_URL, exchange: config.AMQP_EXCHANGE, logger, onFatal },
        { ops, signal: stopping.signal },
      );
      const amqpClient = amqp;
      relay = relayOutbox({ pool, table: 'ingest_outbox', amqp: amqpClient, logger, registry });
      await connectKafkaWhenReachable(
        kafka,
        { brokers: config.KAFKA_BROKERS, logger },
        { ops, signal: stopping.signal },
      );
      admin = await kafka.admin();
      if (config.INGEST_CREATE_TOPICS) {
        await admin.ensureTopics(
          [...(pattern === undefined ? config.INGEST_TOPICS : []), config.INGEST_LABELS_TOPIC].map(
            (topic) => ({ topic, partitions: config.INGEST_TOPIC_PARTITIONS }),
          ),
        );
      }
      await ensureDeadLetterTopic(admin, {
        topic: config.INGEST_DEAD_LETTER_TOPIC,
        sources: await subscribedTopics(),
        create: config.INGEST_CREATE_TOPICS,
        partitions: config.INGEST_TOPIC_PARTITIONS,
        logger,
      });
      producer = await kafka.producer();
      consumer = kafka.consumer({
        groupId: config.INGEST_GROUP_ID,
        maxBytesPerPartition: config.INGEST_FETCH_MAX_BYTES_PER_PARTITION,
        maxBytes: config.INGEST_FETCH_MAX_BYTES_PER_PARTITION * 8,
        minBytes: config.INGEST_FETCH_MIN_BYTES,
        maxWaitTimeMs: config.INGEST_LINGER_MS,
        partitionsConsumedConcurrently: config.INGEST_PARTITIONS_CONCURRENCY,
        sessionTimeoutMs: config.INGEST_SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: Math.min(1_000, Math.floor(config.INGEST_SESSION_TIMEOUT_MS / 3)),
      });
      const running = consumer;
      health.register('kafka', () => running.isRunning());
      health.register('warehouse', () => ping(pool));
      health.register('rabbitmq', () => amqpClient.isConnected());
      const handler = createArrivalHandler({
        pool,
        deadLetterProducer: producer,
        deadLetterTopic: config.INGEST_DEAD_LETTER_TOPIC,
        labelsTopic: config.INGEST_LABELS_TOPIC,
        maxBatchMessages: config.INGEST_BATCH_MAX_MESSAGES,
        maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_MS,
        metrics,
        logger: logger.child({ component: 'arrival-handler' }),
        onEventEnqueued: () => relay?.wake(),
      });
      health.register('partitions', () => {
        const stuck = handler.failingPartitions(Date.now() - config.INGEST_STUCK_AFTER_MS);
        if (stuck.length > 0) {
          throw new Error(
            `warehouse writes failing for over ${config.INGEST_STUCK_AFTER_MS} ms on ${stuck.join(', ')}`,
          );
        }
        return true;
      });
      ops.phase('joining the consumer group');
      relay.start();
      await running.run({
        topics:
          pattern === undefined
            ? [...config.INGEST_TOPICS, config.INGEST_LABELS_TOPIC]
            : [pattern, config.INGEST_LABELS_TOPIC],
        handler: handler.handle,
        onFatal,
      });
      ops.started();
      logger.info({ port: listeningPort, groupId: config.INGEST_GROUP_ID }, 'ingest running');
    },
    stop,
  };
}
