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
