import type { DenseMatrix } from './feature-matrix';

/** Running per-feature statistics, JSON-serialisable: `m2` is the sum of squared deviations. */
export interface NormalizerState {
  count: number;
  mean: number[];
  m2: number[];
}

// Below this variance a feature is treated as constant: dividing by ~0 would blow a rounding
// difference up into a huge input.
const MIN_VARIANCE = 1e-12;

/**
 * Standardises features with running mean and variance, merged batch by batch with Chan et al.'s
 * parallel update. Statistics only ever accumulate, so a warm-started model keeps the scale its
 * weights were trained on, drifting slowly as data arrives instead of jumping with each batch.
 */
export class RunningNormalizer {
  private count: number;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(
    private readonly featureNames: readonly string[],
    state?: NormalizerState,
  ) {
    this.count = state?.count ?? 0;
    this.mean =
      state === undefined ? new Float64Array(featureNames.length) : Float64Array.from(state.mean);
    this.m2 =
      state === undefined ? new Float64Array(featureNames.length) : Float64Array.from(state.m2);
  }

  /** Merges the statistics of `matrix` into the running ones; refuses non-finite values. */
  update(matrix: DenseMatrix): void {
    const { values, rows, columns } = matrix;
    if (rows === 0) return;
    const batchMean = new Float64Array(columns);
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < columns; c += 1) {
        const value = values[r * columns + c] as number;
        if (!Number.isFinite(value)) {
          throw new RangeError(
            `feature '${this.featureNames[c]}' of row ${r} is not a finite number: ${value}`,
          );
        }
        batchMean[c] = (batchMean[c] as number) + value;
      }
    }
    for (let c = 0; c < columns; c += 1) batchMean[c] = (batchMean[c] as number) / rows;
    // Two passes over the batch: summing squares of raw values loses precision for large amounts.
    const batchM2 = new Float64Array(columns);
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < columns; c += 1) {
        const deviation = (values[r * columns + c] as number) - (batchMean[c] as number);
        batchM2[c] = (batchM2[c] as number) + deviation * deviation;
      }
    }
    const total = this.count + rows;
    for (let c = 0; c < columns; c += 1) {
      const delta = (batchMean[c] as number) - (this.mean[c] as number);
      this.mean[c] = (this.mean[c] as number) + (delta * rows) / total;
      this.m2[c] =
        (this.m2[c] as number) +
        (batchM2[c] as number) +
        (delta * delta * this.count * rows) / total;
    }
    this.count = total;
  }

  /**
   * Returns `(x − mean) / std` per feature. Before any update, and for constant features, the
   * scale is 1 so values pass through centred rather than divided by zero.
   */
  standardize(matrix: DenseMatrix): Float32Array {
    const { values, rows, columns } = matrix;
    const { scale } = this.affine();
    const out = new Float32Array(values.length);
    for (let r = 0; r < rows; r += 1) {
      for (let c = 0; c < columns; c += 1) {
        const i = r * columns + c;
        const value = values[i] as number;
        if (!Number.isFinite(value)) {
          throw new RangeError(
            `feature '${this.featureNames[c]}' of row ${r} is not a finite number: ${value}`,
          );
        }
        out[i] = (value - (this.mean[c] as number)) * (scale[c] as number);
      }
    }
    return out;
  }

  /**
   * What {@link RunningNormalizer.standardize} applies now, `(x − mean) × scale`, as copies: a
   * snapshot that later updates do not change.
   */
  affine(): { mean: Float64Array; scale: Float64Array } {
    const scale = new Float64Array(this.mean.length);
    for (let c = 0; c < scale.length; c += 1) {
      const variance = this.count > 0 ? (this.m2[c] as number) / this.count : 1;
      scale[c] = variance > MIN_VARIANCE ? 1 / Math.sqrt(variance) : 1;
    }
    return { mean: Float64Array.from(this.mean), scale };
  }

  /** A copy of the statistics, for the model artifact. */
  toState(): NormalizerState {
    return { count: this.count, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }
}
