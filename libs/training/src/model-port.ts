/** How a step trains a model; the trainer's defaults are `TRAINER_EPOCHS` and friends. */
export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly positiveWeight: number;
  readonly shuffleSeed: number;
}

/**
 * A model the trainer can train, score with and save: the port `@streamtrain/model`'s
 * `FraudModel` fills (the domain stays free of tfjs).
 */
export interface TrainableModel {
  train(
    x: Float32Array,
    y: ArrayLike<number>,
    options: FitOptions,
  ): Promise<{ samples: number; loss: number }>;
  /** Fraud probabilities of the rows of `x`. */
  predict(x: Float32Array): Float32Array;
  /**
   * Moves the weights towards `previous`'s: each becomes `alpha · previous + (1 − alpha) · this`
   * (weight averaging between versions; `previous` is a model of the same factory).
   */
  averageWith(previous: this, alpha: number): void;
  toArtifact(): Promise<unknown>;
  dispose(): void;
}

/** Builds fresh models and loads saved ones. */
export interface ModelFactory {
  /** A new, untrained model (seeded: the same seed builds the same model). */
  create(): TrainableModel;
  fromArtifact(artifact: unknown): Promise<TrainableModel>;
}
