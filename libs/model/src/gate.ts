import { pairedBootstrap } from '@streamtrain/metrics';
import type { Interval, RankingIntervals } from '@streamtrain/metrics';

/** Holdout metrics of one model, as {@link FraudModel.evaluate} returns them. */
export interface ModelMetrics {
  /** ROC AUC; `null` when the holdout has one class only. */
  auc: number | null;
  /** Average precision; `null` when the holdout has no positives. */
  averagePrecision: number | null;
  examples: number;
  positives: number;
}

/** When a candidate may replace the champion. */
export interface GatePolicy {
  /** Fewest holdout examples a comparison is trusted on. */
  minExamples: number;
  /** Fewest fraudulent holdout examples; AP on a handful of positives is mostly noise. */
  minPositives: number;
  /**
   * How far the candidate's AP may fall below the champion's and still be promoted. A small
   * tolerance lets a fresher model through when the two are within noise of each other.
   */
  maxApDrop: number;
}

/** The gate's verdict, with a reason fit for a log line and the model registry. */
export interface GateDecision {
  promote: boolean;
  reason: string;
}

const usable = (value: number | null): value is number => value !== null && Number.isFinite(value);

const format = (value: number): string => value.toFixed(4);

/**
 * Decides whether `candidate` replaces `champion`. Both should be measured on the same holdout.
 *
 * - No champion: promote once the holdout is big enough to judge by and the candidate ranks
 *   better than chance (AUC above 0.5), since such a model beats serving nothing.
 * - Too few holdout examples or positives: keep the champion.
 * - Otherwise compare average precision, which tracks what matters under ~1% fraud, and promote
 *   when `candidate ≥ champion − maxApDrop`. If either AP is missing, compare AUC with the same
 *   tolerance; if that is missing too, keep the champion.
 *
 * @throws RangeError when a policy value is negative or not finite.
 */
export function gateCandidate(
  candidate: ModelMetrics,
  champion: ModelMetrics | null,
  policy: GatePolicy,
): GateDecision {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`gate policy ${name} must be a non-negative number, got ${value}`);
    }
  }
  if (champion === null) {
    // A first champion trained and judged on a handful of rows would serve until the gate can
    // beat it; wait for a holdout worth the name.
    if (candidate.examples < policy.minExamples || candidate.positives < policy.minPositives) {
      return {
        promote: false,
        reason: `no champion yet, and the holdout (${candidate.examples} examples, ${candidate.positives} fraud) is below the ${policy.minExamples}/${policy.minPositives} minimum`,
      };
    }
    // Serving a model that ranks fraud below genuine is worse than serving none: early on, when
    // only quickly labelled frauds and long-matured genuine examples exist, that happens.
    if (candidate.auc === null || candidate.auc <= 0.5) {
      return {
        promote: false,
        reason: `no champion yet, and the candidate ranks no better than chance (AUC ${candidate.auc === null ? 'n/a' : format(candidate.auc)})`,
      };
    }
    return { promote: true, reason: 'no champion to compare with' };
  }
  if (candidate.examples < policy.minExamples) {
    return {
      promote: false,
      reason: `holdout has ${candidate.examples} examples, fewer than the ${policy.minExamples} required`,
    };
  }
  if (candidate.positives < policy.minPositives) {
    return {
      promote: false,
      reason: `holdout has ${candidate.positives} positives, fewer than the ${policy.minPositives} required`,
    };
  }
  const metric =
    usable(candidate.averagePrecision) && usable(champion.averagePrecision)
      ? { name: 'AP', candidate: candidate.averagePrecision, champion: champion.averagePrecision }
      : usable(candidate.auc) && usable(champion.auc)
        ? { name: 'AUC', candidate: candidate.auc, champion: champion.auc }
        : null;
  if (metric === null) {
    return { promote: false, reason: 'no metric comparable between candidate and champion' };
  }
  const floor = metric.champion - policy.maxApDrop;
  // Metrics on the same holdout can differ by rounding alone; that must not flip the verdict.
  const roundingSlack = 1e-12;
  const comparison = `candidate ${metric.name} ${format(metric.candidate)} vs champion ${format(metric.champion)} (tolerance ${policy.maxApDrop})`;
  return metric.candidate >= floor - roundingSlack
    ? { promote: true, reason: comparison }
    : { promote: false, reason: `${comparison}: below the floor ${format(floor)}` };
}

/** When a candidate may replace the champion, judged with bootstrap confidence intervals. */
export interface StatisticalGatePolicy {
  /** Fewest holdout examples a comparison is trusted on. */
  readonly minExamples: number;
  /** Fewest fraudulent holdout examples. */
  readonly minPositives: number;
  /** Two-sided confidence of the intervals, in (0, 1), e.g. 0.9. */
  readonly confidence: number;
  /**
   * Non-inferiority margin: the candidate is refused only when its AP is below the champion's by
   * more than this with the given confidence (0: refused only when significantly worse).
   */
  readonly maxApDrop: number;
  /** Bootstrap replicates, e.g. 200. */
  readonly replicates: number;
  /** Seeds the bootstrap, so the same holdout and scores always get the same verdict. */
  readonly seed: number;
}

/** The scores of both models on one holdout, with its labels. */
export interface HoldoutScores {
  readonly labels: ArrayLike<number>;
  readonly candidate: ArrayLike<number>;
  /** `null` when there is no champion yet. */
  readonly champion: ArrayLike<number> | null;
}

/** What the gate measured, for the registry's lineage. */
export interface GateEvidence {
  readonly examples: number;
  readonly positives: number;
  readonly confidence: number;
  readonly replicates: number;
  readonly candidate: RankingIntervals;
  readonly champion: RankingIntervals | null;
  /** Candidate − champion, paired on the same resampled examples. */
  readonly difference: RankingIntervals | null;
}

/** A {@link GateDecision} with every check it made and the intervals it judged by. */
export interface StatisticalGateDecision extends GateDecision {
  /** One line per check, in order; `reason` is the last, the one that decided. */
  readonly reasons: readonly string[];
  /** `null` when the holdout was too small to measure. */
  readonly evidence: GateEvidence | null;
}

const formatInterval = (name: string, interval: Interval): string =>
  `${name} ${format(interval.estimate)} [${format(interval.low)}, ${format(interval.high)}]`;

/**
 * Decides whether a candidate replaces the champion from both models' scores on the same holdout,
 * with a paired bootstrap (`pairedBootstrap` of `@streamtrain/metrics`) instead of a point
 * comparison: AP on a few dozen frauds moves by several hundredths between resamples, so a fixed
 * tolerance of 0.01 refuses good candidates and promotes bad ones by chance.
 *
 * In order: too few holdout examples, frauds or genuine examples → keep; a candidate whose AUC
 * interval does not lie wholly above 0.5 (not better than chance with the given confidence) → keep;
 * no champion → promote; a champion whose AUC interval lies wholly below 0.5 on this holdout →
 * promote; the candidate's AP below the champion's by more than `maxApDrop` with the given
 * confidence (the upper end of the paired difference below −maxApDrop) → keep; otherwise promote,
 * since the fresher model is not shown worse. Pure: the seed fixes the resampling.
 *
 * @throws RangeError when a policy value is out of range or the scores and labels differ in length.
 */
export function gateOnHoldout(
  scores: HoldoutScores,
  policy: StatisticalGatePolicy,
): StatisticalGateDecision {
  for (const key of ['minExamples', 'minPositives', 'maxApDrop'] as const) {
    const value = policy[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`gate policy ${key} must be a non-negative number, got ${value}`);
    }
  }
  if (!(policy.confidence > 0 && policy.confidence < 1)) {
    throw new RangeError(`gate policy confidence must be in (0, 1), got ${policy.confidence}`);
  }
  const { labels, candidate, champion } = scores;
  if (
    candidate.length !== labels.length ||
    (champion !== null && champion.length !== labels.length)
  ) {
    throw new RangeError('candidate, champion and labels must cover the same holdout');
  }
  const reasons: string[] = [];
  const decide = (
    promote: boolean,
    reason: string,
    evidence: GateEvidence | null,
  ): StatisticalGateDecision => {
    reasons.push(reason);
    return { promote, reason, reasons, evidence };
  };
  const examples = labels.length;
  let positives = 0;
  for (let i = 0; i < examples; i += 1) positives += labels[i] === 1 ? 1 : 0;
  if (
    examples < policy.minExamples ||
    positives < policy.minPositives ||
    positives === 0 ||
    positives === examples
  ) {
    return decide(
      false,
      `holdout of ${examples} examples, ${positives} fraud, is below the ${policy.minExamples}/${policy.minPositives} minimum or has one class`,
      null,
    );
  }
  const bootstrap = {
    replicates: policy.replicates,
    confidence: policy.confidence,
    seed: policy.seed,
  };
  const paired = pairedBootstrap(candidate, champion ?? candidate, labels, bootstrap);
  const evidence: GateEvidence = {
    examples,
    positives,
    confidence: policy.confidence,
    replicates: paired.replicates,
    candidate: paired.a,
    champion: champion === null ? null : paired.b,
    difference: champion === null ? null : paired.difference,
  };
  const level = `${Math.round(policy.confidence * 100)} %`;
  reasons.push(
    `holdout ${examples} examples, ${positives} fraud; candidate ${formatInterval('AUC', paired.a.auc)}, ${formatInterval('AP', paired.a.averagePrecision)} (${level} intervals)`,
  );
  if (!(paired.a.auc.low > 0.5)) {
    return decide(
      false,
      `candidate not better than chance at ${level}: AUC interval reaches ${format(paired.a.auc.low)}`,
      evidence,
    );
  }
  if (champion === null) return decide(true, 'no champion to compare with', evidence);
  reasons.push(
    `champion ${formatInterval('AUC', paired.b.auc)}, ${formatInterval('AP', paired.b.averagePrecision)}; candidate − champion ${formatInterval('AP', paired.difference.averagePrecision)}`,
  );
  if (paired.b.auc.high < 0.5) {
    return decide(true, `champion ranks below chance at ${level} on this holdout`, evidence);
  }
  const difference = paired.difference.averagePrecision;
  if (difference.high < -policy.maxApDrop) {
    return decide(
      false,
      `candidate AP worse than the champion's at ${level}: difference at most ${format(difference.high)}, below −${policy.maxApDrop}`,
      evidence,
    );
  }
  return decide(
    true,
    `candidate AP not shown worse than the champion's at ${level} (difference ${format(difference.estimate)} [${format(difference.low)}, ${format(difference.high)}], margin ${policy.maxApDrop})`,
    evidence,
  );
}

/**
 * {@link gateOnHoldout} as the trainer's gate strategy (`@streamtrain/training`'s `GateStrategy`):
 * both models' scores on the same holdout in, the decision with its checks and evidence out.
 */
export function statisticalGate(
  policy: StatisticalGatePolicy,
): (input: {
  readonly labels: ArrayLike<number>;
  readonly candidateScores: ArrayLike<number>;
  readonly championScores: ArrayLike<number> | null;
}) => StatisticalGateDecision {
  return (input) =>
    gateOnHoldout(
      { labels: input.labels, candidate: input.candidateScores, champion: input.championScores },
      policy,
    );
}
