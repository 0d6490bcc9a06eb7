/**
 * When a step's update is damped by averaging with the version it started from, and when it is
 * not: averaging smooths the noise of small steps but slows the model down when the fraud
 * patterns change, so it backs off while the start model does unusually badly on the step's new
 * frauds (docs/QUALITY.md, issue 8).
 */

/** Backing off the averaging while the start model misjudges the new frauds. */
export interface AveragingBackoff {
  /** Earlier steps whose fresh-fraud loss makes the reference (their median). */
  readonly steps: number;
  /** A step averages only if its fresh-fraud loss is at most this many times the reference. */
  readonly ratio: number;
  /**
   * Steps in a row above the ratio before averaging stops: one step's loss over a couple of dozen
   * new frauds is noisy, a pattern change keeps it high step after step. @default 1
   */
  readonly consecutive?: number;
}

/** What the schedule decided for one step. */
export interface AveragingDecision {
  /** Share of the start version's weights in the step's (0: the trained weights as they are). */
  readonly alpha: number;
  /** The start model's mean log-loss on the step's new fraud examples; `null` without any. */
  readonly freshFraudLoss: number | null;
  /** Median of the earlier steps' fresh-fraud losses; `null` until enough steps. */
  readonly referenceLoss: number | null;
}

// Keras's epsilon, as the model's loss uses: a score of 0 would make the loss infinite.
const EPSILON = 1e-7;
/** Fewest earlier steps a reference is taken from. */
const MIN_REFERENCE_STEPS = 5;

/**
 * The mean binary cross-entropy of `scores` over the rows labelled 1: how badly a model ranks the
 * frauds it has not trained on yet. `null` when no row is a fraud.
 */
export function freshFraudLoss(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): number | null {
  let sum = 0;
  let frauds = 0;
  for (let i = 0; i < labels.length; i += 1) {
    if (labels[i] !== 1) continue;
    const p = Math.min(Math.max(scores[i] as number, EPSILON), 1 - EPSILON);
    sum -= Math.log(p);
    frauds += 1;
  }
  return frauds === 0 ? null : sum / frauds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Decides each step's averaging share: `alpha`, unless `backoff` is set and the start model's
 * fresh-fraud loss is above `ratio` times the median of the last `steps` steps' for `consecutive`
 * steps in a row (then 0, so the step moves the model at full speed). Its memory is the recent losses, in process: after a
 * restart it averages with `alpha` until it has seen a few steps again.
 */
export class AveragingSchedule {
  private readonly recent: number[] = [];
  private above = 0;

  constructor(
    private readonly alpha: number,
    private readonly backoff?: AveragingBackoff,
  ) {
    if (!(alpha >= 0 && alpha < 1)) {
      throw new RangeError(`weight averaging must be within [0, 1), got ${alpha}`);
    }
    if (backoff !== undefined && !(Number.isInteger(backoff.steps) && backoff.steps > 0)) {
      throw new RangeError(`backoff steps must be a positive integer, got ${backoff.steps}`);
    }
    if (backoff !== undefined && !(backoff.ratio > 0)) {
      throw new RangeError(`backoff ratio must be positive, got ${backoff.ratio}`);
    }
    const consecutive = backoff?.consecutive ?? 1;
    if (!(Number.isInteger(consecutive) && consecutive > 0)) {
      throw new RangeError(
        `backoff consecutive steps must be a positive integer, got ${consecutive}`,
      );
    }
  }

  /** Whether a step needs the start model's scores of its new examples. */
  get needsScores(): boolean {
    return this.alpha > 0 && this.backoff !== undefined;
  }

  /** The share for a step whose start model has `loss` on the new frauds (and remembers it). */
  decide(loss: number | null): AveragingDecision {
    const { backoff } = this;
    if (backoff === undefined || this.alpha === 0) {
      return { alpha: this.alpha, freshFraudLoss: loss, referenceLoss: null };
    }
    const referenceLoss =
      this.recent.length >= Math.min(MIN_REFERENCE_STEPS, backoff.steps)
        ? median(this.recent)
        : null;
    // A step without new frauds says nothing either way: the run of high steps goes on.
    if (loss !== null) {
      this.above =
        referenceLoss !== null && loss > backoff.ratio * referenceLoss ? this.above + 1 : 0;
    }
    const drifting = loss !== null && this.above >= (backoff.consecutive ?? 1);
    if (loss !== null) {
      this.recent.push(loss);
      if (this.recent.length > backoff.steps) this.recent.shift();
    }
    return { alpha: drifting ? 0 : this.alpha, freshFraudLoss: loss, referenceLoss };
  }
}
