import * as tf from '@tensorflow/tfjs';
import type { TrainingData } from './training-data';

/** The trainer's network, built with tfjs layers directly: Dense 32 ReLU, Dense 16 ReLU, sigmoid. */
export function buildBareNetwork(columns: number, seed = 42): tf.Sequential {
  const network = tf.sequential();
  network.add(
    tf.layers.dense({
      units: 32,
      activation: 'relu',
      inputShape: [columns],
      kernelInitializer: tf.initializers.heNormal({ seed }),
    }),
  );
  network.add(
    tf.layers.dense({
      units: 16,
      activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }),
    }),
  );
  network.add(
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
    }),
  );
  network.compile({ optimizer: tf.train.adam(0.001), loss: 'binaryCrossentropy' });
  return network;
}

/** Standardises columns to mean 0 and variance 1 (what FraudModel's normaliser does). */
export function standardize(data: TrainingData): Float32Array {
  const { x, rows, columns } = data;
  const out = new Float32Array(x.length);
  for (let c = 0; c < columns; c += 1) {
    let sum = 0;
    for (let r = 0; r < rows; r += 1) sum += x[r * columns + c] as number;
    const mean = sum / rows;
    let squares = 0;
    for (let r = 0; r < rows; r += 1) squares += ((x[r * columns + c] as number) - mean) ** 2;
    const std = Math.sqrt(squares / rows) || 1;
    for (let r = 0; r < rows; r += 1)
      out[r * columns + c] = ((x[r * columns + c] as number) - mean) / std;
  }
  return out;
}

/**
 * `model.fit` with the trainer's settings (shuffled mini-batches, class weight for fraud): the
 * reference. Tensor creation is inside the timing, as FraudModel.train's copies are.
 */
export async function fitBare(
  network: tf.Sequential,
  standardized: Float32Array,
  data: TrainingData,
  epochs: number,
  batchSize: number,
  positiveWeight: number,
): Promise<number> {
  const started = performance.now();
  const xs = tf.tensor2d(standardized, [data.rows, data.columns]);
  const ys = tf.tensor2d(data.y, [data.rows, 1]);
  try {
    await network.fit(xs, ys, {
      epochs,
      batchSize,
      shuffle: true,
      classWeight: { 0: 1, 1: positiveWeight },
      verbose: 0,
    });
  } finally {
    xs.dispose();
    ys.dispose();
  }
  return (performance.now() - started) / 1000;
}
