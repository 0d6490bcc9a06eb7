import type { ExampleSet } from './example-set';

/** What a composer knows besides the fresh examples. */
export interface TrainingSetContext {
  /** The pending batches the fresh examples came from. */
  readonly exampleSetIds: readonly string[];
}

/**
 * Decides what a step trains on from the examples that are new to it (non-holdout). Injected, so
 * a replay buffer (known frauds plus a reservoir of genuine examples) can be mixed in.
 */
export type TrainingSetComposer = (
  fresh: ExampleSet,
  context: TrainingSetContext,
) => ExampleSet | Promise<ExampleSet>;

/** The default composition: the fresh examples alone. */
export const freshExamplesOnly: TrainingSetComposer = (fresh) => fresh;
