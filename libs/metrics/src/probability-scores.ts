import { assertBinaryInputs } from './binary-inputs';

function assertProbabilities(probabilities: ArrayLike<number>): void {
  for (let i = 0; i < probabilities.length; i += 1) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`probability at index ${i} is not in [0, 1]: ${p}`);
    }
  }
}

/**
 * Mean binary cross-entropy of predicted `probabilities` against 0/1 `labels` (sklearn's
 * `log_loss` for two classes). Probabilities are clipped to [ε, 1 − ε] so one confident mistake
 * costs a large but finite amount instead of turning the mean into Infinity.
 *
 * @param epsilon - clipping bound. @default 1e-15
 * @returns the mean loss in nats, or `null` for empty input.
 * @throws RangeError when lengths differ, a probability is outside [0, 1] or a label is not 0 or 1.
 */
export function logLoss(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  epsilon = 1e-15,
): number | null {
  assertBinaryInputs(probabilities, labels);
  assertProbabilities(probabilities);
  if (probabilities.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < probabilities.length; i += 1) {
    const p = Math.min(Math.max(probabilities[i] as number, epsilon), 1 - epsilon);
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / probabilities.length;
}

/**
 * Brier score: the mean squared difference between predicted `probabilities` and 0/1 `labels`.
 * Lower is better; unlike AUC and AP it also penalises badly calibrated probabilities.
 *
 * @returns the score in [0, 1], or `null` for empty input.
 * @throws RangeError when lengths differ, a probability is outside [0, 1] or a label is not 0 or 1.
 */
export function brierScore(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
): number | null {
  assertBinaryInputs(probabilities, labels);
  assertProbabilities(probabilities);
  if (probabilities.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < probabilities.length; i += 1) {
    const difference = (probabilities[i] as number) - (labels[i] as number);
    sum += difference * difference;
  }
  return sum / probabilities.length;
}
