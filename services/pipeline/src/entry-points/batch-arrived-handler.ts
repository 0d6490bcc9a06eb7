import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { BatchArrivedV1, ROUTING_KEYS, decodeEvent } from '@streamtrain/contracts';
import type { FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures, historyRange } from '@streamtrain/features';
import type { Logger } from '@streamtrain/observability';
import {
  enqueueOutbox,
  inTransaction,
  isPipelineBatchDone,
  lockPipelineState,
  matureExamples,
  readBatchLabels,
  readBatchTransactions,
  readHistory,
  readKnownLabels,
  recordPipelineBatch,
  savePipelineState,
  upsertFeatures,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { advanceWatermark } from '../domain/watermark';
import type { PipelineMetrics } from '../adapters/pipeline-metrics';

/** What the batch-arrived handler needs. */
export interface BatchArrivedDeps {
  pool: Pool;
  maturityMs: number;
  metrics: PipelineMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
}

/**
 * Handles `batch.arrived`: reads the batch from the warehouse, computes point-in-time features
 * with the shared feature code, matures the examples whose label is now known, and announces
 * `features.ready` through the outbox, all in one transaction. A redelivered batch is acked
 * without effect.
 */
export function createBatchArrivedHandler(
  deps: BatchArrivedDeps,
): (event: IncomingEvent) => Promise<Verdict> {
  return async (event) => {
    const decoded = decodeEvent(BatchArrivedV1, event.content, 'batch.arrived');
    if (!decoded.ok) return { action: 'dead-letter', code: decoded.code, reason: decoded.reason };
    const batch = decoded.value;
    if (await isPipelineBatchDone(deps.pool, batch.batchId)) {
      deps.metrics.duplicates.inc();
      return { action: 'ack' };
    }
    const endTimer = deps.metrics.batchSeconds.startTimer();
    const targets = await readBatchTransactions(deps.pool, batch.batchId);
    const batchLabels = await readBatchLabels(deps.pool, batch.batchId);
    let vectors: ReturnType<typeof computeFeatures> = [];
    if (targets.length > 0) {
      const range = historyRange(targets);
      const history = await readHistory(
        deps.pool,
        [...new Set(targets.map((tx) => tx.customerId))],
        [...new Set(targets.map((tx) => tx.terminalId))],
        range.fromMs,
        range.toMs,
      );
      const labels = await readKnownLabels(
        deps.pool,
        history.map((tx) => tx.transactionId),
        range.toMs,
      );
      vectors = computeFeatures(targets, history, labels);
    }
    const outcome = await inTransaction(deps.pool, async (client) => {
      const state = await lockPipelineState(client);
      // Checked again under the state lock: another instance may have finished it meanwhile.
      const { rowCount } = await client.query(
        'SELECT 1 FROM pipeline_batches WHERE batch_id = $1',
        [batch.batchId],
      );
      if ((rowCount ?? 0) > 0) return null;
      const featureCount = await upsertFeatures(
        client,
        batch.batchId,
        FEATURE_SET_VERSION,
        vectors,
      );
      const advance = advanceWatermark(
        state.watermarkMs,
        [...targets.map((tx) => tx.eventTimeMs), ...batchLabels.map((label) => label.reportedAtMs)],
        deps.maturityMs,
      );
      let exampleCount = 0;
      if (advance.watermarkMs !== null && advance.matureBeforeMs !== null) {
        exampleCount = await matureExamples(client, {
          exampleSetId: batch.batchId,
          watermarkMs: advance.watermarkMs,
          matureBeforeMs: advance.matureBeforeMs,
          previousMatureBeforeMs: state.maturedUntilMs,
          batchId: batch.batchId,
        });
      }
      const maturedUntilMs =
        state.maturedUntilMs === null ||
        (advance.matureBeforeMs ?? -Infinity) > state.maturedUntilMs
          ? advance.matureBeforeMs
          : state.maturedUntilMs;
      await savePipelineState(client, { watermarkMs: advance.watermarkMs, maturedUntilMs });
      await recordPipelineBatch(client, {
        batchId: batch.batchId,
        featureCount,
        exampleCount,
        watermarkMs: advance.watermarkMs,
      });
      const ready: FeaturesReady = {
        schemaVersion: 1,
        type: 'features.ready',
        batchId: batch.batchId,
        featureSetVersion: FEATURE_SET_VERSION,
        featureCount,
        exampleCount,
        watermark:
          advance.watermarkMs === null ? null : new Date(advance.watermarkMs).toISOString(),
        occurredAt: new Date().toISOString(),
      };
      await enqueueOutbox(client, 'pipeline_outbox', {
        eventId: `features:${batch.batchId}`,
        routingKey: ROUTING_KEYS.featuresReady,
        payload: ready,
      });
      return ready;
    });
    if (outcome === null) {
      deps.metrics.duplicates.inc();
      return { action: 'ack' };
    }
    deps.onEventEnqueued();
    deps.metrics.features.inc(outcome.featureCount);
    deps.metrics.examples.inc(outcome.exampleCount);
    deps.metrics.batches.inc();
    if (outcome.watermark !== null)
      deps.metrics.watermark.set(Date.parse(outcome.watermark) / 1000);
    endTimer();
    deps.logger.info(
      {
        batchId: batch.batchId,
        features: outcome.featureCount,
        examples: outcome.exampleCount,
        watermark: outcome.watermark,
      },
      'features ready',
    );
    return { action: 'ack' };
  };
}
