/**
 * Whether a training step is due: the pending batches hold at least `minExamples` training
 * examples, or `force` asks for a step on whatever is pending (never on nothing). The cadence
 * follows the data, not the wall clock, so a replay trains the same versions.
 */
export function isStepDue(pendingExamples: number, minExamples: number, force = false): boolean {
  if (pendingExamples <= 0) return false;
  return force || pendingExamples >= minExamples;
}
