import { ROUTING_KEYS } from '@streamtrain/contracts';
import type { ModelPublished } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel, gateCandidate } from '@streamtrain/model';
import type { GatePolicy } from '@streamtrain/model';
import type { Logger } from '@streamtrain/observability';
import {
  enqueueOutbox,
  inTransaction,
  readAlias,
  readPendingTrainerBatches,
  readPromotionPin,
  readRecentHoldout,
  readSourceBatches,
  readTrainingExamples,
  registerModelVersion,
  resolveTrainerBatches,
  underPin,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { versionIdFor } from '../domain/version-id';
import type { TrainerMetrics } from '../adapters/trainer-metrics';

/** Options of {@link ContinuousTrainer}. */
export interface ContinuousTrainerOptions {
  pool: Pool;
  modelName: string;
  backend: string;
  epochs: number;
  batchSize: number;
  positiveWeight: number;
  seed: number;
  holdoutSize: number;
  gate: GatePolicy;
  /** Fewest new training examples worth a training step. */
  minExamples: number;
  metrics: TrainerMetrics;
  logger: Logger;
  onEventEnqueued: () => void;
  now?: () => number;
}

/** What one call to {@link ContinuousTrainer.trainIfDue} did. */
export type TrainingOutcome =
  | { trained: false; pendingExamples: number }
  | { trained: true; versionId: string; version: number; promoted: boolean };

/**
 * The training step of continuous training. Every `features.ready` batch with examples is
 * recorded as pending; once the pending batches hold `minExamples` training examples, one
 * warm-started step trains on all of them: from the latest
 * version, judged against the champion on the recent holdout, registered with its lineage, and
 * announced through the outbox when promoted. Steps never overlap.
 */
export class ContinuousTrainer {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ContinuousTrainerOptions) {}

  /** Trains on the pending batches if they are due; `force` trains on whatever is pending. */
  trainIfDue(force = false): Promise<TrainingOutcome> {
    const run = this.chain.then(() => this.step(force));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no training step is running. */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async step(force: boolean): Promise<TrainingOutcome> {
    const { options } = this;
    const now = options.now ?? Date.now;
    const pending = await readPendingTrainerBatches(options.pool);
    const pendingExamples = pending.reduce((sum, batch) => sum + batch.examples, 0);
    if (pendingExamples === 0 || (!force && pendingExamples < options.minExamples)) {
      return { trained: false, pendingExamples };
    }
    const batchIds = pending.map((batch) => batch.batchId);
    const examples = await readTrainingExamples(options.pool, batchIds);
    const endTimer = options.metrics.trainSeconds.startTimer();
    const latest = await readAlias(options.pool, options.modelName, 'latest');
    const champion = await readAlias(options.pool, options.modelName, 'champion');
    const candidate = latest
      ? await FraudModel.fromArtifact(latest.artifact)
      : FraudModel.create(featureNames(), { seed: options.seed });
    const championModel = champion ? await FraudModel.fromArtifact(champion.artifact) : null;
    try {
      const training = await candidate.train(examples.features, examples.labels, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        positiveWeight: options.positiveWeight,
        shuffleSeed: options.seed,
      });
      const holdout = await readRecentHoldout(options.pool, options.holdoutSize);
      const candidateMetrics = candidate.evaluate(holdout.features, holdout.labels);
      const championMetrics = championModel
        ? championModel.evaluate(holdout.features, holdout.labels)
        : null;
      // A pinned model keeps its champion: the registry enforces it, and the event follows suit.
      const decision = underPin(
        gateCandidate(candidateMetrics, championMetrics, options.gate),
        await readPromotionPin(options.pool, options.modelName),
      );
      const sources = await readSourceBatches(options.pool, batchIds);
      const artifact = await candidate.toArtifact();
      const lastBatch = batchIds[batchIds.length - 1] as string;
      const versionId = versionIdFor(options.modelName, lastBatch);
      const parentVersionId = latest?.record.versionId ?? null;
      const { watermark } = (
        await options.pool.query<{ watermark: Date | null }>(
          'SELECT max(watermark) AS watermark FROM pipeline_batches WHERE batch_id = ANY($1::text[])',
          [batchIds],
        )
      ).rows[0] ?? { watermark: null };
      const version = await inTransaction(options.pool, async (client) => {
        const number = await registerModelVersion(client, {
          versionId,
          modelName: options.modelName,
          parentVersionId,
          promote: decision.promote,
          gateReason: decision.reason,
          metrics: candidateMetrics,
          championMetrics,
          lineage: {
            exampleSetIds: batchIds,
            sourceBatchIds: sources.batchIds,
            offsets: sources.offsets,
            labelCutoff: watermark?.toISOString() ?? null,
            featureSetVersion: FEATURE_SET_VERSION,
            parentVersionId,
          },
          artifact,
          backend: options.backend,
          trainedSamples: training.samples,
        });
        await resolveTrainerBatches(
          client,
          batchIds,
          decision.promote ? 'promoted' : 'rejected',
          versionId,
        );
        if (decision.promote) {
          const published: ModelPublished = {
            schemaVersion: 1,
            type: 'model.published',
            modelName: options.modelName,
            versionId,
            version: number,
            parentVersionId,
            trainedOnBatches: batchIds,
            metrics: candidateMetrics,
            occurredAt: new Date(now()).toISOString(),
          };
          await enqueueOutbox(client, 'trainer_outbox', {
            eventId: `model:${versionId}`,
            routingKey: ROUTING_KEYS.modelPublished,
            payload: published,
          });
        }
        return number;
      });
      if (decision.promote) options.onEventEnqueued();
      this.record(
        decision.promote,
        training.samples,
        candidateMetrics.averagePrecision,
        decision.promote
          ? candidateMetrics.averagePrecision
          : (championMetrics?.averagePrecision ?? null),
      );
      endTimer();
      options.logger.info(
        {
          versionId,
          version,
          batches: batchIds.length,
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
      return { trained: true, versionId, version, promoted: decision.promote };
    } finally {
      candidate.dispose();
      championModel?.dispose();
    }
  }

  private record(
    promoted: boolean,
    samples: number,
    candidateAp: number | null,
    servingAp: number | null,
  ): void {
    const { metrics } = this.options;
    metrics.versions.inc({ outcome: promoted ? 'promoted' : 'rejected' });
    metrics.samples.inc(samples);
    if (candidateAp !== null) metrics.candidateAp.set(candidateAp);
    if (servingAp !== null) metrics.championAp.set(servingAp);
  }
}
