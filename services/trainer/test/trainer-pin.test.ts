import { drainQueue, topologyOf } from '@streamtrain/amqp';
import type { AmqpClient } from '@streamtrain/amqp';
import type { FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures } from '@streamtrain/features';
import type { EventService } from '@streamtrain/service-kit';
import { createEventHarness, testLogger, testServers, waitFor } from '@streamtrain/testkit';
import type { EventHarness, TestSchema } from '@streamtrain/testkit';
import {
  inTransaction,
  pinModel,
  readBatchTransactions,
  recordPipelineBatch,
  upsertFeatures,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import { matureExamples } from './mature';
import { loadTrainerConfig } from '../src/config';
import { createTrainerService } from '../src/service';

const TRAINER_TOKEN = 'trainer-token-0123456789abcdef';

jest.setTimeout(90_000);

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

describe('trainer under a pin', () => {
  let schema: TestSchema;
  let exchange: string;
  let service: EventService;
  let amqp: AmqpClient;

  let harness: EventHarness;

  beforeEach(async () => {
    harness = await createEventHarness();
    ({ schema, exchange, amqp } = harness);
    const config = loadTrainerConfig({
      ...harness.env,
      TRAINER_API_TOKEN: TRAINER_TOKEN,
      TRAINER_MIN_EXAMPLES: '100',
      TRAINER_GATE_MIN_EXAMPLES: '50',
      TRAINER_GATE_MIN_POSITIVES: '2',
      TFJS_BACKEND: 'cpu',
    });
    service = createTrainerService(config, testLogger, (error) => {
      throw error;
    });
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
    await harness.dispose();
  });

  /** Lands 600 transactions (every 12th a large fraud), their features and matured examples, as ingest and pipeline would. */
  async function seedBatch(batchId: string, offset: number): Promise<FeaturesReady> {
    const transactions = Array.from({ length: 600 }, (_, n) => {
      const i = offset + n;
      const fraud = i % 12 === 0;
      return {
        transactionId: `t${i}`,
        customerId: `c${i % 40}`,
        terminalId: `m${i % 25}`,
        amount: fraud ? 400 + (i % 90) : 5 + (i % 80),
        eventTime: new Date(T0 + (i / 100) * DAY).toISOString(),
        channel: 'web' as const,
        sourceTopic: 'tx.web',
        sourcePartition: 0,
        sourceOffset: String(i),
      };
    });
    const labels = transactions
      .filter((_, n) => (offset + n) % 12 === 0)
      .map((tx, n) => ({
        transactionId: tx.transactionId,
        isFraud: true,
        reportedAt: tx.eventTime,
        sourceTopic: 'tx.labels',
        sourcePartition: 0,
        sourceOffset: String(offset + n),
      }));
    await inTransaction(schema.pool, async (client) => {
      await writeArrivalBatch(client, {
        batchId,
        transactions,
        labels,
        offsets: [
          {
            topic: 'tx.web',
            partition: 0,
            firstOffset: String(offset),
            lastOffset: String(offset + 599),
          },
        ],
      });
      const stored = await readBatchTransactions(client, batchId);
      await upsertFeatures(
        client,
        batchId,
        FEATURE_SET_VERSION,
        computeFeatures(stored, stored, []),
      );
      const watermarkMs = Math.max(...stored.map((tx) => tx.eventTimeMs)) + 30 * DAY;
      const exampleCount = await matureExamples(client, {
        exampleSetId: batchId,
        watermarkMs,
        matureBeforeMs: watermarkMs,
        previousMatureBeforeMs: null,
        batchIds: [batchId],
      });
      await recordPipelineBatch(client, {
        batchId,
        featureCount: stored.length,
        exampleCount,
        watermarkMs,
      });
    });
    return {
      schemaVersion: 1,
      type: 'features.ready',
      batchId,
      featureSetVersion: FEATURE_SET_VERSION,
      featureCount: 600,
      exampleCount: 600,
      watermark: new Date(T0 + 40 * DAY).toISOString(),
      occurredAt: new Date().toISOString(),
    };
  }

  it('when the model is pinned, then the trainer registers versions but keeps the champion and announces nothing', async () => {
    await pinModel(schema.pool, { modelName: 'fraud', actor: 'alice', reason: 'incident' });
    await amqp.publish({
      routingKey: 'features.ready',
      messageId: 'r1',
      body: await seedBatch('batch-1', 0),
    });
    const result = await waitFor(
      () =>
        schema.pool.query<{ status: string; gate_reason: string }>(
          'SELECT status, gate_reason FROM model_versions',
        ),
      (r) => r.rows.length === 1,
    );
    expect(result.rows[0]?.status).toBe('rejected');
    expect(result.rows[0]?.gate_reason).toMatch(/promotion frozen by alice's pin/);
    expect(await harness.count(`model_aliases WHERE alias = 'champion'`)).toBe(0);
    expect(await harness.count('trainer_outbox')).toBe(0);
    expect(
      await drainQueue(testServers().amqpUrl, topologyOf(exchange).modelPublished.queue),
    ).toHaveLength(0);
  });
});
