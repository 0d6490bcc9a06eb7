import { rankByScore } from './binary-inputs';

/**
 * Average precision of `scores` against 0/1 `labels`, with sklearn's `average_precision_score`
 * definition: AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, highest first, where a
 * threshold admits all examples tied at it. This is a step sum, not an interpolated area, so it does
 * not reward the optimistic linear interpolation between precision-recall points.
 *
 * @returns AP in [0, 1], or `null` when there are no positives (recall is undefined).
 * @throws RangeError when lengths differ, a score is not finite or a label is not 0 or 1.
 */
export function averagePrecision(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): number | null {
  const { groups, positives } = rankByScore(scores, labels);
  if (positives === 0) return null;

  let sum = 0;
  let truePositives = 0;
  let predictedPositives = 0;
  for (const group of groups) {
    truePositives += group.positives;
    predictedPositives += group.positives + group.negatives;
    // Recall only moves when the group holds positives; its step is group.positives / positives.
    if (group.positives > 0) sum += group.positives * (truePositives / predictedPositives);
  }
  return sum / positives;
}
