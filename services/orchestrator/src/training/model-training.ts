import { featureNames } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import type { ModelArtifact, ModelMetrics } from '@streamtrain/model';
import { metricsOf } from '@streamtrain/training';
import type { LabelledSet, RetrainParams } from '../domain/retrain-policy';

/** What training a candidate produced. */
export interface TrainedCandidate {
  artifact: ModelArtifact;
  loss: number;
  samples: number;
  seconds: number;
}

/** A weight average applied after training, as a continuous step with averaging records it. */
export interface WeightAverage {
  /** The artifact averaged with (the step's start version). */
  readonly artifact: unknown;
  readonly alpha: number;
}

/**
 * Trains a candidate on `train`: from `parent` (a warm start) or from scratch with the seed,
 * with the shuffle seeded too, so the same rows and options give the same weights; then averages
 * it with `average` when given.
 */
export async function trainCandidate(
  train: LabelledSet,
  parent: unknown,
  params: RetrainParams,
  average: WeightAverage | null = null,
): Promise<TrainedCandidate> {
  if (train.labels.length === 0)
    throw new RangeError('the training window holds no labelled examples');
  const model =
    parent === null
      ? FraudModel.create(featureNames(), { seed: params.seed })
      : await FraudModel.fromArtifact(parent);
  try {
    const result = await model.train(train.features, train.labels, {
      epochs: params.epochs,
      batchSize: params.batchSize,
      positiveWeight: params.positiveWeight,
      shuffleSeed: params.seed,
    });
    if (average !== null && average.alpha > 0) {
      const previous = await FraudModel.fromArtifact(average.artifact);
      try {
        model.averageWith(previous, average.alpha);
      } finally {
        previous.dispose();
      }
    }
    return {
      artifact: await model.toArtifact(),
      loss: result.loss,
      samples: result.samples,
      seconds: result.seconds,
    };
  } finally {
    model.dispose();
  }
}

/** A stored artifact's scores of `set`. */
export async function scoreArtifact(artifact: unknown, set: LabelledSet): Promise<Float32Array> {
  const model = await FraudModel.fromArtifact(artifact);
  try {
    return model.predict(set.features);
  } finally {
    model.dispose();
  }
}

/** Holdout metrics of a stored artifact on `set` (`metricsOf`, the gate's measure). */
export async function evaluateArtifact(artifact: unknown, set: LabelledSet): Promise<ModelMetrics> {
  return metricsOf(await scoreArtifact(artifact, set), set.labels);
}
