import { toDenseMatrix } from './feature-matrix';
import type { FeatureMatrix } from './feature-matrix';

/** The activations a {@link DenseInference} layer may apply. */
export type DenseActivation = 'relu' | 'sigmoid' | 'linear';

/** One fully connected layer: `activation(x · kernel + bias)`. */
export interface DenseLayer {
  /** Row-major `inputs × units`, as tfjs stores a Dense kernel. */
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  readonly inputs: number;
  readonly units: number;
  readonly activation: DenseActivation;
}

/** What a {@link DenseInference} computes: the input standardisation, then the layers in order. */
export interface DenseInferenceSpec {
  readonly featureNames: readonly string[];
  /** Per feature: the input is `(x − mean) × scale`. */
  readonly mean: Float64Array;
  readonly scale: Float64Array;
  readonly layers: readonly DenseLayer[];
}

/**
 * The fraud network's forward pass in plain JavaScript over a snapshot of its weights, for
 * serving. A tfjs `predict` costs about 0.1 ms however few the rows (tensor set-up, kernel
 * dispatch); the network is a few hundred multiply-adds per row, so one row here takes about a
 * microsecond and a batch costs in proportion to its rows. Every value is rounded to float32
 * where tfjs stores one (the standardised input, each layer's output), so the scores agree with
 * {@link FraudModel.predict} to float32 rounding; unlike a backend kernel, a row's score never
 * depends on the other rows of its batch. Holds no tfjs memory: nothing to dispose.
 */
export class DenseInference {
  private readonly width: number;
  private readonly activations: Float64Array;
  private readonly weights: readonly UnitMajorLayer[];

  constructor(private readonly spec: DenseInferenceSpec) {
    const columns = spec.featureNames.length;
    if (spec.mean.length !== columns || spec.scale.length !== columns) {
      throw new RangeError(`standardisation of ${spec.mean.length} features, expected ${columns}`);
    }
    let inputs = columns;
    spec.layers.forEach((layer, i) => {
      if (
        layer.inputs !== inputs ||
        layer.kernel.length !== layer.inputs * layer.units ||
        layer.bias.length !== layer.units
      ) {
        throw new RangeError(`layer ${i} does not take ${inputs} inputs`);
      }
      inputs = layer.units;
    });
    if (inputs !== 1) throw new RangeError(`the last layer has ${inputs} units, expected 1`);
    this.width = Math.max(columns, ...spec.layers.map((layer) => layer.units));
    this.activations = new Float64Array(2 * this.width);
    // Unit-major copies: a unit's weights are contiguous, which the inner loop walks in order.
    this.weights = spec.layers.map((layer) => {
      const byUnit = new Float64Array(layer.kernel.length);
      for (let i = 0; i < layer.inputs; i += 1) {
        for (let u = 0; u < layer.units; u += 1) {
          byUnit[u * layer.inputs + i] = layer.kernel[i * layer.units + u] as number;
        }
      }
      return {
        byUnit,
        bias: Float64Array.from(layer.bias),
        inputs: layer.inputs,
        units: layer.units,
        kind:
          layer.activation === 'relu' ? RELU : layer.activation === 'sigmoid' ? SIGMOID : LINEAR,
      };
    });
  }

  /** Feature order the rows must follow. */
  get featureNames(): readonly string[] {
    return this.spec.featureNames;
  }

  /**
   * Fraud probabilities for the rows of `x`, in row order.
   *
   * @throws RangeError for a row of the wrong width or a non-finite feature, naming it.
   */
  predict(x: FeatureMatrix): Float32Array {
    const { featureNames, mean, scale } = this.spec;
    const weights = this.weights;
    const { values, rows, columns } = toDenseMatrix(x, featureNames.length);
    const out = new Float32Array(rows);
    // Two halves of one buffer: a layer reads one and writes the other.
    const buffer = this.activations;
    const width = this.width;
    for (let r = 0; r < rows; r += 1) {
      let input = 0;
      for (let c = 0; c < columns; c += 1) {
        const value = values[r * columns + c] as number;
        if (!Number.isFinite(value)) {
          throw new RangeError(
            `feature '${featureNames[c]}' of row ${r} is not a finite number: ${value}`,
          );
        }
        buffer[c] = Math.fround((value - (mean[c] as number)) * (scale[c] as number));
      }
      for (let l = 0; l < weights.length; l += 1) {
        const { byUnit, bias, inputs, units, kind } = weights[l] as UnitMajorLayer;
        const output = input === 0 ? width : 0;
        for (let u = 0; u < units; u += 1) {
          let sum = bias[u] as number;
          const row = u * inputs;
          for (let i = 0; i < inputs; i += 1) {
            sum += (buffer[input + i] as number) * (byUnit[row + i] as number);
          }
          const activated =
            kind === RELU ? (sum > 0 ? sum : 0) : kind === SIGMOID ? 1 / (1 + Math.exp(-sum)) : sum;
          buffer[output + u] = Math.fround(activated);
        }
        input = output;
      }
      out[r] = buffer[input] as number;
    }
    return out;
  }
}

const RELU = 0;
const SIGMOID = 1;
const LINEAR = 2;

interface UnitMajorLayer {
  /** `units × inputs`: unit `u`'s weights at `u × inputs`. */
  readonly byUnit: Float64Array;
  readonly bias: Float64Array;
  readonly inputs: number;
  readonly units: number;
  readonly kind: typeof RELU | typeof SIGMOID | typeof LINEAR;
}
