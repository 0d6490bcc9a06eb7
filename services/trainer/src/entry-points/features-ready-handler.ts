import type { IncomingEvent, Verdict } from '@streamtrain/amqp';
import { FeaturesReadyV1, ROUTING_KEYS, decodeEvent } from '@streamtrain/contracts';
import type { ModelPublished } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel, gateCandidate } from '@streamtrain/model';
import type { GatePolicy } from '@streamtrain/model';
import type { Logger } from '@streamtrain/observability';
import {
  enqueueOutbox,
  inTransaction,
  isTrainerBatchDone,
  readAlias,
  readRecentHoldout,
  readSourceBatches,
  readTrainingExamples,
  recordTrainerBatch,
  registerModelVersion,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { versionIdFor } from '../domain/version-id';
import type { TrainerMetrics } from '../adapters/trainer-metrics';

/** What the features-ready handler needs. */
export interface FeaturesReadyDeps {
  pool: Pool;
  modelName: string;
  backend: string;
  epochs: number;
  batchSize: number;
  positiveWeight: number;
  seed: number;
  holdoutSize: number;
  gate: GatePolicy;
  metrics: TrainerMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
}

/**
 * Handles `features.ready`: warm-starts from the latest version, trains one step on the
 * examples that matured with the batch, compares the candidate with the champion on the recent
 * holdout, and registers the version with its lineage. A promotion moves the `champion` alias
 * and announces `model.published` through the outbox, in the same transaction.
 */
export function createFeaturesReadyHandler(
  deps: FeaturesReadyDeps,
): (event: IncomingEvent) => Promise<Verdict> {
  const skip = async (batchId: string, reason: string): Promise<Verdict> => {
    await inTransaction(deps.pool, (client) => recordTrainerBatch(client, batchId, reason, null));
    deps.metrics.skipped.inc({ reason });
    return { action: 'ack' };
  };

  return async (event) => {
    const decoded = decodeEvent(FeaturesReadyV1, event.content, 'features.ready');
    if (!decoded.ok) return { action: 'dead-letter', code: decoded.code, reason: decoded.reason };
    const ready = decoded.value;
    if (await isTrainerBatchDone(deps.pool, ready.batchId)) return { action: 'ack' };
    if (ready.featureSetVersion !== FEATURE_SET_VERSION) {
      return {
        action: 'dead-letter',
        code: 'CONTRACT_UNKNOWN_VERSION',
        reason: `feature set v${ready.featureSetVersion}; this trainer knows v${FEATURE_SET_VERSION}`,
      };
    }
    if (ready.exampleCount === 0) return skip(ready.batchId, 'no-examples');
    const examples = await readTrainingExamples(deps.pool, ready.batchId);
    if (examples.labels.length === 0) return skip(ready.batchId, 'holdout-only');

    const endTimer = deps.metrics.trainSeconds.startTimer();
    const latest = await readAlias(deps.pool, deps.modelName, 'latest');
    const champion = await readAlias(deps.pool, deps.modelName, 'champion');
    const candidate = latest
      ? await FraudModel.fromArtifact(latest.artifact)
      : FraudModel.create(featureNames(), { seed: deps.seed });
    const championModel = champion ? await FraudModel.fromArtifact(champion.artifact) : null;
    try {
      const training = await candidate.train(examples.features, examples.labels, {
        epochs: deps.epochs,
        batchSize: deps.batchSize,
        positiveWeight: deps.positiveWeight,
        shuffleSeed: deps.seed,
      });
      const holdout = await readRecentHoldout(deps.pool, deps.holdoutSize);
      const candidateMetrics = candidate.evaluate(holdout.features, holdout.labels);
      const championMetrics = championModel
        ? championModel.evaluate(holdout.features, holdout.labels)
        : null;
      const decision = gateCandidate(candidateMetrics, championMetrics, deps.gate);
      const sources = await readSourceBatches(deps.pool, ready.batchId);
      const artifact = await candidate.toArtifact();
      const versionId = versionIdFor(deps.modelName, ready.batchId);
      const parentVersionId = latest?.record.versionId ?? null;
      const version = await inTransaction(deps.pool, async (client) => {
        const number = await registerModelVersion(client, {
          versionId,
          modelName: deps.modelName,
          parentVersionId,
          promote: decision.promote,
          gateReason: decision.reason,
          metrics: candidateMetrics,
          championMetrics,
          lineage: {
            exampleSetIds: [ready.batchId],
            sourceBatchIds: sources.batchIds,
            offsets: sources.offsets,
            labelCutoff: ready.watermark,
            featureSetVersion: ready.featureSetVersion,
            parentVersionId,
          },
          artifact,
          backend: deps.backend,
          trainedSamples: training.samples,
        });
        await recordTrainerBatch(
          client,
          ready.batchId,
          decision.promote ? 'promoted' : 'rejected',
          versionId,
        );
        if (decision.promote) {
          const published: ModelPublished = {
            schemaVersion: 1,
            type: 'model.published',
            modelName: deps.modelName,
            versionId,
            version: number,
            parentVersionId,
            trainedOnBatches: [ready.batchId],
            metrics: candidateMetrics,
            occurredAt: new Date().toISOString(),
          };
          await enqueueOutbox(client, 'trainer_outbox', {
            eventId: `model:${versionId}`,
            routingKey: ROUTING_KEYS.modelPublished,
            payload: published,
          });
        }
        return number;
      });
      if (decision.promote) deps.onEventEnqueued();
      deps.metrics.versions.inc({ outcome: decision.promote ? 'promoted' : 'rejected' });
      deps.metrics.samples.inc(training.samples);
      if (candidateMetrics.averagePrecision !== null)
        deps.metrics.candidateAp.set(candidateMetrics.averagePrecision);
      const servingAp = decision.promote
        ? candidateMetrics.averagePrecision
        : (championMetrics?.averagePrecision ?? null);
      if (servingAp !== null) deps.metrics.championAp.set(servingAp);
      endTimer();
      deps.logger.info(
        {
          versionId,
          version,
          batchId: ready.batchId,
          samples: training.samples,
          loss: training.loss,
          promoted: decision.promote,
          reason: decision.reason,
          holdoutAp: candidateMetrics.averagePrecision,
          holdoutAuc: candidateMetrics.auc,
          championAp: championMetrics?.averagePrecision ?? null,
        },
        decision.promote ? 'model version promoted' : 'model version registered; champion kept',
      );
      return { action: 'ack' };
    } finally {
      candidate.dispose();
      championModel?.dispose();
    }
  };
}
