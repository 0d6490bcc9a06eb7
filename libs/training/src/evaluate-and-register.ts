import type { ModelMetrics, ModelPublished } from '@streamtrain/contracts';
import type { ExampleSet } from './example-set';
import { filterExamplesAt } from './example-set';
import type { GateStrategy } from './gate-strategy';
import { metricsOf, underPin } from './gate-strategy';
import type { ModelFactory, TrainableModel } from './model-port';
import type { Lineage, TrainerStore } from './trainer-store';

/** Scores of the champion on holdout examples, kept while it stays champion. */
export class ChampionScoreCache {
  private versionId: string | null = null;
  private readonly scores = new Map<string, number>();

  /** The champion's scores of `holdout`, scoring only the examples it has not scored yet. */
  async scoresOf(
    versionId: string,
    load: () => Promise<TrainableModel>,
    holdout: ExampleSet,
  ): Promise<Float32Array> {
    if (versionId !== this.versionId) {
      this.scores.clear();
      this.versionId = versionId;
    }
    const missing: number[] = [];
    holdout.transactionIds.forEach((id, i) => {
      if (!this.scores.has(id)) missing.push(i);
    });
    if (missing.length > 0) {
      const { width } = holdout;
      const x = new Float32Array(missing.length * width);
      missing.forEach((row, i) =>
        x.set(holdout.features.subarray(row * width, (row + 1) * width), i * width),
      );
      const model = await load();
      let fresh: Float32Array;
      try {
        fresh = model.predict(x);
      } finally {
        model.dispose();
      }
      missing.forEach((row, i) =>
        this.scores.set(holdout.transactionIds[row] as string, fresh[i] as number),
      );
    }
    // Keep the cache to the current holdout so it does not grow without bound.
    if (this.scores.size > 2 * holdout.transactionIds.length) {
      const keep = new Set(holdout.transactionIds);
      for (const id of this.scores.keys()) if (!keep.has(id)) this.scores.delete(id);
    }
    return Float32Array.from(holdout.transactionIds, (id) => this.scores.get(id) as number);
  }

  /** Records the scores a newly promoted version gave the holdout. */
  adopt(versionId: string, holdout: ExampleSet, scores: Float32Array): void {
    this.scores.clear();
    this.versionId = versionId;
    holdout.transactionIds.forEach((id, i) => this.scores.set(id, scores[i] as number));
  }
}

/** A trained candidate, ready to be judged and registered. */
export interface TrainedCandidate {
  readonly model: TrainableModel;
  readonly versionId: string;
  readonly parentVersionId: string | null;
  readonly lineage: Lineage;
  readonly trainedSamples: number;
  readonly resolvedBatchIds: readonly string[];
}

/** What judging and registering a candidate did. */
export interface Registration {
  readonly versionId: string;
  readonly version: number;
  readonly promoted: boolean;
  readonly reason: string;
  readonly candidate: ModelMetrics;
  readonly champion: ModelMetrics | null;
}

/** What {@link judgeAndRegister} needs. */
export interface JudgeOptions {
  readonly store: TrainerStore;
  readonly models: ModelFactory;
  readonly gate: GateStrategy;
  readonly holdoutSize: number;
  /** Only holdout examples with event time before this are compared on (`null`: all of them). */
  readonly holdoutBeforeMs?: number | null;
  readonly backend: string;
  readonly championScores: ChampionScoreCache;
  readonly now: () => number;
}

/**
 * Measures a candidate and the champion on the same most recent holdout, asks the gate, and
 * registers the version with its lineage (announcing it when the registry recorded it as
 * champion), in one commit.
 */
export async function judgeAndRegister(
  candidate: TrainedCandidate,
  options: JudgeOptions,
): Promise<Registration> {
  const { store } = options;
  const recent = await store.readExamplesById(await store.recentHoldout(options.holdoutSize));
  const beforeMs = options.holdoutBeforeMs ?? null;
  const holdout = beforeMs === null ? recent : filterExamplesAt(recent, (ms) => ms < beforeMs);
  const candidateScores = candidate.model.predict(holdout.features);
  const candidateMetrics = metricsOf(candidateScores, holdout.labels);
  const champion = await store.readAlias('champion');
  let championScores: Float32Array | null = null;
  if (champion !== null) {
    championScores = await options.championScores.scoresOf(
      champion.versionId,
      () => options.models.fromArtifact(champion.artifact),
      holdout,
    );
  }
  const championMetrics =
    championScores === null ? null : metricsOf(championScores, holdout.labels);
  // A pinned model keeps its champion; the store re-applies the pin when it commits.
  const decision = underPin(
    options.gate({
      labels: holdout.labels,
      candidateScores,
      championScores,
      candidate: candidateMetrics,
      champion: championMetrics,
    }),
    await store.readPromotionPin(),
  );
  const artifact = await candidate.model.toArtifact();
  const committed = await store.commitStep({
    version: {
      versionId: candidate.versionId,
      parentVersionId: candidate.parentVersionId,
      promote: decision.promote,
      gateReason: decision.reason,
      metrics: candidateMetrics,
      championMetrics,
      lineage:
        decision.reasons === undefined && decision.evidence === undefined
          ? candidate.lineage
          : {
              ...candidate.lineage,
              gate: {
                reasons: [...(decision.reasons ?? [decision.reason])],
                evidence: decision.evidence ?? null,
              },
            },
      artifact,
      backend: options.backend,
      trainedSamples: candidate.trainedSamples,
    },
    resolvedBatchIds: candidate.resolvedBatchIds,
    announce: (number): ModelPublished => ({
      schemaVersion: 1,
      type: 'model.published',
      modelName: store.modelName,
      versionId: candidate.versionId,
      version: number,
      parentVersionId: candidate.parentVersionId,
      trainedOnBatches: [...candidate.lineage.exampleSetIds],
      metrics: candidateMetrics,
      occurredAt: new Date(options.now()).toISOString(),
    }),
  });
  // What the registry recorded is the outcome, not the verdict it was asked to apply.
  if (committed.promoted) {
    options.championScores.adopt(candidate.versionId, holdout, candidateScores);
  }
  return {
    versionId: candidate.versionId,
    version: committed.version,
    promoted: committed.promoted,
    reason: committed.reason,
    candidate: candidateMetrics,
    champion: championMetrics,
  };
}
