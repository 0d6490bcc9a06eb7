import type { ModelMetrics } from '@streamtrain/contracts';
import { averagePrecision, rocAuc } from '@streamtrain/metrics';

/** What the gate sees: both models' scores on the same holdout, and their metrics. */
export interface GateInput {
  readonly labels: readonly number[];
  readonly candidateScores: Float32Array;
  /** `null` before there is a champion. */
  readonly championScores: Float32Array | null;
  readonly candidate: ModelMetrics;
  readonly champion: ModelMetrics | null;
}

/** The gate's verdict, with a reason fit for a log line and the registry. */
export interface GateVerdict {
  readonly promote: boolean;
  readonly reason: string;
  /** Every check the gate made, in order (recorded in the version's lineage). */
  readonly reasons?: readonly string[];
  /** What the gate measured (intervals, say), recorded in the version's lineage. */
  readonly evidence?: unknown;
}

/**
 * Decides whether a candidate replaces the champion. Injected, so a statistically sounder gate
 * (a paired test on the same holdout, say) plugs in without touching the step.
 */
export type GateStrategy = (input: GateInput) => GateVerdict;

/** A gate from a decision on metrics alone, such as `@streamtrain/model`'s `gateCandidate`. */
export function metricsGate(
  decide: (candidate: ModelMetrics, champion: ModelMetrics | null) => GateVerdict,
): GateStrategy {
  return (input) => decide(input.candidate, input.champion);
}

/** The gate of a batch peer that deploys every retrain, as the handbook's folds do. */
export const promoteEveryVersion: GateStrategy = () => ({
  promote: true,
  reason: 'batch policy: every retrain is deployed',
});

/** AUC, AP and counts of `scores` against 0/1 `labels`. */
export function metricsOf(scores: Float32Array, labels: readonly number[]): ModelMetrics {
  return {
    auc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    examples: labels.length,
    positives: labels.reduce((sum, label) => sum + label, 0),
  };
}

/** An operator's freeze of automatic promotion: the gate still judges, the champion stays. */
export interface PromotionPin {
  readonly modelName: string;
  readonly actor: string;
  readonly reason: string;
  readonly pinnedAt: string;
}

/**
 * The gate's verdict under a pin: a pinned model keeps its champion whatever the gate says, and
 * the reason says so, so the registry and the logs show why a good candidate was not promoted.
 */
export function underPin<D extends { promote: boolean; reason: string }>(
  decision: D,
  pin: PromotionPin | null,
): D {
  if (pin === null || !decision.promote) return decision;
  return {
    ...decision,
    promote: false,
    reason: `promotion frozen by ${pin.actor}'s pin (${pin.reason}); the gate said: ${decision.reason}`,
  };
}
