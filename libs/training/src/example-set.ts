/** Orders ids by UTF-16 code units, as the warehouse's `COLLATE "C"` ORDER BY does. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Labelled feature vectors in (event time, id) order, ready for training or evaluation. */
export interface ExampleSet {
  readonly transactionIds: readonly string[];
  readonly eventTimesMs: readonly number[];
  readonly labels: readonly number[];
  /** Row-major feature vectors, `transactionIds.length × width` values. */
  readonly features: Float32Array;
  /** Features per row. */
  readonly width: number;
}

/** One example of an {@link ExampleSet}. */
export interface Example {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  readonly label: number;
  readonly features: ArrayLike<number>;
}

/** Builds an {@link ExampleSet} from examples (kept in the given order). */
export function toExampleSet(examples: readonly Example[], width: number): ExampleSet {
  const features = new Float32Array(examples.length * width);
  examples.forEach((example, i) => features.set(example.features, i * width));
  return {
    transactionIds: examples.map((example) => example.transactionId),
    eventTimesMs: examples.map((example) => example.eventTimeMs),
    labels: examples.map((example) => example.label),
    features,
    width,
  };
}

/** The examples of `set` that `keep` accepts, in order. */
export function filterExamples(
  set: ExampleSet,
  keep: (transactionId: string) => boolean,
): ExampleSet {
  const rows: number[] = [];
  set.transactionIds.forEach((id, i) => {
    if (keep(id)) rows.push(i);
  });
  const features = new Float32Array(rows.length * set.width);
  rows.forEach((row, i) =>
    features.set(set.features.subarray(row * set.width, (row + 1) * set.width), i * set.width),
  );
  return {
    transactionIds: rows.map((row) => set.transactionIds[row] as string),
    eventTimesMs: rows.map((row) => set.eventTimesMs[row] as number),
    labels: rows.map((row) => set.labels[row] as number),
    features,
    width: set.width,
  };
}

/** The examples of `set` whose event time `keep` accepts, in order. */
export function filterExamplesAt(
  set: ExampleSet,
  keep: (eventTimeMs: number) => boolean,
): ExampleSet {
  const ids = new Set(set.transactionIds.filter((_, i) => keep(set.eventTimesMs[i] as number)));
  return ids.size === set.transactionIds.length ? set : filterExamples(set, (id) => ids.has(id));
}

/** An empty set of `width` features. */
export function emptyExampleSet(width: number): ExampleSet {
  return { transactionIds: [], eventTimesMs: [], labels: [], features: new Float32Array(0), width };
}
