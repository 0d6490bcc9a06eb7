import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { FeaturesReadyV1, decodeEvent } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION } from '@streamtrain/features';
import { inTransaction, isTrainerBatchDone, recordTrainerBatch } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import type { ContinuousTrainer } from '../training/continuous-trainer';
import type { TrainerMetrics } from '../adapters/trainer-metrics';

/** What the features-ready handler needs. */
export interface FeaturesReadyDeps {
  pool: Pool;
  trainer: ContinuousTrainer;
  metrics: TrainerMetrics;
}

/**
 * Handles `features.ready`: records the batch (pending when it brought examples), then lets the
 * trainer decide whether a training step is due. A redelivered event changes nothing.
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
    if (!(await isTrainerBatchDone(deps.pool, ready.batchId))) {
      const outcome = ready.exampleCount > 0 ? 'pending' : 'no-examples';
      await inTransaction(deps.pool, (client) =>
        recordTrainerBatch(client, ready.batchId, outcome, null),
      );
      if (outcome === 'no-examples') deps.metrics.skipped.inc({ reason: outcome });
    }
    await deps.trainer.trainIfDue();
    return { action: 'ack' };
  };
}
