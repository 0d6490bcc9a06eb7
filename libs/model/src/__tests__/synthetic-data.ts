/** Test helpers: a seeded, linearly separable fraud-like data set. */
import { seededRandom } from '../seeded-random';

export const FEATURE_NAMES = Array.from({ length: 15 }, (_, i) => `feature_${i + 1}`);

export interface Dataset {
  x: Float32Array;
  y: Float32Array;
}

/**
 * Rows whose label is a noisy threshold of a fixed linear score, with features on very different
 * scales (amounts in thousands, ratios near 0) as real transaction features have.
 */
export function separableDataset(rows: number, seed: number, fraudRate = 0.1): Dataset {
  const random = seededRandom(seed);
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const columns = FEATURE_NAMES.length;
  const x = new Float32Array(rows * columns);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r += 1) {
    const fraud = random() < fraudRate;
    y[r] = fraud ? 1 : 0;
    for (let c = 0; c < columns; c += 1) {
      const signal = c < 5 && fraud ? 2.5 : 0;
      const scale = c % 3 === 0 ? 1000 : c % 3 === 1 ? 0.01 : 1;
      x[r * columns + c] = (gaussian() + signal) * scale + (c % 3 === 0 ? 5000 : 0);
    }
  }
  return { x, y };
}
