import type { Cleanup } from './cleanup';

/** What every benchmark is given by the suite. */
export interface BenchContext {
  /** Everything created (topics, schemas, exchanges, processes) is registered here. */
  readonly cleanup: Cleanup;
  /** Where service logs go. */
  readonly logDir: string;
}

/** What a benchmark hands back to be written as `docs/results/<name>.json`. */
export interface BenchOutcome<R> {
  readonly config: Readonly<Record<string, unknown>>;
  readonly results: R;
}
