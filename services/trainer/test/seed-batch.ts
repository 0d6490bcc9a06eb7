import type { FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures } from '@streamtrain/features';
import {
  inTransaction,
  readBatchTransactions,
  recordPipelineBatch,
  upsertFeatures,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { matureExamples } from './mature';

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

/**
 * Lands 600 transactions (one in twelve a fraud, labelled at once) as ingest would, computes
 * their features and matures them as the pipeline would, 30 event days later; returns the
 * `features.ready` the pipeline would announce for the batch.
 */
export async function seedBatch(
  pool: Pool,
  batchId: string,
  offset: number,
): Promise<FeaturesReady> {
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
  await inTransaction(pool, async (client) => {
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
    await upsertFeatures(client, batchId, FEATURE_SET_VERSION, computeFeatures(stored, stored, []));
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
