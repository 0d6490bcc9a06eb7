import { drainQueue, topologyOf } from '@streamtrain/amqp';
import type { AmqpClient } from '@streamtrain/amqp';
import { ModelPublishedV1 } from '@streamtrain/contracts';
import type { FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures } from '@streamtrain/features';
import type { EventService } from '@streamtrain/service-kit';
import { createEventHarness, testLogger, testServers, waitFor } from '@streamtrain/testkit';
import type { EventHarness, TestSchema } from '@streamtrain/testkit';
import {
  inTransaction,
  readBatchTransactions,
  recordPipelineBatch,
  saveTrainingExamples,
  upsertFeatures,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import { loadTrainerConfig } from '../src/config';
import { createTrainerService } from '../src/service';

const TRAINER_TOKEN = 'trainer-token-0123456789abcdef';

jest.setTimeout(90_000);

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

describe('trainer service', () => {
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
      const frauds = new Set(labels.map((label) => label.transactionId));
      const exampleCount = await saveTrainingExamples(
        client,
        batchId,
        watermarkMs,
        stored.map((tx) => ({
          transactionId: tx.transactionId,
          eventTimeMs: tx.eventTimeMs,
          label: frauds.has(tx.transactionId) ? 1 : 0,
          corrected: false,
        })),
      );
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

  const versions = () =>
    schema.pool.query<{
      version_id: string;
      version: number;
      status: string;
      lineage: { exampleSetIds: string[]; offsets: unknown[] };
    }>('SELECT version_id, version, status, lineage FROM model_versions ORDER BY version');

  it('when features are ready, then a model version is trained, registered with its lineage, promoted and announced', async () => {
    const ready = await seedBatch('batch-1', 0);
    await amqp.publish({ routingKey: 'features.ready', messageId: 'r1', body: ready });
    const result = await waitFor(versions, (r) => r.rows.length === 1, {
      description: 'a model version',
    });
    const version = result.rows[0];
    expect(version?.status).toBe('champion');
    expect(version?.lineage.exampleSetIds).toEqual(['batch-1']);
    expect(version?.lineage.offsets).toEqual([
      { topic: 'tx.web', partition: 0, firstOffset: '0', lastOffset: '599' },
    ]);
    const published = await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(exchange).modelPublished.queue),
      (messages) => messages.length === 1,
    );
    expect(
      ModelPublishedV1.parse(JSON.parse(published[0]?.content.toString() ?? '')).versionId,
    ).toBe(version?.version_id);

    // A second batch warm-starts from the first version.
    const next = await seedBatch('batch-2', 600);
    await amqp.publish({ routingKey: 'features.ready', messageId: 'r2', body: next });
    const both = await waitFor(versions, (r) => r.rows.length === 2);
    const parent = await schema.pool.query<{ parent_version_id: string }>(
      'SELECT parent_version_id FROM model_versions WHERE version = 2',
    );
    expect(parent.rows[0]?.parent_version_id).toBe(both.rows[0]?.version_id);
    const url = `http://127.0.0.1:${service.port()}/v1/models`;
    // The registry is shown only with the token.
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const models = (await fetch(url, {
      headers: { authorization: `Bearer ${TRAINER_TOKEN}` },
    }).then((response) => response.json())) as {
      versions: unknown[];
    };
    expect(models.versions).toHaveLength(2);
  });

  it('when a features.ready event is redelivered, then no second version is trained from it', async () => {
    const ready = await seedBatch('batch-1', 0);
    await amqp.publish({ routingKey: 'features.ready', messageId: 'r1', body: ready });
    await waitFor(versions, (r) => r.rows.length === 1);
    await amqp.publish({ routingKey: 'features.ready', messageId: 'r1-again', body: ready });
    await waitFor(
      () => fetch(`http://127.0.0.1:${service.port()}/metrics`).then((response) => response.text()),
      (text) => /streamtrain_trainer_deliveries_total\{[^}]*outcome="ack"[^}]*\} 2/.test(text),
    );
    expect((await versions()).rows).toHaveLength(1);
  });
});
