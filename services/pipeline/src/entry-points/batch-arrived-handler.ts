import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { BatchArrivedV1, ROUTING_KEYS, decodeEvent } from '@streamtrain/contracts';
import type { BatchArrived, FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures, historyRange } from '@streamtrain/features';
import type { FeatureVector } from '@streamtrain/features';
import type { Logger } from '@streamtrain/observability';
import {
  donePipelineBatches,
  enqueueOutbox,
  inTransaction,
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
import { Coalescer } from './coalescer';

/** What the batch-arrived handler needs. */
export interface BatchArrivedDeps {
  pool: Pool;
  maturityMs: number;
  metrics: PipelineMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
  /** Most batch events handled in one pass. @default 32 */
  maxGroup?: number;
  /** How long the first event of a pass waits for others. @default 20 */
  lingerMs?: number;
}

/**
 * Handles `batch.arrived`: reads the batches from the warehouse, computes point-in-time features
 * with the shared feature code, matures the examples whose label is now known, and announces one
 * `features.ready` per batch through the outbox, all in one transaction. Events that arrive
 * together (ingest writes one batch per partition) are handled in one pass, so the pipeline keeps
 * up however finely the stream is split. A redelivered batch is acknowledged without effect.
 */
export function createBatchArrivedHandler(
  deps: BatchArrivedDeps,
): (event: IncomingEvent) => Promise<Verdict> {
  const process = async (batches: readonly BatchArrived[]): Promise<void> => {
    const unique = [...new Map(batches.map((batch) => [batch.batchId, batch])).values()];
    const done = await donePipelineBatches(
      deps.pool,
      unique.map((batch) => batch.batchId),
    );
    deps.metrics.duplicates.inc(batches.length - unique.length + done.size);
    const fresh = unique.filter((batch) => !done.has(batch.batchId));
    if (fresh.length === 0) return;
    const endTimer = deps.metrics.batchSeconds.startTimer();
    const started = performance.now();
    const batchIds = fresh.map((batch) => batch.batchId);
    const [targets, batchLabels] = await Promise.all([
      readBatchTransactions(deps.pool, batchIds),
      readBatchLabels(deps.pool, batchIds),
    ]);
    let vectors: FeatureVector[] = [];
    let readMs = 0;
    let computeMs = 0;
    if (targets.length > 0) {
      const range = historyRange(targets);
      const [history, labels] = await Promise.all([
        readHistory(
          deps.pool,
          [...new Set(targets.map((tx) => tx.customerId))],
          [...new Set(targets.map((tx) => tx.terminalId))],
          range.fromMs,
          range.toMs,
        ),
        readKnownLabels(deps.pool, range.fromMs, range.toMs),
      ]);

      readMs = performance.now() - started;
      vectors = computeFeatures(targets, history, labels);
      computeMs = performance.now() - started - readMs;
    }
    const writeStarted = performance.now();
    // Vectors grouped by the batch their transaction arrived in, once.
    const batchOf = new Map(targets.map((tx) => [tx.transactionId, tx.batchId]));
    const vectorsByBatch = new Map<string, FeatureVector[]>();
    for (const vector of vectors) {
      const id = batchOf.get(vector.transactionId) as string;
      const group = vectorsByBatch.get(id);
      if (group === undefined) vectorsByBatch.set(id, [vector]);
      else group.push(vector);
    }
    const outcome = await inTransaction(deps.pool, async (client) => {
      const state = await lockPipelineState(client);
      // Checked again under the state lock: another instance may have finished some meanwhile.
      const doneNow = await donePipelineBatches(client, batchIds);
      const todo = fresh.filter((batch) => !doneNow.has(batch.batchId));
      if (todo.length === 0) return null;
      const todoIds = todo.map((batch) => batch.batchId);
      const featureCounts = new Map<string, number>();
      for (const id of todoIds) {
        const rows = vectorsByBatch.get(id) ?? [];
        featureCounts.set(id, await upsertFeatures(client, id, FEATURE_SET_VERSION, rows));
      }
      const todoSet = new Set(todoIds);
      const advance = advanceWatermark(
        state.watermarkMs,
        [
          ...targets.filter((tx) => todoSet.has(tx.batchId)).map((tx) => tx.eventTimeMs),
          ...batchLabels.map((label) => label.reportedAtMs),
        ],
        deps.maturityMs,
      );
      deps.metrics.watermarkOutliers.inc(advance.outliers);
      // The examples matured in this pass belong to its last batch: one training set per pass.
      const exampleSetId = todoIds[todoIds.length - 1] as string;
      let exampleCount = 0;
      if (advance.watermarkMs !== null && advance.matureBeforeMs !== null) {
        exampleCount = await matureExamples(client, {
          exampleSetId,
          watermarkMs: advance.watermarkMs,
          matureBeforeMs: advance.matureBeforeMs,
          previousMatureBeforeMs: state.maturedUntilMs,
          batchIds: todoIds,
        });
      }
      const maturedUntilMs =
        state.maturedUntilMs === null ||
        (advance.matureBeforeMs ?? -Infinity) > state.maturedUntilMs
          ? advance.matureBeforeMs
          : state.maturedUntilMs;
      await savePipelineState(client, { watermarkMs: advance.watermarkMs, maturedUntilMs });
      const watermark =
        advance.watermarkMs === null ? null : new Date(advance.watermarkMs).toISOString();
      for (const id of todoIds) {
        const examples = id === exampleSetId ? exampleCount : 0;
        const featureCount = featureCounts.get(id) ?? 0;
        await recordPipelineBatch(client, {
          batchId: id,
          featureCount,
          exampleCount: examples,
          watermarkMs: advance.watermarkMs,
        });
        const ready: FeaturesReady = {
          schemaVersion: 1,
          type: 'features.ready',
          batchId: id,
          featureSetVersion: FEATURE_SET_VERSION,
          featureCount,
          exampleCount: examples,
          watermark,
          occurredAt: new Date().toISOString(),
        };
        await enqueueOutbox(client, 'pipeline_outbox', {
          eventId: `features:${id}`,
          routingKey: ROUTING_KEYS.featuresReady,
          payload: ready,
        });
      }
      const features = [...featureCounts.values()].reduce((sum, n) => sum + n, 0);
      return { batches: todoIds.length, features, exampleCount, watermark };
    });
    if (outcome === null) {
      deps.metrics.duplicates.inc(fresh.length);
      return;
    }
    deps.onEventEnqueued();
    deps.metrics.features.inc(outcome.features);
    deps.metrics.examples.inc(outcome.exampleCount);
    deps.metrics.batches.inc(outcome.batches);
    if (outcome.watermark !== null)
      deps.metrics.watermark.set(Date.parse(outcome.watermark) / 1000);
    endTimer();
    deps.logger.info(
      {
        batches: outcome.batches,
        features: outcome.features,
        examples: outcome.exampleCount,
        watermark: outcome.watermark,
        readMs: Math.round(readMs),
        computeMs: Math.round(computeMs),
        writeMs: Math.round(performance.now() - writeStarted),
      },
      'features ready',
    );
  };

  const coalescer = new Coalescer<BatchArrived>(process, {
    maxItems: deps.maxGroup ?? 32,
    lingerMs: deps.lingerMs ?? 20,
  });
  return async (event) => {
    const decoded = decodeEvent(BatchArrivedV1, event.content, 'batch.arrived');
    if (!decoded.ok) return { action: 'dead-letter', code: decoded.code, reason: decoded.reason };
    await coalescer.submit(decoded.value);
    return { action: 'ack' };
  };
}
