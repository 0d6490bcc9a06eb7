import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FeaturesReady } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, computeFeatures, historyRange } from '@streamtrain/features';
import type { FeatureInput, FeatureVector, KnownLabel } from '@streamtrain/features';
import { countCorrections, matureCandidates, nextMaturedUntil } from './maturity';
import type { ExampleCorrections } from './maturity';
import type { LandedTransaction, PipelineStore } from './pipeline-store';
import { advanceWatermark } from './watermark';
import { PipelineFeatureState } from './pipeline-feature-state';
import type { CheckpointOutcome, StateLoad } from './pipeline-feature-state';

/** Options of {@link runPipelinePass}. */
export interface PipelinePassOptions {
  /** A transaction with no fraud label this long after its event time is genuine. */
  readonly maturityMs: number;
  /**
   * Targets per `computeFeatures` call; the pass yields to the event loop between calls, so a
   * large pass never holds the loop for long (health probes keep answering). @default 1000
   */
  readonly featureChunk?: number;
  /** Timestamps of the events. @default Date.now */
  readonly now?: () => number;
  /**
   * The incremental feature state, kept across passes: the batches' features come from it, and
   * only targets older than it covers are featurised from raw history rows. @default a state for
   * this pass alone, rebuilt from the store's raw rows (for tests and one-off callers: slower)
   */
  readonly featureState?: PipelineFeatureState;
}

/** What a pass did, for logs and metrics. */
export interface PassOutcome {
  /** Events of batches already processed (or repeated within the pass). */
  readonly duplicates: number;
  /** Batches processed by this pass (0 when every one was a duplicate). */
  readonly batches: number;
  /** The batches this pass processed (redeliveries excluded). */
  readonly batchIds: readonly string[];
  /** Events too far ahead of the stream to move the watermark (still stored and featurised). */
  readonly watermarkOutliers: number;
  readonly features: number;
  readonly examples: number;
  /** Examples re-labelled by a late fraud label or a reversed one (counted in `examples` too). */
  readonly corrections: ExampleCorrections;
  readonly watermarkMs: number | null;
  /** Features computed from raw history rows: targets older than the feature state covers. */
  readonly fromHistory: number;
  /** What the feature state's checkpoint wrote after this pass, when one was due. */
  readonly checkpoint: CheckpointOutcome | null;
  /** How the feature state was loaded, on the pass that loaded it. */
  readonly stateLoad: StateLoad | null;
  readonly readMs: number;
  readonly computeMs: number;
  readonly writeMs: number;
  /** Of `writeMs`, finding and writing the matured examples. */
  readonly examplesMs: number;
}

const NO_CORRECTIONS: ExampleCorrections = { toFraud: 0, toGenuine: 0 };

/**
 * Point-in-time features of `targets`, computed `chunk` targets at a time with a turn of the
 * event loop between chunks. Every call sees all targets (as history), so the vectors are the
 * ones a single call would give, bit for bit.
 */
export async function computeFeaturesYielding(
  targets: readonly FeatureInput[],
  history: readonly FeatureInput[],
  labels: Parameters<typeof computeFeatures>[2],
  chunk: number,
): Promise<FeatureVector[]> {
  if (targets.length <= chunk) return computeFeatures(targets, history, labels);
  const context = [...history, ...targets];
  const vectors: FeatureVector[] = [];
  for (let start = 0; start < targets.length; start += chunk) {
    await nextTurn();
    for (const vector of computeFeatures(targets.slice(start, start + chunk), context, labels)) {
      vectors.push(vector);
    }
  }
  return vectors;
}

function groupByBatch(
  targets: readonly LandedTransaction[],
  vectors: readonly FeatureVector[],
): Map<string, FeatureVector[]> {
  const batchOf = new Map(targets.map((tx) => [tx.transactionId, tx.batchId]));
  const byBatch = new Map<string, FeatureVector[]>();
  for (const vector of vectors) {
    const id = batchOf.get(vector.transactionId) as string;
    const group = byBatch.get(id);
    if (group === undefined) byBatch.set(id, [vector]);
    else group.push(vector);
  }
  return byBatch;
}

/** A pass with its features computed, ready to commit (see {@link preparePass}). */
export interface PreparedPass {
  readonly batchIds: readonly string[];
  readonly repeated: number;
  /** Batches not processed yet when the pass was prepared. */
  readonly fresh: readonly string[];
  readonly targets: readonly LandedTransaction[];
  readonly batchLabels: readonly KnownLabel[];
  readonly vectors: readonly FeatureVector[];
  readonly fromHistory: number;
  readonly stateLoad: StateLoad | null;
  readonly featureState: PipelineFeatureState;
  readonly readMs: number;
  readonly computeMs: number;
}

function nothingDone(duplicates: number, stateLoad: StateLoad | null): PassOutcome {
  return {
    duplicates,
    batches: 0,
    batchIds: [],
    watermarkOutliers: 0,
    features: 0,
    examples: 0,
    corrections: NO_CORRECTIONS,
    watermarkMs: null,
    fromHistory: 0,
    checkpoint: null,
    stateLoad,
    readMs: 0,
    computeMs: 0,
    writeMs: 0,
    examplesMs: 0,
  };
}

/**
 * One pass of the pipeline over the ingest batches of `batch.arrived` events: reads the batches,
 * applies them to the incremental feature state and computes their point-in-time features from it
 * (targets older than the state covers from raw history rows), advances the watermark, matures the
 * examples whose label is now known (one example set per pass, named after its last batch) and
 * announces one `features.ready` per batch, all in one transaction; then moves the state on
 * (see `PipelineFeatureState.committed`). Batches already processed are skipped.
 *
 * It is {@link preparePass} then {@link commitPass}; a driver may prepare the next pass while one
 * commits (the feature state serialises its own steps), as long as the commits run in order.
 */
export async function runPipelinePass(
  store: PipelineStore,
  batchIds: readonly string[],
  options: PipelinePassOptions,
): Promise<PassOutcome> {
  return commitPass(store, await preparePass(store, batchIds, options), options);
}

/** The first half of a pass: reads the batches and computes their features (no writes). */
export async function preparePass(
  store: PipelineStore,
  batchIds: readonly string[],
  options: PipelinePassOptions,
): Promise<PreparedPass> {
  const unique = [...new Set(batchIds)];
  const done = await store.doneBatches(unique);
  const repeated = batchIds.length - unique.length + done.size;
  const fresh = unique.filter((id) => !done.has(id));
  const featureState = options.featureState ?? new PipelineFeatureState();
  const started = performance.now();
  const empty = {
    batchIds,
    repeated,
    fresh,
    targets: [],
    batchLabels: [],
    vectors: [],
    fromHistory: 0,
    stateLoad: null,
    featureState,
    readMs: 0,
    computeMs: 0,
  };
  if (fresh.length === 0) return empty;
  const { transactions: targets, labels: batchLabels } = await store.readBatches(fresh);
  let readMs = performance.now() - started;
  const { vectors, uncovered, stateLoad } = await featureState.featuresFor(
    store,
    targets,
    batchLabels,
  );
  if (uncovered.length > 0) {
    // Late arrivals older than the state reaches back: from raw history, exact all the same.
    const readStarted = performance.now();
    const range = historyRange(uncovered);
    const [history, labels] = await Promise.all([
      store.readHistory(
        [...new Set(uncovered.map((tx) => tx.customerId))],
        [...new Set(uncovered.map((tx) => tx.terminalId))],
        range.fromMs,
        range.toMs,
      ),
      store.readKnownLabels(range.fromMs, range.toMs),
    ]);
    readMs += performance.now() - readStarted;
    const late = await computeFeaturesYielding(
      uncovered,
      history,
      labels,
      options.featureChunk ?? 1000,
    );
    for (const vector of late) vectors.push(vector);
  }
  return {
    ...empty,
    targets,
    batchLabels,
    vectors,
    fromHistory: uncovered.length,
    stateLoad,
    readMs,
    computeMs: performance.now() - started - readMs,
  };
}

/**
 * The second half of a pass: in one transaction under the pipeline's state lock, stores the
 * prepared features, advances the watermark, matures examples, records and announces the
 * batches; then moves the feature state on.
 */
export async function commitPass(
  store: PipelineStore,
  prepared: PreparedPass,
  options: PipelinePassOptions,
): Promise<PassOutcome> {
  const now = options.now ?? Date.now;
  const { fresh, targets, batchLabels, vectors, featureState, stateLoad, repeated } = prepared;
  if (fresh.length === 0) return nothingDone(repeated, stateLoad);
  const writeStarted = performance.now();
  const vectorsByBatch = groupByBatch(targets, vectors);
  let examplesMs = 0;
  const outcome = await store.transact(async (tx) => {
    const state = await tx.lockState();
    // Checked again under the state lock: another instance may have finished some meanwhile.
    const doneNow = await tx.doneBatches(fresh);
    const todo = fresh.filter((id) => !doneNow.has(id));
    if (todo.length === 0) return null;
    const todoSet = new Set(todo);
    const featureBatches = todo.map((id) => ({ batchId: id, rows: vectorsByBatch.get(id) ?? [] }));
    const features = await tx.saveFeatures(FEATURE_SET_VERSION, featureBatches);
    const advance = advanceWatermark(
      state.watermarkMs,
      [
        ...targets.filter((t) => todoSet.has(t.batchId)).map((t) => t.eventTimeMs),
        ...batchLabels.map((label) => label.reportedAtMs),
      ],
      options.maturityMs,
    );
    const exampleSetId = todo[todo.length - 1] as string;
    let exampleCount = 0;
    let corrections = NO_CORRECTIONS;
    const examplesStarted = performance.now();
    if (advance.watermarkMs !== null && advance.matureBeforeMs !== null) {
      const candidates = await tx.maturityCandidates({
        watermarkMs: advance.watermarkMs,
        matureBeforeMs: advance.matureBeforeMs,
        previousMatureBeforeMs: state.maturedUntilMs,
        batchIds: todo,
      });
      const matured = matureCandidates(candidates, advance.watermarkMs);
      exampleCount = await tx.saveExamples(exampleSetId, advance.watermarkMs, matured);
      corrections = countCorrections(matured);
    }
    examplesMs = performance.now() - examplesStarted;
    await tx.saveState({
      watermarkMs: advance.watermarkMs,
      maturedUntilMs: nextMaturedUntil(state.maturedUntilMs, advance.matureBeforeMs),
    });
    const watermark =
      advance.watermarkMs === null ? null : new Date(advance.watermarkMs).toISOString();
    const examplesOf = (id: string): number => (id === exampleSetId ? exampleCount : 0);
    await tx.recordBatches(
      featureBatches.map(({ batchId, rows }) => ({
        batchId,
        featureCount: rows.length,
        exampleCount: examplesOf(batchId),
        watermarkMs: advance.watermarkMs,
      })),
    );
    const occurredAt = new Date(now()).toISOString();
    await tx.announce(
      featureBatches.map(({ batchId, rows }): FeaturesReady => ({
        schemaVersion: 1,
        type: 'features.ready',
        batchId,
        featureSetVersion: FEATURE_SET_VERSION,
        featureCount: rows.length,
        exampleCount: examplesOf(batchId),
        watermark,
        occurredAt,
      })),
    );
    return {
      batches: todo.length,
      batchIds: todo,
      watermarkOutliers: advance.outliers,
      features,
      examples: exampleCount,
      corrections,
      watermarkMs: advance.watermarkMs,
    };
  });
  if (outcome === null) return nothingDone(repeated + fresh.length, stateLoad);
  const checkpoint = await featureState.committed(store, outcome.batchIds, outcome.watermarkMs);
  return {
    duplicates: repeated,
    ...outcome,
    fromHistory: prepared.fromHistory,
    checkpoint,
    stateLoad,
    readMs: prepared.readMs,
    computeMs: prepared.computeMs,
    writeMs: performance.now() - writeStarted,
    examplesMs,
  };
}
