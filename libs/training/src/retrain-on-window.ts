import { filterExamples } from './example-set';
import type { GateStrategy } from './gate-strategy';
import { isHoldout } from './holdout';
import type { FitOptions, ModelFactory } from './model-port';
import { ChampionScoreCache, judgeAndRegister } from './evaluate-and-register';
import type { Registration } from './evaluate-and-register';
import type { TrainerStore } from './trainer-store';
import { versionIdFor } from './version-id';

/** The event-time window a retrain learns from. */
export interface RetrainWindow {
  /** First event time included. */
  readonly fromMs: number;
  /** First event time excluded. */
  readonly toMs: number;
  /** Labels reported up to this event time were known (the watermark at the retrain). */
  readonly labelCutoffMs: number;
}

/** How a retrain from scratch trains and judges. */
export interface RetrainPolicy {
  readonly featureSetVersion: number;
  readonly backend: string;
  readonly fit: FitOptions;
  readonly holdoutSize: number;
  readonly gate: GateStrategy;
  /** Event timestamps. @default Date.now */
  readonly now?: () => number;
}

/** What a retrain did; `null` when the window held no training example. */
export type RetrainOutcome = (Registration & { readonly samples: number }) | null;

/**
 * The batch policy (the orchestrated path's): a fresh model trained from scratch on the training
 * (non-holdout) examples of a window, judged like a continuous step and registered with the window
 * as its lineage. The same window always gives the same version id.
 */
export async function retrainOnWindow(
  store: TrainerStore,
  models: ModelFactory,
  policy: RetrainPolicy,
  window: RetrainWindow,
  championScores: ChampionScoreCache = new ChampionScoreCache(),
): Promise<RetrainOutcome> {
  const training = filterExamples(
    await store.readExamplesBetween(window.fromMs, window.toMs),
    (id) => !isHoldout(id),
  );
  if (training.labels.length === 0) return null;
  const model = models.create();
  try {
    const fit = await model.train(training.features, training.labels, policy.fit);
    const from = new Date(window.fromMs).toISOString();
    const to = new Date(window.toMs).toISOString();
    const registration = await judgeAndRegister(
      {
        model,
        versionId: versionIdFor(store.modelName, `window:${from}/${to}`),
        parentVersionId: null,
        trainedSamples: fit.samples,
        resolvedBatchIds: [],
        lineage: {
          exampleSetIds: [],
          sourceBatchIds: [],
          offsets: [],
          labelCutoff: new Date(window.labelCutoffMs).toISOString(),
          featureSetVersion: policy.featureSetVersion,
          parentVersionId: null,
          window: { from, to },
          fit: { ...policy.fit },
        },
      },
      {
        store,
        models,
        gate: policy.gate,
        holdoutSize: policy.holdoutSize,
        backend: policy.backend,
        championScores,
        now: policy.now ?? Date.now,
      },
    );
    return { ...registration, samples: fit.samples };
  } finally {
    model.dispose();
  }
}
