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

/**
 * Trains a candidate on `train`: from `parent` (a warm start) or from scratch with the seed,
 * with the shuffle seeded too, so the same rows and options give the same weights.
 */
export async function trainCandidate(
  train: LabelledSet,
  parent: unknown,
  params: RetrainParams,
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
