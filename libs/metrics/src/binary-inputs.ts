/**
 * A run of examples that share one score, in descending score order, with how many of them are
 * positive and negative. Every ranking metric here walks these runs, so tied scores are always
 * handled as one threshold instead of depending on the sort's tie order.
 */
export interface ScoreGroup {
  readonly positives: number;
  readonly negatives: number;
}

/** Scores grouped by distinct value, highest first, plus the class totals. */
export interface RankedGroups {
  readonly groups: readonly ScoreGroup[];
  readonly positives: number;
  readonly negatives: number;
}

/**
 * Checks that `scores` and `labels` describe the same examples, scores are finite and labels are
 * 0 or 1, and throws a `RangeError` naming the first offending index otherwise.
 *
 * A silently coerced label (e.g. 0.5 or NaN) would turn a data bug into a plausible-looking metric,
 * so this refuses instead.
 */
export function assertBinaryInputs(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new RangeError(
      `scores and labels differ in length (${scores.length} vs ${labels.length})`,
    );
  }
  for (let i = 0; i < scores.length; i += 1) {
    const score = scores[i] as number;
    const label = labels[i] as number;
    if (!Number.isFinite(score)) {
      throw new RangeError(`score at index ${i} is not a finite number: ${score}`);
    }
    if (label !== 0 && label !== 1) {
      throw new RangeError(`label at index ${i} is not 0 or 1: ${label}`);
    }
  }
}

/** Validates the inputs, then groups them by distinct score, highest score first. */
export function rankByScore(scores: ArrayLike<number>, labels: ArrayLike<number>): RankedGroups {
  assertBinaryInputs(scores, labels);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));

  const groups: ScoreGroup[] = [];
  let positives = 0;
  let negatives = 0;
  let i = 0;
  while (i < order.length) {
    const score = scores[order[i] as number] as number;
    let groupPositives = 0;
    let groupNegatives = 0;
    while (i < order.length && scores[order[i] as number] === score) {
      if (labels[order[i] as number] === 1) groupPositives += 1;
      else groupNegatives += 1;
      i += 1;
    }
    groups.push({ positives: groupPositives, negatives: groupNegatives });
    positives += groupPositives;
    negatives += groupNegatives;
  }
  return { groups, positives, negatives };
}
