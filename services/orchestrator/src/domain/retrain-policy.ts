import { z } from 'zod';
import { computeFeatures } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { gateCandidate } from '@streamtrain/model';
import type { GatePolicy } from '@streamtrain/model';
import { isHoldout, metricsGate, versionIdFor } from '@streamtrain/training';
import type { GateStrategy, Lineage } from '@streamtrain/training';

const DAY_MS = 86_400_000;

/**
 * How a retrain workflow trains and judges a model. The windows follow the Fraud Detection
 * Handbook's protocol (a training window, a delay the length of the label lag, a test window),
 * counted back from the newest event time in the warehouse, so a replay gives the same run.
 */
export const RetrainParams = z.object({
  /** Warm-start from the champion instead of training from scratch. @default false */
  warmStart: z.boolean().default(false),
  /** Days of transactions trained on. @default 7 */
  trainDays: z.number().positive().default(7),
  /** Days between the training and the test window (the handbook's delay period). @default 7 */
  delayDays: z.number().min(0).default(7),
  /** Days of the held-out test window the candidate and the champion are judged on. @default 7 */
  testDays: z.number().positive().default(7),
  /** A transaction without a fraud label this long after it is genuine (the pipeline's rule). @default 7 */
  maturityDays: z.number().min(0).default(7),
  /** @default 2 */
  epochs: z.number().int().positive().default(2),
  /** @default 256 */
  batchSize: z.number().int().positive().default(256),
  /** @default 10 */
  positiveWeight: z.number().positive().default(10),
  /** Seed of the initial weights and the shuffles: the same seed and rows give the same weights. @default 42 */
  seed: z.number().int().positive().default(42),
  /** `retrain-window`: most recent trainer holdout examples the gate compares on. @default 20000 */
  holdoutSize: z.number().int().positive().default(20_000),
  /** @default { minExamples: 200, minPositives: 5, maxApDrop: 0.01 } */
  gate: z
    .object({
      minExamples: z.number().int().min(0).default(200),
      minPositives: z.number().int().min(0).default(5),
      maxApDrop: z.number().min(0).max(1).default(0.01),
    })
    .prefault({}),
});
/** Parameters of one retrain, after defaults. */
export type RetrainParams = z.output<typeof RetrainParams>;

/** The event-time windows of one retrain (milliseconds since the epoch, both ends included). */
export interface RetrainWindows {
  trainFromMs: number;
  trainToMs: number;
  testFromMs: number;
  testToMs: number;
  /** Labels reported up to here are known; later ones are not used. */
  labelCutoffMs: number;
}

/**
 * The windows counted back from the newest event time: the test window ends where transactions
 * stop being immature (`cutoff − maturity`), so every test example's label is known.
 */
export function retrainWindows(latestEventMs: number, params: RetrainParams): RetrainWindows {
  const testToMs = latestEventMs - params.maturityDays * DAY_MS;
  const testFromMs = testToMs - params.testDays * DAY_MS;
  const trainToMs = testFromMs - params.delayDays * DAY_MS;
  const trainFromMs = trainToMs - params.trainDays * DAY_MS;
  return { trainFromMs, trainToMs, testFromMs, testToMs, labelCutoffMs: latestEventMs };
}

/** Labelled feature rows of one window (rows, or row-major with the feature count as width). */
export interface LabelledSet {
  readonly transactionIds: readonly string[];
  readonly features: number[][] | Float32Array;
  readonly labels: readonly number[];
}

/**
 * The lineage an orchestrated run records: the shared {@link Lineage} (its `window` is the
 * training window, as `retrainOnWindow` records it) plus the run's windows and training options,
 * so `streamtrain rebuild` retrains the same way.
 */
export interface RunLineage extends Lineage {
  run: {
    windows: RetrainWindows;
    training: {
      epochs: number;
      batchSize: number;
      positiveWeight: number;
      seed: number;
      warmStart: boolean;
    };
  };
}

/** The run part of a version's lineage, or undefined for a continuous step or `retrainOnWindow`. */
export function runLineageOf(lineage: Lineage): RunLineage['run'] | undefined {
  return (lineage as Partial<RunLineage>).run;
}

/** The training and test sets of a retrain, and which ingest batches they came from. */
export interface RetrainDatasets {
  train: LabelledSet;
  test: LabelledSet;
  sourceBatchIds: string[];
}

/**
 * Features (the one feature definition, point in time) and known labels for the two windows. A
 * transaction is an example once its label is known by the cutoff: a fraud label reported by
 * then makes it 1; otherwise it is 0 when at least `maturityDays` old, and left out when younger.
 * The trainer's holdout members (`isHoldout`, `@streamtrain/training`) are never trained on, so
 * the continuous gate and the drift check stay out of sample for an orchestrated champion.
 * `history` must cover the look-back of the windows (`historyRange`).
 */
export function buildDatasets(
  history: readonly (FeatureInput & { batchId: string })[],
  labels: readonly KnownLabel[],
  windows: RetrainWindows,
  params: RetrainParams,
): RetrainDatasets {
  const fraudBy = new Set(
    labels
      .filter((label) => label.isFraud && label.reportedAtMs <= windows.labelCutoffMs)
      .map((label) => label.transactionId),
  );
  const matureBeforeMs = windows.labelCutoffMs - params.maturityDays * DAY_MS;
  const inWindow = (from: number, to: number) =>
    history.filter((tx) => tx.eventTimeMs >= from && tx.eventTimeMs <= to);
  const sourceBatchIds = new Set<string>();
  const label = (targets: readonly (FeatureInput & { batchId: string })[]): LabelledSet => {
    const known = targets.filter(
      (tx) => fraudBy.has(tx.transactionId) || tx.eventTimeMs <= matureBeforeMs,
    );
    const vectors = computeFeatures(known, history, labels);
    known.forEach((tx) => sourceBatchIds.add(tx.batchId));
    return {
      transactionIds: vectors.map((vector) => vector.transactionId),
      features: vectors.map((vector) => vector.values),
      labels: known.map((tx) => (fraudBy.has(tx.transactionId) ? 1 : 0)),
    };
  };
  const train = label(
    inWindow(windows.trainFromMs, windows.trainToMs).filter((tx) => !isHoldout(tx.transactionId)),
  );
  const test = label(inWindow(windows.testFromMs, windows.testToMs));
  return { train, test, sourceBatchIds: [...sourceBatchIds].sort() };
}

/**
 * The gate, the continuous trainer's strategy (`metricsGate` over `gateCandidate`): the candidate
 * against the champion on the same held-out window; without a champion, the first-champion rules.
 */
export function retrainGate(policy: GatePolicy): GateStrategy {
  return metricsGate((candidate, champion) => gateCandidate(candidate, champion, policy));
}

/** The version id a run registers: derived from the run, so a resumed run never registers twice. */
export function retrainVersionId(modelName: string, runId: string): string {
  return versionIdFor(modelName, `run:${runId}`);
}
