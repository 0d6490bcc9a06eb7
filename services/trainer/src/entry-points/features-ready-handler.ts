import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { FeaturesReadyV1, decodeEvent } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION } from '@streamtrain/features';
import type { Logger } from '@streamtrain/observability';
import type { ContinuousTrainer, StepOutcome } from '@streamtrain/training';
import type { TrainerMetrics } from '../adapters/trainer-metrics';

/** What the features-ready handler needs. */
export interface FeaturesReadyDeps {
  trainer: ContinuousTrainer;
  metrics: TrainerMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
}

/** Counts and logs what a step did. */
export function reportStep(outcome: StepOutcome, deps: Omit<FeaturesReadyDeps, 'trainer'>): void {
  if (!outcome.trained) return;
  const { metrics } = deps;
  metrics.versions.inc({ outcome: outcome.promoted ? 'promoted' : 'rejected' });
  metrics.samples.inc(outcome.samples);
  if (outcome.candidate.averagePrecision !== null) {
    metrics.candidateAp.set(outcome.candidate.averagePrecision);
  }
  const servingAp = outcome.promoted
    ? outcome.candidate.averagePrecision
    : (outcome.champion?.averagePrecision ?? null);
  if (servingAp !== null) metrics.championAp.set(servingAp);
  if (outcome.promoted) deps.onEventEnqueued();
  deps.logger.info(
    {
      versionId: outcome.versionId,
      version: outcome.version,
      batches: outcome.batches,
      batchIds: outcome.batchIds,
      samples: outcome.samples,
      loss: outcome.loss,
      promoted: outcome.promoted,
      reason: outcome.reason,
      holdoutAp: outcome.candidate.averagePrecision,
      holdoutAuc: outcome.candidate.auc,
      championAp: outcome.champion?.averagePrecision ?? null,
    },
    outcome.promoted ? 'model version promoted' : 'model version registered; champion kept',
  );
}

/**
 * Handles `features.ready`: the trainer accepts the batch (with the watermark the event carries)
 * and trains if a step is due. A redelivered event changes nothing.
 */
export function createFeaturesReadyHandler(
  deps: FeaturesReadyDeps,
): (event: IncomingEvent) => Promise<Verdict> {
  return async (event) => {
    const decoded = decodeEvent(FeaturesReadyV1, event.content, 'features.ready');
    if (!decoded.ok) return { action: 'dead-letter', code: decoded.code, reason: decoded.reason };
    const ready = decoded.value;
    if (ready.featureSetVersion !== FEATURE_SET_VERSION) {
      return {
        action: 'dead-letter',
        code: 'CONTRACT_UNKNOWN_VERSION',
        reason: `feature set v${ready.featureSetVersion}; this trainer knows v${FEATURE_SET_VERSION}`,
      };
    }
    const accepted = await deps.trainer.accept({
      batchId: ready.batchId,
      exampleCount: ready.exampleCount,
      watermarkMs: ready.watermark === null ? null : Date.parse(ready.watermark),
    });
    if (accepted === 'no-examples') deps.metrics.skipped.inc({ reason: accepted });
    const endTimer = deps.metrics.trainSeconds.startTimer();
    const outcome = await deps.trainer.trainIfDue();
    if (outcome.trained) endTimer();
    reportStep(outcome, deps);
    return { action: 'ack' };
  };
}
