import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { BatchArrivedV1, decodeEvent } from '@streamtrain/contracts';
import type { BatchArrived } from '@streamtrain/contracts';
import type { Logger } from '@streamtrain/observability';
import { commitPass, preparePass } from '../domain/pipeline-pass';
import type { PassOutcome } from '../domain/pipeline-pass';
import type { PipelineStore } from '../domain/pipeline-store';
import type { PipelineFeatureState } from '../domain/pipeline-feature-state';
import type { PipelineMetrics } from '../adapters/pipeline-metrics';
import { Coalescer } from './coalescer';

/** What the batch-arrived handler needs. */
export interface BatchArrivedDeps {
  store: PipelineStore;
  /** The incremental feature state, kept across passes. */
  featureState: PipelineFeatureState;
  maturityMs: number;
  metrics: PipelineMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
  /** Most batch events handled in one pass. @default 32 */
  maxGroup?: number;
  /** How long the first event of a pass waits for others. @default 20 */
  lingerMs?: number;
  /** Targets per feature computation between turns of the event loop. @default 1000 */
  featureChunk?: number;
}

/**
 * Handles `batch.arrived`: events that arrive together (ingest writes one batch per partition)
 * are gathered into one pipeline pass (`domain/pipeline-pass.ts`), so the pipeline keeps up
 * however finely the stream is split. A redelivered batch is acknowledged without effect.
 */
export function createBatchArrivedHandler(
  deps: BatchArrivedDeps,
): (event: IncomingEvent) => Promise<Verdict> {
  const passOptions = {
    maturityMs: deps.maturityMs,
    featureChunk: deps.featureChunk,
    featureState: deps.featureState,
  };
  // Two stages: the next pass reads and computes while this one writes.
  const pass = async (batches: readonly BatchArrived[]): Promise<() => Promise<void>> => {
    const endTimer = deps.metrics.batchSeconds.startTimer();
    const prepared = await preparePass(
      deps.store,
      batches.map((batch) => batch.batchId),
      passOptions,
    );
    return async () => {
      const outcome = await commitPass(deps.store, prepared, passOptions);
      report(outcome, endTimer);
    };
  };

  const report = (outcome: PassOutcome, endTimer: () => void): void => {
    if (outcome.stateLoad !== null) {
      deps.logger.info(
        { ...outcome.stateLoad, ms: Math.round(outcome.stateLoad.ms) },
        'feature state loaded',
      );
    }
    deps.metrics.stateTransactions.set(deps.featureState.heldTransactions);
    if (outcome.checkpoint !== null) {
      deps.metrics.checkpointSeconds.observe(outcome.checkpoint.ms / 1000);
      deps.logger.info(
        { ...outcome.checkpoint, ms: Math.round(outcome.checkpoint.ms) },
        'feature state checkpointed',
      );
    }
    deps.metrics.featuresFromHistory.inc(outcome.fromHistory);
    deps.metrics.duplicates.inc(outcome.duplicates);
    deps.metrics.watermarkOutliers.inc(outcome.watermarkOutliers);
    if (outcome.batches === 0) return;
    deps.onEventEnqueued();
    deps.metrics.features.inc(outcome.features);
    deps.metrics.examples.inc(outcome.examples);
    deps.metrics.exampleCorrections.inc({ to: 'fraud' }, outcome.corrections.toFraud);
    deps.metrics.exampleCorrections.inc({ to: 'genuine' }, outcome.corrections.toGenuine);
    deps.metrics.batches.inc(outcome.batches);
    if (outcome.watermarkMs !== null) deps.metrics.watermark.set(outcome.watermarkMs / 1000);
    endTimer();
    deps.logger.info(
      {
        batches: outcome.batches,
        batchIds: outcome.batchIds,
        features: outcome.features,
        examples: outcome.examples,
        corrections: outcome.corrections,
        watermark:
          outcome.watermarkMs === null ? null : new Date(outcome.watermarkMs).toISOString(),
        readMs: Math.round(outcome.readMs),
        computeMs: Math.round(outcome.computeMs),
        writeMs: Math.round(outcome.writeMs),
        examplesMs: Math.round(outcome.examplesMs),
      },
      'features ready',
    );
  };

  const coalescer = new Coalescer<BatchArrived>(pass, {
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
