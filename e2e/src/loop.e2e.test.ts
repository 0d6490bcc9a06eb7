import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { decodeEvent, FraudScoreV1, ModelPublishedV1 } from '@streamtrain/contracts';
import { drainQueue, topologyOf } from '@streamtrain/amqp';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  readMessages,
  removeTestExchange,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { REPO_ROOT, startStack, stopStack } from './stack';
import type { RunningService } from './stack';

jest.setTimeout(240_000);

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2018-04-01T00:00:00Z');
const N = 3_000;

/** N transactions over 20 days from 150 customers; every 40th is fraud and labelled 2 days later. */
function feed(): { transactions: string[]; labels: string[] } {
  const transactions: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < N; i += 1) {
    const customer = `c${i % 150}`;
    const fraud = i % 40 === 0;
    const eventTime = new Date(START_MS + Math.floor((i / N) * 20 * DAY_MS)).toISOString();
    const tx = {
      schemaVersion: 1,
      transactionId: `e2e-${i}`,
      customerId: customer,
      terminalId: `m${i % 97}`,
      amount: fraud ? 300 + (i % 50) : 10 + (i % 70),
      eventTime,
      channel: 'web',
    };
    transactions.push(`${customer}|${JSON.stringify(tx)}`);
    if (fraud) {
      const reportedAt = new Date(Date.parse(eventTime) + 2 * DAY_MS).toISOString();
      labels.push(
        `${customer}|${JSON.stringify({ schemaVersion: 1, transactionId: tx.transactionId, isFraud: true, reportedAt })}`,
      );
    }
  }
  return { transactions, labels };
}

/** Produces `lines` (`key|value`) with kcat: a producer from outside the project. */
function kcatProduce(topic: string, lines: readonly string[]): void {
  execFileSync('kcat', ['-P', '-b', testServers().kafkaBrokers.join(','), '-t', topic, '-K', '|'], {
    input: `${lines.join('\n')}\n`,
  });
}

describe('the continuous-training loop, each service its own process', () => {
  let schema: TestSchema;
  let topics: TestTopics;
  let exchange: string;
  let services: RunningService[] = [];

  beforeAll(async () => {
    schema = createTestSchema();
    topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq', 'tx.scores']);
    exchange = uniqueExchange();
    const servers = testServers();
    services = await startStack({
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
          INGEST_GROUP_ID: uniqueName('e2e'),
        },
        pipeline: { PIPELINE_MATURITY_DAYS: '3' },
        trainer: {
          TRAINER_API_TOKEN: 'e2e-trainer-token-0123456789',
          TRAINER_GATE_MIN_EXAMPLES: '20',
          TRAINER_GATE_MIN_POSITIVES: '1',
          TRAINER_MIN_EXAMPLES: '500',
        },
        scorer: {
          SCORER_API_TOKEN: 'e2e-token-0123456789',
          SCORER_TOPICS: topics.names['tx.web'] as string,
          SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
          SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
          SCORER_GROUP_ID: uniqueName('e2e-scorer'),
        },
      },
      ports: {
        ingest: await freePort(),
        pipeline: await freePort(),
        trainer: await freePort(),
        scorer: await freePort(),
      },
      logDir: path.join(REPO_ROOT, '.local', 'e2e', schema.schema),
    });
  });

  afterAll(async () => {
    const codes = await stopStack(services);
    await topics.remove();
    await removeTestExchange(exchange);
    await schema.drop();
    // Every service stopped cleanly on SIGTERM.
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  const count = async (sql: string): Promise<number> =>
    Number((await schema.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]?.n);

  it('when N transactions and their labels are produced from outside, then N rows, N feature vectors and a model version that names its batches appear', async () => {
    const { transactions, labels } = feed();
    kcatProduce(topics.names['tx.web'] as string, transactions);
    kcatProduce(topics.names['tx.labels'] as string, labels);

    await waitFor(
      () => count('transactions'),
      (n) => n === N,
      { timeoutMs: 60_000, description: `${N} transactions` },
    );
    await waitFor(
      () => count('features'),
      (n) => n === N,
      { timeoutMs: 90_000, description: `${N} feature vectors` },
    );
    const versions = await waitFor(
      () =>
        schema.pool.query<{
          version_id: string;
          lineage: {
            sourceBatchIds: string[];
            offsets: { topic: string }[];
            exampleSetIds: string[];
          };
        }>('SELECT version_id, lineage FROM model_versions ORDER BY version'),
      (result) => result.rows.length > 0,
      { timeoutMs: 90_000, description: 'a model version' },
    );
    const first = versions.rows[0];
    expect(first?.lineage.exampleSetIds.length).toBeGreaterThan(0);
    expect(first?.lineage.sourceBatchIds.length).toBeGreaterThan(0);
    const batchIds = new Set(
      (
        await schema.pool.query<{ batch_id: string }>('SELECT batch_id FROM ingest_batches')
      ).rows.map((row) => row.batch_id),
    );
    for (const id of first?.lineage.sourceBatchIds ?? []) expect(batchIds.has(id)).toBe(true);
    expect(first?.lineage.offsets.every((range) => range.topic === topics.names['tx.web'])).toBe(
      true,
    );

    // A promoted version is announced on RabbitMQ.
    const announcements = await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(exchange).modelPublished.queue),
      (messages) => messages.length > 0,
      { description: 'a model.published event' },
    );
    const published = decodeEvent(
      ModelPublishedV1,
      announcements[0]?.content ?? Buffer.alloc(0),
      'model.published',
    );
    expect(published.ok).toBe(true);
    const announced = published.ok ? published.value.versionId : '';
    const status = await schema.pool.query<{ status: string }>(
      'SELECT status FROM model_versions WHERE version_id = $1',
      [announced],
    );
    expect(['champion', 'retired']).toContain(status.rows[0]?.status);
  });

  it('when the trainer has promoted a champion, then every transaction gets a score on the scores topic from a promoted version', async () => {
    const messages = await readMessages(
      topics.kafka,
      topics.names['tx.scores'] as string,
      N,
      120_000,
    );
    const scores = messages.map((message) =>
      FraudScoreV1.parse(JSON.parse(message.value?.toString() ?? '')),
    );
    expect(new Set(scores.map((score) => score.transactionId)).size).toBe(N);
    const promoted = new Set(
      (
        await schema.pool.query<{ version_id: string }>(
          `SELECT version_id FROM model_versions WHERE status IN ('champion', 'retired')`,
        )
      ).rows.map((row) => row.version_id),
    );
    for (const score of scores) {
      expect(promoted.has(score.modelVersionId)).toBe(true);
      expect(score.exceeded).toBe(score.score >= score.threshold);
    }
    // The partition key of a score is the transaction's own (the customer id).
    expect(messages.every((message) => message.key?.toString().startsWith('c'))).toBe(true);
  });
});
