import type { ModelMetrics } from '@streamtrain/contracts';
import { isStepDue } from './cadence';
import { filterExamples } from './example-set';
import type { ExampleSet } from './example-set';
import type { GateStrategy } from './gate-strategy';
import { isHoldout } from './holdout';
import type { FitOptions, ModelFactory } from './model-port';
import { ChampionScoreCache, judgeAndRegister } from './evaluate-and-register';
import type { TrainingSetComposer } from './training-set';
import { freshExamplesOnly } from './training-set';
import type { ModelAlias, TrainerStore } from './trainer-store';
import { versionIdFor } from './version-id';
import type { AveragingBackoff, AveragingDecision } from './weight-averaging';
import { AveragingSchedule, freshFraudLoss } from './weight-averaging';

/** A `features.ready` event as the trainer uses it. */
export interface ReadyBatch {
  readonly batchId: string;
  readonly exampleCount: number;
  /** The pipeline's watermark, from the event: the label cutoff of what the batch matured. */
  readonly watermarkMs: number | null;
}

/** The trainer's policy: how and when it trains, and how it judges. */
export interface ContinuousTrainerPolicy {
  readonly featureSetVersion: number;
  /** Recorded with each version. */
  readonly backend: string;
  readonly fit: FitOptions;
  /** Most recent holdout examples the gate compares on. */
  readonly holdoutSize: number;
  /** Fewest pending training examples worth a step. */
  readonly minExamples: number;
  readonly gate: GateStrategy;
  /** What a step trains on. @default {@link freshExamplesOnly} */
  readonly composeTrainingSet?: TrainingSetComposer;
  /**
   * Which version a step warm-starts from: `latest` (no batch's learning dropped when the gate
   * says no) or `champion` (the chain stays close to what serves). @default 'latest'
   */
  readonly warmStartFrom?: ModelAlias;
  /**
   * Gate only on holdout examples at least this old, by event time, before the newest watermark:
   * the pipeline's maturity window, so genuine and fraud examples are equally settled (a fraud
   * matures when its label arrives, a genuine one only after the window; without this the most
   * recent holdout days hold frauds only). @default 0 (every recent member)
   */
  readonly holdoutSettledMs?: number;
  /**
   * Weight averaging between versions: a step's trained weights become `alpha · start + (1 −
   * alpha) · trained`, `start` being the version it warm-started from, which damps each step's
   * update (0: the trained weights as they are; no averaging for a step from scratch).
   * @default 0
   */
  readonly weightAveraging?: number;
  /**
   * Back off the averaging (share 0) for a step whose start model misjudges the step's new frauds
   * well beyond usual, so the model catches up with a change of fraud patterns at full speed.
   * @default undefined (always average)
   */
  readonly weightAveragingBackoff?: AveragingBackoff;
  /** Event timestamps. @default Date.now */
  readonly now?: () => number;
}

/** What one step did. */
export type StepOutcome =
  | { readonly trained: false; readonly pendingExamples: number }
  | {
      readonly trained: true;
      readonly versionId: string;
      readonly version: number;
      readonly promoted: boolean;
      readonly reason: string;
      readonly batches: number;
      /** The pipeline batches the step trained on, so one batch can be followed through the logs. */
      readonly batchIds: readonly string[];
      readonly samples: number;
      readonly loss: number;
      readonly candidate: ModelMetrics;
      readonly champion: ModelMetrics | null;
    };

/** What accepting a batch did. */
export type Acceptance = 'duplicate' | 'pending' | 'no-examples';

/**
 * The examples a composer added after the fresh ones (the replay buffer's), in training order. A
 * composer must keep the fresh examples first and in order, or a rebuild could not name the rows.
 */
function replayedIds(fresh: ExampleSet, training: ExampleSet): string[] {
  const n = fresh.transactionIds.length;
  const prefixKept = fresh.transactionIds.every((id, i) => training.transactionIds[i] === id);
  if (!prefixKept || training.transactionIds.length < n) {
    throw new RangeError('a training-set composer must keep the fresh examples first, in order');
  }
  return training.transactionIds.slice(n);
}

/**
 * The trainer's rules around one store: a `features.ready` batch is accepted once (its holdout
 * members recorded, its training examples counted); once the pending batches hold `minExamples`
 * training examples, one warm-started step trains on them, is judged against the champion on the
 * recent holdout, and is registered with its lineage. Steps never overlap.
 */
export class ContinuousTrainer {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly championScores = new ChampionScoreCache();
  private readonly averaging: AveragingSchedule;

  constructor(
    private readonly store: TrainerStore,
    private readonly models: ModelFactory,
    private readonly policy: ContinuousTrainerPolicy,
  ) {
    this.averaging = new AveragingSchedule(
      policy.weightAveraging ?? 0,
      policy.weightAveragingBackoff,
    );
  }

  /** Records a `features.ready` batch; a redelivered one changes nothing. */
  async accept(ready: ReadyBatch): Promise<Acceptance> {
    if (await this.store.isBatchAccepted(ready.batchId)) return 'duplicate';
    const refs = ready.exampleCount > 0 ? await this.store.exampleRefs(ready.batchId) : [];
    const holdout = refs.filter((ref) => isHoldout(ref.transactionId));
    const outcome = ready.exampleCount > 0 ? 'pending' : 'no-examples';
    await this.store.acceptBatch({
      batchId: ready.batchId,
      outcome,
      trainingExamples: refs.length - holdout.length,
      holdout,
      watermarkMs: ready.watermarkMs,
    });
    return outcome;
  }

  /** Trains on the pending batches if a step is due; `force` trains on whatever is pending. */
  trainIfDue(force = false): Promise<StepOutcome> {
    const run = this.chain.then(() => this.step(force));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no step is running. */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async step(force: boolean): Promise<StepOutcome> {
    const { store, policy, models } = this;
    const pending = await store.pendingBatches();
    const pendingExamples = pending.reduce((sum, batch) => sum + batch.trainingExamples, 0);
    if (!isStepDue(pendingExamples, policy.minExamples, force)) {
      return { trained: false, pendingExamples };
    }
    const batchIds = pending.map((batch) => batch.batchId);
    const fresh = filterExamples(await store.readExamples(batchIds), (id) => !isHoldout(id));
    const compose = policy.composeTrainingSet ?? freshExamplesOnly;
    const training = await compose(fresh, { exampleSetIds: batchIds, examples: store });
    const replayedTransactionIds = replayedIds(fresh, training);
    const start = await store.readAlias(policy.warmStartFrom ?? 'latest');
    const candidate = start === null ? models.create() : await models.fromArtifact(start.artifact);
    const averagingWith =
      start !== null && (policy.weightAveraging ?? 0) > 0 && training.labels.length > 0
        ? start
        : null;
    try {
      // The start version as it was, for averaging; scored on the new examples before the
      // candidate learns them, to see whether it misjudges the new frauds.
      const previous =
        averagingWith === null ? null : await models.fromArtifact(averagingWith.artifact);
      let averaging: AveragingDecision | null = null;
      let fit: { samples: number; loss: number };
      try {
        if (previous !== null) {
          averaging = this.averaging.decide(
            this.averaging.needsScores && fresh.labels.length > 0
              ? freshFraudLoss(previous.predict(fresh.features), fresh.labels)
              : null,
          );
        }
        fit =
          training.labels.length === 0
            ? { samples: 0, loss: Number.NaN }
            : await candidate.train(training.features, training.labels, policy.fit);
        if (previous !== null && averaging !== null && averaging.alpha > 0) {
          candidate.averageWith(previous, averaging.alpha);
        }
      } finally {
        previous?.dispose();
      }
      const sources = await store.sourceBatches(batchIds);
      const cutoffs = pending
        .map((batch) => batch.watermarkMs)
        .filter((ms): ms is number => ms !== null);
      const versionId = versionIdFor(store.modelName, batchIds[batchIds.length - 1] as string);
      const parentVersionId = start?.versionId ?? null;
      const registration = await judgeAndRegister(
        {
          model: candidate,
          versionId,
          parentVersionId,
          trainedSamples: fit.samples,
          resolvedBatchIds: batchIds,
          lineage: {
            exampleSetIds: batchIds,
            sourceBatchIds: [...sources.batchIds],
            offsets: [...sources.offsets],
            labelCutoff: cutoffs.length === 0 ? null : new Date(Math.max(...cutoffs)).toISOString(),
            featureSetVersion: policy.featureSetVersion,
            parentVersionId,
            fit: { ...policy.fit },
            ...(replayedTransactionIds.length === 0 ? {} : { replayedTransactionIds }),
            ...(averagingWith === null || averaging === null
              ? {}
              : {
                  weightAveraging: {
                    alpha: averaging.alpha,
                    withVersionId: averagingWith.versionId,
                    ...(averaging.referenceLoss === null
                      ? {}
                      : {
                          freshFraudLoss: averaging.freshFraudLoss,
                          referenceLoss: averaging.referenceLoss,
                        }),
                  },
                }),
          },
        },
        {
          store,
          models,
          gate: policy.gate,
          holdoutSize: policy.holdoutSize,
          holdoutBeforeMs:
            policy.holdoutSettledMs === undefined ||
            policy.holdoutSettledMs <= 0 ||
            cutoffs.length === 0
              ? null
              : Math.max(...cutoffs) - policy.holdoutSettledMs,
          backend: policy.backend,
          championScores: this.championScores,
          now: policy.now ?? Date.now,
        },
      );
      return {
        trained: true,
        ...registration,
        batches: batchIds.length,
        batchIds,
        samples: fit.samples,
        loss: fit.loss,
      };
    } finally {
      candidate.dispose();
    }
  }
}
