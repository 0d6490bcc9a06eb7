import { rankByScore } from './binary-inputs';

/**
 * Area under the ROC curve of `scores` against 0/1 `labels`, as sklearn's `roc_auc_score`
 * computes it: tied scores form one ROC point and the curve is integrated with the trapezoid
 * rule, which equals the Mann–Whitney statistic with average ranks for ties.
 *
 * @returns the AUC in [0, 1], or `null` when the labels hold only one class (the curve is
 *   undefined: there is no false- or no true-positive rate to compute).
 * @throws RangeError when lengths differ, a score is not finite or a label is not 0 or 1.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const { groups, positives, negatives } = rankByScore(scores, labels);
  if (positives === 0 || negatives === 0) return null;

  // Sum in counts and divide once at the end: exact for integer counts, so a perfect ranking
  // gives exactly 1 rather than 0.9999999.
  let area = 0;
  let truePositives = 0;
  for (const group of groups) {
    area += group.negatives * (truePositives + group.positives / 2);
    truePositives += group.positives;
  }
  return area / (positives * negatives);
}
