import type { BenchOutcome } from '../harness/bench-context';
import { progress } from '../harness/progress';

/** `docs/results/scoring.json` `results`: nothing is measured until a scorer exists. */
export interface ScoringResults {
  readonly measured: false;
  readonly reason: string;
}

/** Benchmark 5. There is no scorer service yet, so there is no number to give. */
export function runScoringBenchmark(): Promise<BenchOutcome<ScoringResults>> {
  const reason = 'not measured: no scorer yet';
  progress(`scoring: ${reason}`);
  return Promise.resolve({ config: {}, results: { measured: false, reason } });
}
