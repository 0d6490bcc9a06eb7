import type { AmqpClient, IncomingEvent, Verdict } from '@streamtrain/amqp';
import { kafkaConnectionOf } from '@streamtrain/config';
import { ModelPublishedV1, ROUTING_KEYS, decodeEvent } from '@streamtrain/contracts';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaAdmin, KafkaConsumer, KafkaProducer } from '@streamtrain/kafka';
import { loadBackend } from '@streamtrain/model';
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
} from '@streamtrain/service-kit';
import {
  migrate,
  ping,
  readAlias,
  readLabelsReportedSince,
  readNewestEventTime,
  readTransactionsSince,
} from '@streamtrain/warehouse';
import type { ScorerConfig } from './config';
import { Champion } from './adapters/champion';
import type { ServingModel } from './adapters/champion';
import { createScorerMetrics } from './adapters/scorer-metrics';
import { OnlineFeatureState } from './domain/feature-state';
import { LiveQuality } from './domain/live-quality';
import { registerHttpApi } from './entry-points/http-api';
import { createStateFeed } from './entry-points/state-feed';
import { createStreamScorer } from './entry-points/stream-scorer';
import { TransactionScorer } from './scoring/transaction-scorer';

const DAY_MS = 86_400_000;
/** Event time between two sweeps of the state's old history. */
const EVICT_EVERY_MS = 3_600_000;

/** The scorer service with what tests and operators ask of it. */
export interface ScorerService extends Service {
  /** The HTTP port (known after `start`). */
  port(): number;
  /** The model version serving, if any. */
  serving(): ServingModel | undefined;
  /** The partitions this instance scores, per topic. */
  assignment(): Record<string, number[]>;
}

/**
 * Kafka `tx.<source>` → online features (warmed from the warehouse, kept current from the stream
 * and `tx.labels`) → the champion → `tx.scores`; the same scoring over HTTP; a new champion on
 * every `model.published`, swapped in without a failed request; live quality per version.
 */
export function createScorerService(
  config: ScorerConfig,
  logger: Logger,
  onFatal: (error: Error) => void,
): ScorerService {
  const registry = createMetricsRegistry('scorer');
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
  const state = new OnlineFeatureState({ slackMs: config.SCORER_STATE_SLACK_DAYS * DAY_MS });
  const quality = new LiveQuality({
    maturityMs: config.SCORER_QUALITY_MATURITY_DAYS * DAY_MS,
    window: config.SCORER_QUALITY_WINDOW,
    versions: config.SCORER_QUALITY_VERSIONS,
    maxPending: config.SCORER_QUALITY_MAX_PENDING,
  });
  const champion = new Champion();
  const scorer = new TransactionScorer({ state, champion, threshold: config.SCORER_THRESHOLD });
  const metrics = createScorerMetrics(registry, {
    quality: () => quality.report(),
    modelVersion: () => champion.serving?.version ?? 0,
    stateTransactions: () => state.transactions,
    stateLabels: () => state.labels,
    qualityPending: () => quality.pendingCount,
  });
  const log = {
    model: logger.child({ component: 'champion' }),
    stream: logger.child({ component: 'stream' }),
  };
  const inputTopics = [...config.SCORER_TOPICS];

  let amqp: AmqpClient | undefined;
  let admin: KafkaAdmin | undefined;
  let producer: KafkaProducer | undefined;
  let feed: KafkaConsumer | undefined;
  let scoring: KafkaConsumer | undefined;
  let stopping = false;
  let listeningPort = 0;
  let progressMs = Number.NEGATIVE_INFINITY;
  let lastEvictMs = Number.NEGATIVE_INFINITY;

  const onProgress = (eventTimeMs: number): void => {
    if (eventTimeMs <= progressMs) return;
    progressMs = eventTimeMs;
    if (progressMs - lastEvictMs < EVICT_EVERY_MS) return;
    lastEvictMs = progressMs;
    const dropped = state.evictBefore(state.retentionHorizon(progressMs));
    if (dropped > 0) log.stream.debug({ dropped, kept: state.transactions }, 'old history dropped');
  };

  const startScoring = once(async () => {
    if (stopping || producer === undefined) return;
    const consumer = kafka.consumer({
      groupId: config.SCORER_GROUP_ID,
      maxBytesPerPartition: config.SCORER_FETCH_MAX_BYTES_PER_PARTITION,
      maxWaitTimeMs: config.SCORER_LINGER_MS,
      partitionsConsumedConcurrently: config.SCORER_PARTITIONS_CONCURRENCY,
    });
    scoring = consumer;
    health.register('kafka-scoring', () => consumer.isRunning());
    await consumer.run({
      topics: inputTopics,
      fromBeginning: config.SCORER_FROM_BEGINNING,
      handler: createStreamScorer({
        state,
        scorer,
        quality,
        producer,
        scoresTopic: config.SCORER_SCORES_TOPIC,
        chunkSize: config.SCORER_CHUNK_SIZE,
        maxRequestBytes: config.SCORER_PRODUCE_MAX_BYTES,
        metrics,
        logger: log.stream,
        onProgress,
      }),
      onFatal,
    });
    log.stream.info({ groupId: config.SCORER_GROUP_ID, topics: inputTopics }, 'scoring the stream');
  });

  /** Loads whatever the registry's `champion` alias names; the alias, not the event, is the truth. */
  const reloadChampion = async (): Promise<void> => {
    const found = await readAlias(pool, config.SCORER_MODEL_NAME, 'champion');
    if (found === null) return;
    if (champion.serving?.versionId === found.record.versionId) return;
    try {
      const previous = champion.serving;
      const serving = await champion.load(found.record, found.artifact);
      metrics.modelLoads.inc({ outcome: 'loaded' });
      log.model.info(
        { versionId: serving.versionId, version: serving.version, previous: previous?.versionId },
        'champion serving',
      );
    } catch (error) {
      metrics.modelLoads.inc({ outcome: 'refused' });
      log.model.error(
        { err: error, versionId: found.record.versionId },
        'champion refused; the previous version keeps serving',
      );
      return;
    }
    await startScoring();
  };

  const onModelPublished = async (event: IncomingEvent): Promise<Verdict> => {
    const decoded = decodeEvent(ModelPublishedV1, event.content, 'model.published');
    if (!decoded.ok) return { action: 'dead-letter', code: decoded.code, reason: decoded.reason };
    if (decoded.value.modelName === config.SCORER_MODEL_NAME) await reloadChampion();
    return { action: 'ack' };
  };

  const warmUp = async (): Promise<void> => {
    const newest = await readNewestEventTime(pool);
    if (newest === null) return;
    const fromMs = state.retentionHorizon(newest);
    const [transactions, labels] = await Promise.all([
      readTransactionsSince(pool, fromMs),
      readLabelsReportedSince(pool, fromMs),
    ]);
    for (const tx of transactions) state.addTransaction(tx);
    for (const label of labels) {
      state.addLabel(label);
      // A backlog scored after a restart finds the labels that landed while it was down.
      quality.recordLabel(label);
    }
    progressMs = Math.max(progressMs, newest);
    log.stream.info(
      { transactions: transactions.length, labels: labels.length, from: new Date(fromMs) },
      'online state warmed from the warehouse',
    );
  };

  const waitUntilJoined = async (consumer: KafkaConsumer, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!consumer.isRunning()) {
      if (Date.now() > deadline) throw new Error('the state feed did not join its group in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const aborted = new AbortController();

  const stop = once(async () => {
    stopping = true;
    aborted.abort(new Error('scorer stopped while starting'));
    health.markShuttingDown();
    const errors = await runShutdownSteps(
      [
        { name: 'stop scoring and finish the batch in hand', run: () => scoring?.disconnect() },
        { name: 'stop the state feed', run: () => feed?.disconnect() },
        { name: 'finish HTTP requests and close', run: () => http.close() },
        { name: 'close RabbitMQ', run: () => amqp?.close() },
        { name: 'close scores producer', run: () => producer?.disconnect() },
        { name: 'close Kafka admin', run: () => admin?.disconnect() },
        { name: 'close warehouse pool', run: () => pool.end() },
        { name: 'stop serving the model', run: () => champion.dispose() },
      ],
      logger,
    );
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} shutdown step(s) failed`);
  });

  return {
    port: () => listeningPort,
    serving: () => champion.serving,
    assignment: () => scoring?.assignment() ?? {},
    async start() {
      // The routes exist from the first moment the ops server listens; scoring answers 503 (no
      // model) until the champion is loaded, after the online state is warm.
      await registerHttpApi(http, {
        scorer,
        champion,
        quality,
        token: config.SCORER_API_TOKEN,
        maxBatch: config.SCORER_HTTP_MAX_BATCH,
        metrics,
      });
      const ops = await listenEarly(http, health, {
        port: config.HTTP_PORT,
        host: config.HTTP_HOST,
      });
      listeningPort = ops.port;
      ops.phase('migrating the warehouse');
      await migrate({ databaseUrl: config.DATABASE_URL, schema: config.WAREHOUSE_SCHEMA, logger });
      ops.phase('loading the tfjs backend');
      await loadBackend({
        preferred: config.TFJS_BACKEND,
        logger: logger.child({ component: 'tfjs' }),
      });
      const amqpClient = await connectAmqpWhenReachable(
        { url: config.AMQP_URL, exchange: config.AMQP_EXCHANGE, logger, onFatal },
        { ops, signal: aborted.signal },
      );
      amqp = amqpClient;
      await connectKafkaWhenReachable(
        kafka,
        { brokers: config.KAFKA_BROKERS, logger },
        { ops, signal: aborted.signal },
      );
      admin = await kafka.admin();
      if (config.SCORER_CREATE_TOPICS) {
        await admin.ensureTopics(
          [...inputTopics, config.SCORER_LABELS_TOPIC, config.SCORER_SCORES_TOPIC].map((topic) => ({
            topic,
            partitions: config.SCORER_TOPIC_PARTITIONS,
          })),
        );
      }
      producer = await kafka.producer();
      health.register('warehouse', () => ping(pool));
      health.register('rabbitmq', () => amqpClient.isConnected());
      health.register('champion', () => champion.serving !== undefined);

      // The feed joins before the warm-up reads the warehouse, so what lands in between is in one
      // or the other (both, usually: a row is kept once).
      const stateFeed = kafka.consumer({
        groupId: `${config.SCORER_GROUP_ID}.state.${config.SCORER_INSTANCE_ID}`,
        maxBytesPerPartition: config.SCORER_FETCH_MAX_BYTES_PER_PARTITION,
        maxWaitTimeMs: config.SCORER_LINGER_MS,
      });
      feed = stateFeed;
      ops.phase("joining the state feed's consumer group");
      health.register('kafka-state', () => stateFeed.isRunning());
      await stateFeed.run({
        topics: [...inputTopics, config.SCORER_LABELS_TOPIC],
        fromBeginning: false,
        handler: createStateFeed({ state, quality, labelsTopic: config.SCORER_LABELS_TOPIC }),
        onFatal,
      });
      await waitUntilJoined(stateFeed);
      ops.phase('warming the online state from the warehouse');
      await warmUp();
      ops.phase('loading the champion');
      // Bound before the registry is read, so a promotion in between is not missed.
      await amqpClient.consume({
        queue: `${config.AMQP_EXCHANGE}.scorer.${config.SCORER_INSTANCE_ID}`,
        exclusive: true,
        routingKeys: [ROUTING_KEYS.modelPublished],
        prefetch: 1,
        handler: onModelPublished,
        // The exclusive queue went with the old connection: a promotion meanwhile is read here.
        onResumed: () => reloadChampion(),
      });
      await reloadChampion();
      ops.started();
      logger.info(
        {
          port: listeningPort,
          instanceId: config.SCORER_INSTANCE_ID,
          serving: champion.serving?.versionId ?? null,
        },
        'scorer running',
      );
    },
    stop,
  };
}
