import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { FraudScoreV1 } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel, loadBackend } from '@streamtrain/model';
import { createSimulation, eventTimeMs, toKafkaRecord } from '@streamtrain/simulator';
import type { SimulatedEvent } from '@streamtrain/simulator';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  readMessages,
  removeTestExchange,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { inTransaction, registerModelVersion } from '@streamtrain/warehouse';
import { REPO_ROOT, startService, startStack, stopStack, waitUntilReady } from './stack';
import type { RunningService } from './stack';

jest.setTimeout(300_000);

const DAY_MS = 86_400_000;
/** Days landed before the scorer starts (its warm-up), then days streamed through both. */
const WARM_DAYS = 31;
const STREAMED_DAYS = 3;

/**
 * Train/serve skew check: the pipeline computes features from the warehouse in batches, the
 * scorer from its online state (warmed from the warehouse, then kept current from the stream).
 * Streamed day by day, every transaction must get the very same feature values from both.
 * Each day's labels go first, so both have seen them before the transactions they could inform
 * (a label that arrives after a transaction it could inform reaches neither in time).
 */
describe('train/serve feature equality', () => {
  let schema: TestSchema;
  let topics: TestTopics;
  let exchange: string;
  const services: RunningService[] = [];
  const count = async (sql: string): Promise<number> =>
    Number((await schema.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]?.n);

  beforeAll(async () => {
    schema = createTestSchema();
    topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq', 'tx.scores']);
    exchange = uniqueExchange();
  });

  afterAll(async () => {
    const codes = await stopStack(services);
    await topics.remove();
    await removeTestExchange(exchange);
    await schema.drop();
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  it('when a simulated day streams through the scorer and the pipeline, then every transaction gets identical features from both', async () => {
    const simulation = createSimulation({
      customers: 150,
      terminals: 300,
      days: WARM_DAYS + STREAMED_DAYS,
      seed: 5,
      channelWeights: { web: 1 },
    });
    const days = new Map<number, SimulatedEvent[]>();
    for (const event of simulation.events()) {
      const day = Math.floor((eventTimeMs(event) - simulation.startMs) / DAY_MS);
      if (day >= WARM_DAYS + STREAMED_DAYS) continue;
      days.set(day, [...(days.get(day) ?? []), event]);
    }
    const topicOf = (event: SimulatedEvent): string =>
      event.kind === 'transaction'
        ? (topics.names['tx.web'] as string)
        : (topics.names['tx.labels'] as string);
    const producer = await topics.kafka.producer();
    const send = async (events: readonly SimulatedEvent[]): Promise<void> => {
      for (const kind of ['label', 'transaction'] as const) {
        const ofKind = events.filter((event) => event.kind === kind);
        if (ofKind.length === 0) continue;
        await producer.send(
          topicOf(ofKind[0] as SimulatedEvent),
          ofKind.map((event) => {
            const { key, value } = toKafkaRecord(event);
            return { key, value };
          }),
        );
      }
    };
    let sentTx = 0;
    let sentLabels = 0;
    const tally = (events: readonly SimulatedEvent[]): void => {
      sentTx += events.filter((event) => event.kind === 'transaction').length;
      sentLabels += events.filter((event) => event.kind === 'label').length;
    };
    const landed = async (): Promise<void> => {
      await waitFor(
        async () => [await count('transactions'), await count('labels')],
        ([tx, labels]) => tx === sentTx && labels === sentLabels,
        {
          timeoutMs: 60_000,
          description: `${sentTx} transactions and ${sentLabels} labels landed`,
        },
      );
      await waitFor(
        () => count('features'),
        (n) => n === sentTx,
        { timeoutMs: 60_000, description: `${sentTx} feature vectors` },
      );
    };

    const servers = testServers();
    const options = {
      env: {
        AMQP_URL: servers.amqpUrl,
        AMQP_EXCHANGE: exchange,
        DATABASE_URL: servers.databaseUrl,
        WAREHOUSE_SCHEMA: schema.schema,
        KAFKA_BROKERS: servers.kafkaBrokers.join(','),
        LOG_LEVEL: 'info',
      },
      serviceEnv: {
        ingest: {
          INGEST_TOPICS: topics.names['tx.web'] as string,
          INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
          INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
          INGEST_GROUP_ID: uniqueName('parity'),
          INGEST_LINGER_MS: '50',
        },
        scorer: {
          SCORER_API_TOKEN: 'parity-token-0123456789',
          SCORER_TOPICS: topics.names['tx.web'] as string,
          SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
          SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
          SCORER_GROUP_ID: uniqueName('parity-scorer'),
          // Only the streamed days are scored; the warm days reach the scorer through the warehouse.
          SCORER_FROM_BEGINNING: 'false',
        },
      },
      ports: { ingest: await freePort(), pipeline: await freePort(), scorer: await freePort() },
      logDir: path.join(REPO_ROOT, '.local', 'e2e', schema.schema),
    };
    services.push(...(await startStack(options, ['ingest', 'pipeline'])));

    const warm = [...Array(WARM_DAYS).keys()].flatMap((day) => days.get(day) ?? []);
    tally(warm);
    await send(warm);
    await landed();

    // A champion (untrained: the features, not the score, are under test) for the scorer to load.
    await loadBackend({ preferred: 'auto', logger: testLogger });
    const model = FraudModel.create(featureNames(), { seed: 1 });
    const artifact = await model.toArtifact();
    model.dispose();
    await inTransaction(schema.pool, (client) =>
      registerModelVersion(client, {
        versionId: randomUUID(),
        modelName: 'fraud',
        parentVersionId: null,
        promote: true,
        gateReason: 'feature parity test',
        metrics: { auc: null, averagePrecision: null, examples: 0, positives: 0 },
        championMetrics: null,
        lineage: {
          exampleSetIds: [],
          sourceBatchIds: [],
          offsets: [],
          labelCutoff: null,
          featureSetVersion: FEATURE_SET_VERSION,
          parentVersionId: null,
        },
        artifact,
        backend: 'test',
        trainedSamples: 0,
      }),
    );
    const scorer = startService('scorer', options);
    services.push(scorer);
    await waitUntilReady(scorer, 60_000, '/readyz');
    const stateLabels = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${scorer.port}/metrics`)).text();
      return Number(/streamtrain_scorer_state_labels\{[^}]*\} (\d+)/.exec(text)?.[1] ?? -1);
    };

    const streamedIds = new Set<string>();
    for (let day = WARM_DAYS; day < WARM_DAYS + STREAMED_DAYS; day += 1) {
      const events = days.get(day) ?? [];
      const labels = events.filter((event) => event.kind === 'label');
      const txs = events.filter((event) => event.kind === 'transaction');
      tally(labels);
      await send(labels);
      await waitFor(
        async () => [await count('labels'), await stateLabels()],
        ([warehouse, online]) => warehouse === sentLabels && online === sentLabels,
        { timeoutMs: 60_000, description: `day ${day}: ${sentLabels} labels in both` },
      );
      tally(txs);
      await send(txs);
      for (const event of txs)
        if (event.kind === 'transaction') streamedIds.add(event.tx.transactionId);
      await landed();
    }
    await producer.disconnect();

    const messages = await readMessages(
      topics.kafka,
      topics.names['tx.scores'] as string,
      streamedIds.size,
      60_000,
    );
    const served = new Map(
      messages
        .map((message) => FraudScoreV1.parse(JSON.parse(message.value?.toString() ?? '')))
        .map((score) => [score.transactionId, score.features]),
    );
    expect(new Set(served.keys())).toEqual(streamedIds);
    const { rows } = await schema.pool.query<{ transaction_id: string; feature_values: number[] }>(
      'SELECT transaction_id, feature_values FROM features WHERE transaction_id = ANY($1::text[])',
      [[...streamedIds]],
    );
    expect(rows.length).toBe(streamedIds.size);
    const mismatches = rows.filter(
      (row) =>
        JSON.stringify(row.feature_values) !== JSON.stringify(served.get(row.transaction_id)),
    );
    expect(mismatches.slice(0, 3)).toEqual([]);
    // Some streamed transactions see known fraud at their terminal: the check is not vacuous.
    const risk = featureNames().indexOf('terminal_id_risk_30day_window');
    expect(rows.some((row) => (row.feature_values[risk] ?? 0) > 0)).toBe(true);
  });
});
