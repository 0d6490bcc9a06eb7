import * as tf from '@tensorflow/tfjs';
import { averagePrecision, rocAuc } from '@streamtrain/metrics';
import {
  decodeArtifact,
  encodeWeights,
  invalidArtifactError,
  MODEL_ARTIFACT_FORMAT,
} from './artifact';
import type { ModelArtifact, OptimizerState, WeightSpec } from './artifact';
import { DenseInference } from './dense-inference';
import type { DenseActivation, DenseLayer } from './dense-inference';
import { toDenseMatrix, toLabels } from './feature-matrix';
import type { FeatureMatrix } from './feature-matrix';
import type { ModelMetrics } from './gate';
import { RunningNormalizer } from './normalizer';
import { seededRandom, shuffleInPlace } from './seeded-random';

/** Options of {@link FraudModel.create}. */
export interface FraudModelOptions {
  /** Units of each hidden ReLU layer. @default [32, 16] */
  hiddenUnits?: readonly number[];
  /** Adam's learning rate. @default 0.001 */
  learningRate?: number;
  /** Seeds the weight initialisers: the same seed builds the same model. @default 42 */
  seed?: number;
}

/** Options of {@link FraudModel.fromArtifact}. */
export interface FromArtifactOptions {
  /**
   * `restore`: continue with the artifact's Adam state when it has one; `reset`: start Adam over
   * (what every warm start did before the state was stored). @default 'restore'
   */
  optimizerState?: 'restore' | 'reset';
}

/** Options of {@link FraudModel.train}. */
export interface TrainOptions {
  /** Passes over the examples. @default 2 */
  epochs?: number;
  /** Examples per gradient step. @default 256 */
  batchSize?: number;
  /**
   * Loss weight of a fraudulent example relative to a genuine one. With ~0.8% fraud, a value near
   * the negative/positive ratio keeps the positives from being drowned out. @default 1
   */
  positiveWeight?: number;
  /**
   * Seeds the shuffle of each epoch. Defaults to the model's `trainedSamples`, so a replay of the
   * same batches in the same order trains the same model.
   */
  shuffleSeed?: number;
}

/** What one {@link FraudModel.train} call did. */
export interface TrainResult {
  /** Class-weighted binary cross-entropy, averaged over the examples of the last epoch. */
  loss: number;
  /** Examples trained on (per epoch). */
  samples: number;
  /** Wall time of the call. */
  seconds: number;
}

const DEFAULT_HIDDEN_UNITS: readonly number[] = [32, 16];
const DEFAULT_LEARNING_RATE = 0.001;
const DEFAULT_SEED = 42;
// Keras's epsilon: log(0) would make the loss and its gradient infinite.
const PROBABILITY_EPSILON = 1e-7;
const PREDICT_BATCH_SIZE = 4096;

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

function buildNetwork(
  inputSize: number,
  hiddenUnits: readonly number[],
  seed: number,
): tf.Sequential {
  // tfjs treats an initialiser seed of 0 as "no seed" and falls back to Math.random, so layer
  // seeds are drawn from a PRNG and kept strictly positive.
  const random = seededRandom(seed);
  const layerSeed = (): number => 1 + Math.floor(random() * 0x7ffffffe);
  // Fixed layer names keep weight names, and so artifacts, identical across processes.
  const network = tf.sequential({ name: 'fraud_model' });
  hiddenUnits.forEach((units, i) => {
    network.add(
      tf.layers.dense({
        name: `hidden_${i + 1}`,
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: layerSeed() }),
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
      }),
    );
  });
  network.add(
    tf.layers.dense({
      name: 'output',
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed() }),
      ...(hiddenUnits.length === 0 ? { inputShape: [inputSize] } : {}),
    }),
  );
  return network;
}

function weightedBinaryCrossEntropy(
  probabilities: tf.Tensor,
  labels: tf.Tensor,
  positiveWeight: number,
): tf.Scalar {
  const p = tf.clipByValue(probabilities, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  const perExample = tf.neg(
    tf.add(tf.mul(labels, tf.log(p)), tf.mul(tf.sub(1, labels), tf.log(tf.sub(1, p)))),
  );
  // weight = 1 for genuine, positiveWeight for fraud; the mean stays over examples, as Keras's
  // class_weight does, so the loss scale does not depend on the class mix of a batch.
  const weights = tf.add(tf.mul(labels, positiveWeight - 1), 1);
  return tf.mean(tf.mul(perExample, weights));
}

/**
 * Gives `optimizer` the step count and moments of a saved Adam, for the network's trainable
 * weights in order (the order `train` passes them to `minimize`).
 */
async function restoreAdam(
  optimizer: tf.Optimizer,
  network: tf.LayersModel,
  state: OptimizerState,
  moments: Float32Array,
): Promise<void> {
  const { iterations } = state;
  const weights = network.trainableWeights;
  const named: { name: string; tensor: tf.Tensor }[] = [
    { name: 'iter', tensor: tf.scalar(iterations, 'int32') },
  ];
  let offset = 0;
  for (const kind of ['m', 'v']) {
    for (const weight of weights) {
      const size = weight.shape.reduce((n: number, d) => n * (d as number), 1);
      named.push({
        name: `${weight.originalName}/${kind}`,
        tensor: tf.tensor(moments.subarray(offset, offset + size), weight.shape as number[]),
      });
      offset += size;
    }
  }
  try {
    await optimizer.setWeights(named);
  } finally {
    // The optimizer's variables hold their own references to the data.
    for (const { tensor } of named) tensor.dispose();
  }
  // setWeights recomputes β^(t+1) with pow; the running products it replaced differ in the last
  // bits, enough to make the next steps drift. tfjs 4.22 keeps them in these private variables.
  const powers = adamPowers(optimizer);
  if (powers !== undefined) {
    tf.tidy(() => {
      powers[0].assign(tf.scalar(state.betaPowers[0]));
      powers[1].assign(tf.scalar(state.betaPowers[1]));
    });
  }
}

/** Adam's running β powers (private in tfjs 4.22), or `undefined` if tfjs changed shape. */
function adamPowers(optimizer: tf.Optimizer): [tf.Variable, tf.Variable] | undefined {
  const { accBeta1, accBeta2 } = optimizer as unknown as {
    accBeta1?: unknown;
    accBeta2?: unknown;
  };
  return accBeta1 instanceof tf.Variable && accBeta2 instanceof tf.Variable
    ? [accBeta1, accBeta2]
    : undefined;
}

/** Lets heartbeats and consumers on the same event loop run between training steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The fraud classifier: a small feed-forward network over tabular features (Dense ReLU layers, a
 * sigmoid output) trained with Adam on class-weighted binary cross-entropy, with input
 * standardisation whose running statistics travel inside the artifact.
 *
 * Runs on whichever backend {@link loadBackend} selected; call that first. Training is
 * incremental: each {@link FraudModel.train} call continues from the current weights.
 */
export class FraudModel {
  private disposed = false;

  private constructor(
    /** Feature order the model expects. */
    readonly featureNames: readonly string[],
    private readonly network: tf.LayersModel,
    private readonly normalizer: RunningNormalizer,
    private readonly optimizer: tf.Optimizer,
    private readonly learningRate: number,
    private samplesSeen: number,
  ) {}

  /** Builds an untrained model for `featureNames`, in that order. */
  static create(featureNames: readonly string[], options: FraudModelOptions = {}): FraudModel {
    const hiddenUnits = options.hiddenUnits ?? DEFAULT_HIDDEN_UNITS;
    const learningRate = options.learningRate ?? DEFAULT_LEARNING_RATE;
    const seed = options.seed ?? DEFAULT_SEED;
    if (featureNames.length === 0 || new Set(featureNames).size !== featureNames.length) {
      throw new RangeError('featureNames must be non-empty and unique');
    }
    hiddenUnits.forEach((units, i) => assertPositiveInteger(`hiddenUnits[${i}]`, units));
    if (!(learningRate > 0 && Number.isFinite(learningRate))) {
      throw new RangeError(`learningRate must be a positive number, got ${learningRate}`);
    }
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const names = [...featureNames];
    return new FraudModel(
      names,
      buildNetwork(names.length, hiddenUnits, seed),
      new RunningNormalizer(names),
      tf.train.adam(learningRate),
      learningRate,
      0,
    );
  }

  /**
   * Rebuilds a model from a {@link ModelArtifact}. Takes `unknown` because artifacts come back
   * from the registry as untyped JSON; the value is validated before use.
   * Adam's step count and moments are restored from the artifact when it holds them (unless
   * `options.optimizerState` is `reset`), so training continues as if the model had never been
   * saved; otherwise Adam restarts and its first steps move each weight by about the learning rate.
   *
   * @throws StreamtrainError `MODEL_ARTIFACT_INVALID` with the reason when the artifact does not
   *   validate or its topology and weights do not load.
   */
  static async fromArtifact(
    artifact: unknown,
    options: FromArtifactOptions = {},
  ): Promise<FraudModel> {
    const decoded = decodeArtifact(artifact);
    const { featureNames, normalizer, trainedSamples, learningRate } = decoded.artifact;
    let network: tf.LayersModel;
    try {
      network = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: decoded.artifact.topology,
          weightSpecs: decoded.artifact.weightSpecs,
          weightData: decoded.weightData,
        }),
      );
    } catch (error) {
      throw invalidArtifactError(
        `topology and weights do not load: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    const input = network.inputs[0]?.shape;
    const output = network.outputs[0]?.shape;
    if (
      network.inputs.length !== 1 ||
      network.outputs.length !== 1 ||
      input?.length !== 2 ||
      input[1] !== featureNames.length ||
      output?.length !== 2 ||
      output[1] !== 1
    ) {
      network.dispose();
      throw invalidArtifactError(
        `network maps ${JSON.stringify(input)} to ${JSON.stringify(output)}, expected ` +
          `[null, ${featureNames.length}] to [null, 1]`,
      );
    }
    const optimizer = tf.train.adam(learningRate);
    const { moments } = decoded;
    if (moments !== undefined && options.optimizerState !== 'reset') {
      await restoreAdam(optimizer, network, decoded.artifact.optimizer as OptimizerState, moments);
    }
    return new FraudModel(
      featureNames,
      network,
      new RunningNormalizer(featureNames, normalizer),
      optimizer,
      learningRate,
      trainedSamples,
    );
  }

  /** Examples trained on over the model's life (per epoch, so 2 epochs of 100 count 100). */
  get trainedSamples(): number {
    return this.samplesSeen;
  }

  /**
   * Continues training on `x` (rows in {@link FraudModel.featureNames} order) and 0/1 labels `y`.
   * The input statistics absorb this batch first, then the network trains on the standardised rows.
   *
   * @throws RangeError for an empty batch, mismatched shapes, non-finite features or labels other
   *   than 0 and 1.
   */
  async train(
    x: FeatureMatrix,
    y: ArrayLike<number>,
    options: TrainOptions = {},
  ): Promise<TrainResult> {
    this.assertUsable();
    const started = performance.now();
    const epochs = options.epochs ?? 2;
    const batchSize = options.batchSize ?? 256;
    const positiveWeight = options.positiveWeight ?? 1;
    assertPositiveInteger('epochs', epochs);
    assertPositiveInteger('batchSize', batchSize);
    if (!(positiveWeight > 0 && Number.isFinite(positiveWeight))) {
      throw new RangeError(`positiveWeight must be a positive number, got ${positiveWeight}`);
    }
    const matrix = toDenseMatrix(x, this.featureNames.length);
    const labels = toLabels(y, matrix.rows);
    if (matrix.rows === 0) throw new RangeError('cannot train on zero examples');

    this.normalizer.update(matrix);
    const inputs = this.normalizer.standardize(matrix);
    const { rows, columns } = matrix;
    const random = seededRandom(options.shuffleSeed ?? this.samplesSeen);
    const order = Uint32Array.from({ length: rows }, (_, i) => i);
    const variables = this.network.trainableWeights.map((weight) => weight.read() as tf.Variable);
    const xBatch = new Float32Array(batchSize * columns);
    const yBatch = new Float32Array(batchSize);

    let epochLoss = 0;
    for (let epoch = 0; epoch < epochs; epoch += 1) {
      shuffleInPlace(order, random);
      epochLoss = 0;
      for (let start = 0; start < rows; start += batchSize) {
        const size = Math.min(batchSize, rows - start);
        for (let b = 0; b < size; b += 1) {
          const row = order[start + b] as number;
          xBatch.set(inputs.subarray(row * columns, (row + 1) * columns), b * columns);
          yBatch[b] = labels[row] as number;
        }
        const cost = tf.tidy(() => {
          const xs = tf.tensor2d(xBatch.subarray(0, size * columns), [size, columns]);
          const ys = tf.tensor2d(yBatch.subarray(0, size), [size, 1]);
          return this.optimizer.minimize(
            () =>
              weightedBinaryCrossEntropy(
                this.network.apply(xs, { training: true }) as tf.Tensor,
                ys,
                positiveWeight,
              ),
            true,
            variables,
          ) as tf.Scalar;
        });
        epochLoss += (cost.dataSync()[0] as number) * size;
        cost.dispose();
        await yieldToEventLoop();
      }
    }
    this.samplesSeen += rows;
    return {
      loss: epochLoss / rows,
      samples: rows,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** Fraud probabilities for the rows of `x`, in row order. */
  predict(x: FeatureMatrix): Float32Array {
    this.assertUsable();
    const matrix = toDenseMatrix(x, this.featureNames.length);
    if (matrix.rows === 0) return new Float32Array(0);
    const inputs = this.normalizer.standardize(matrix);
    const output = tf.tidy(
      () =>
        this.network.predict(tf.tensor2d(inputs, [matrix.rows, matrix.columns]), {
          batchSize: PREDICT_BATCH_SIZE,
        }) as tf.Tensor,
    );
    try {
      // Copy: some backends hand back their own storage, which must not outlive the tensor.
      return Float32Array.from(output.dataSync());
    } finally {
      output.dispose();
    }
  }

  /**
   * A plain-JavaScript forward pass over a snapshot of the weights and input statistics, for
   * serving: the same scores as {@link FraudModel.predict} to float32 rounding, at about a
   * microsecond a row with no per-call tensor set-up. Later training does not change it.
   *
   * @throws Error when the network has a layer other than Dense with relu, sigmoid or linear.
   */
  inference(): DenseInference {
    this.assertUsable();
    const layers: DenseLayer[] = this.network.layers.map((layer, i) => {
      const config = layer.getConfig() as { activation?: unknown; useBias?: unknown };
      const activation = config.activation;
      const [kernel, bias, ...rest] = layer.getWeights();
      if (
        layer.getClassName() !== 'Dense' ||
        (activation !== 'relu' && activation !== 'sigmoid' && activation !== 'linear') ||
        kernel === undefined ||
        bias === undefined ||
        kernel.shape.length !== 2 ||
        rest.length > 0
      ) {
        throw new Error(
          `layer ${i} (${layer.getClassName()}, ${String(activation)}) has no plain-JavaScript form`,
        );
      }
      return {
        kernel: Float32Array.from(kernel.dataSync()),
        bias: Float32Array.from(bias.dataSync()),
        inputs: kernel.shape[0],
        units: kernel.shape[1],
        activation: activation satisfies DenseActivation,
      };
    });
    const { mean, scale } = this.normalizer.affine();
    return new DenseInference({ featureNames: this.featureNames, mean, scale, layers });
  }

  /** Scores `x` and measures the ranking against 0/1 labels `y` (a holdout, for the gate). */
  evaluate(x: FeatureMatrix, y: ArrayLike<number>): ModelMetrics {
    const scores = this.predict(x);
    const labels = toLabels(y, scores.length);
    return {
      auc: rocAuc(scores, labels),
      averagePrecision: averagePrecision(scores, labels),
      examples: labels.length,
      positives: labels.reduce((sum, label) => sum + label, 0),
    };
  }

  /**
   * Moves this model's weights towards `previous`'s: each becomes `alpha · previous + (1 − alpha) ·
   * this`. With `previous` the version a step started from, this damps the step's update by
   * `1 − alpha` while keeping its direction (weight averaging between versions); the input
   * statistics and Adam's state stay this model's.
   *
   * @throws RangeError when `alpha` is outside [0, 1] or the two networks differ in features or
   *   weight shapes.
   */
  averageWith(previous: FraudModel, alpha: number): void {
    this.assertUsable();
    previous.assertUsable();
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new RangeError(`alpha must be within [0, 1], got ${alpha}`);
    }
    const mine = this.network.weights;
    const theirs = previous.network.weights;
    if (
      this.featureNames.join('\u0000') !== previous.featureNames.join('\u0000') ||
      mine.length !== theirs.length ||
      mine.some((weight, i) => weight.shape.join('x') !== theirs[i]?.shape.join('x'))
    ) {
      throw new RangeError('cannot average models of different features or shapes');
    }
    if (alpha === 0) return;
    tf.tidy(() => {
      mine.forEach((weight, i) => {
        const other = (theirs[i] as typeof weight).read();
        weight.write(tf.add(tf.mul(other, alpha), tf.mul(weight.read(), 1 - alpha)));
      });
    });
  }

  /** Serialises the model, weights and input statistics into a JSON-safe {@link ModelArtifact}. */
  async toArtifact(): Promise<ModelArtifact> {
    this.assertUsable();
    let saved: tf.io.ModelArtifacts | undefined;
    await this.network.save(
      tf.io.withSaveHandler((artifacts) => {
        saved = artifacts;
        return Promise.resolve({
          modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
        });
      }),
    );
    if (saved?.weightData === undefined || saved.weightSpecs === undefined) {
      throw new Error('tfjs saved the model without weights');
    }
    const optimizer = await this.optimizerState();
    return {
      format: MODEL_ARTIFACT_FORMAT,
      featureNames: [...this.featureNames],
      topology: saved.modelTopology as Record<string, unknown>,
      weightSpecs: saved.weightSpecs as WeightSpec[],
      weightsBase64: encodeWeights(tf.io.CompositeArrayBuffer.join(saved.weightData)),
      normalizer: this.normalizer.toState(),
      trainedSamples: this.samplesSeen,
      learningRate: this.learningRate,
      ...(optimizer === undefined ? {} : { optimizer }),
    };
  }

  /** An independent copy (weights, statistics and optimizer state), e.g. a candidate. */
  async clone(): Promise<FraudModel> {
    return FraudModel.fromArtifact(await this.toArtifact());
  }

  /** Frees the weights and optimizer state. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.network.dispose();
    this.optimizer.dispose();
  }

  /** Adam's state for the artifact; `undefined` before the first gradient step. */
  private async optimizerState(): Promise<OptimizerState | undefined> {
    const saved = await this.optimizer.getWeights();
    try {
      const [iterations, ...moments] = saved;
      if (iterations === undefined || moments.length === 0) return undefined;
      const parts = await Promise.all(moments.map((named) => named.tensor.data<'float32'>()));
      const flat = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        flat.set(part, offset);
        offset += part.length;
      }
      const powers = adamPowers(this.optimizer);
      const step = (await iterations.tensor.data())[0] as number;
      return {
        kind: 'adam',
        iterations: step,
        betaPowers:
          powers === undefined
            ? [0.9 ** (step + 1), 0.999 ** (step + 1)]
            : [(await powers[0].data())[0] as number, (await powers[1].data())[0] as number],
        momentsBase64: encodeWeights(flat.buffer),
      };
    } finally {
      // getWeights hands back the live moment variables, which stay the optimizer's; only the
      // iteration scalar is a fresh tensor.
      saved[0]?.tensor.dispose();
    }
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('FraudModel used after dispose()');
  }
}
