import { featureNames } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import type { ModelFactory } from '@streamtrain/training';

/** The trainer's models: `FraudModel`s over the current feature set, seeded. */
export function fraudModelFactory(seed: number): ModelFactory {
  return {
    create: () => FraudModel.create(featureNames(), { seed }),
    fromArtifact: (artifact) => FraudModel.fromArtifact(artifact),
  };
}
