import type { Example, ExampleSet } from './example-set';
import { toExampleSet } from './example-set';
import { isHoldout } from './holdout';
import type { ExampleReadModel } from './trainer-store';

/** What a composer knows besides the fresh examples. */
export interface TrainingSetContext {
  /** The pending batches the fresh examples came from. */
  readonly exampleSetIds: readonly string[];
  /** The examples earlier steps trained on can be read back from here (after a restart). */
  readonly examples?: ExampleReadModel;
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

/**
 * A bounded memory of examples earlier steps trained on: `@streamtrain/model`'s `ReplayBuffer`
 * fills it (every known fraud up to a bound, a uniform reservoir of genuine examples).
 */
export interface ExampleBuffer {
  add(examples: readonly Example[], isFraud: (example: Example) => boolean): void;
  contents(): Example[];
}

/** The rows of `set` as {@link Example}s (features are views, not copies). */
export function examplesOf(set: ExampleSet): Example[] {
  const { width } = set;
  return set.transactionIds.map((transactionId, i) => ({
    transactionId,
    eventTimeMs: set.eventTimesMs[i] as number,
    label: set.labels[i] as number,
    features: set.features.subarray(i * width, (i + 1) * width),
  }));
}

const isFraudExample = (example: Example): boolean => example.label === 1;

/**
 * "No forgetting": each step trains on its fresh examples followed by what the buffer kept of
 * earlier steps' examples, then adds the fresh ones to the buffer. Holdout examples never enter
 * it (the step only passes non-holdout examples, and a rebuild filters them out).
 *
 * Restart-safe: on its first step a composer rebuilds the buffer from the read model, adding in
 * (event time, id) order every non-holdout example older than the oldest fresh one, which is the
 * order earlier steps saw them in (the pipeline matures examples in event-time order). A replay
 * that never restarts finds nothing older at its first step, so both paths keep the same buffer.
 */
export function replayBufferComposer(buffer: ExampleBuffer): TrainingSetComposer {
  let restored = false;
  return async (fresh, context) => {
    const freshExamples = examplesOf(fresh);
    if (!restored) {
      restored = true;
      const oldest = fresh.eventTimesMs.reduce((min, ms) => Math.min(min, ms), Infinity);
      if (context.examples !== undefined && Number.isFinite(oldest)) {
        const freshIds = new Set(fresh.transactionIds);
        const earlier = await context.examples.readExamplesBetween(0, oldest);
        buffer.add(
          examplesOf(earlier).filter(
            (example) => !isHoldout(example.transactionId) && !freshIds.has(example.transactionId),
          ),
          isFraudExample,
        );
      }
    }
    const kept = buffer.contents();
    buffer.add(freshExamples, isFraudExample);
    return kept.length === 0 ? fresh : toExampleSet([...freshExamples, ...kept], fresh.width);
  };
}
