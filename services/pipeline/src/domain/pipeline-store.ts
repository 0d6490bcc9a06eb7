import type { FeaturesReady } from '@streamtrain/contracts';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import type { MaturedExample, MaturityCandidate, MaturityQuery } from './maturity';

/** A transaction as the pipeline reads it: the feature inputs and the ingest batch it came in. */
export interface LandedTransaction extends FeatureInput {
  readonly batchId: string;
}

/** The pipeline's event-time progress. */
export interface PipelineState {
  readonly watermarkMs: number | null;
  readonly maturedUntilMs: number | null;
}

/** One computed feature vector. */
export interface FeatureRow {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  readonly values: readonly number[];
}

/** The feature vectors of one batch. */
export interface FeatureBatch {
  readonly batchId: string;
  readonly rows: readonly FeatureRow[];
}

/** What a pass records for each batch it processed. */
export interface ProcessedBatch {
  readonly batchId: string;
  readonly featureCount: number;
  readonly exampleCount: number;
  readonly watermarkMs: number | null;
}

/** The writes of one pass, inside one transaction holding the pipeline's state lock. */
export interface PipelineTransaction {
  /** Locks and reads the state for the rest of the transaction. */
  lockState(): Promise<PipelineState>;
  /** Which of `batchIds` were processed already. */
  doneBatches(batchIds: readonly string[]): Promise<Set<string>>;
  /** Stores the feature vectors of several batches idempotently; returns how many were written. */
  saveFeatures(featureSetVersion: number, batches: readonly FeatureBatch[]): Promise<number>;
  /** The transactions the maturity rule looks at (see `MaturityCandidates`). */
  maturityCandidates(query: MaturityQuery): Promise<MaturityCandidate[]>;
  /** Writes examples (new or corrected) under `exampleSetId`; returns how many. */
  saveExamples(
    exampleSetId: string,
    maturedAtMs: number,
    examples: readonly MaturedExample[],
  ): Promise<number>;
  saveState(state: PipelineState): Promise<void>;
  /** Records the batches processed, in order (their sequence numbers follow it). */
  recordBatches(batches: readonly ProcessedBatch[]): Promise<void>;
  /** Enqueues `features.ready` events (through the outbox). */
  announce(events: readonly FeaturesReady[]): Promise<void>;
}

/** A batch the pipeline processed, with its place in commit order. */
export interface ProcessedBatchRef {
  /** Assigned under the pipeline's state lock, so it grows in commit order (gaps allowed). */
  readonly seq: number;
  readonly batchId: string;
}

/** One segment of the feature state's checkpoint (see `FeatureState.encodeSegment`). */
export interface StateSegment {
  readonly key: string;
  readonly body: string;
}

/** The stored checkpoint of the feature state. */
export interface FeatureCheckpoint {
  readonly writerId: string;
  readonly format: number;
  /** The state includes every batch processed up to this sequence number. */
  readonly cursorSeq: number;
  readonly floorMs: number;
  readonly segments: readonly StateSegment[];
}

/** A checkpoint to store: every segment (`full`) or the changed ones (null body: delete it). */
export interface FeatureCheckpointWrite {
  readonly writerId: string;
  readonly format: number;
  readonly cursorSeq: number;
  readonly floorMs: number;
  readonly full: boolean;
  readonly segments: readonly { readonly key: string; readonly body: string | null }[];
}

/** What the pipeline's feature state reads and writes (part of {@link PipelineStore}). */
export interface FeatureStateStore {
  /** The transactions and labels (the verdicts in force) that arrived in the given ingest batches. */
  readBatches(
    batchIds: readonly string[],
  ): Promise<{ transactions: LandedTransaction[]; labels: KnownLabel[] }>;
  /** The batches processed after `afterSeq`, in sequence order. */
  processedSince(afterSeq: number): Promise<ProcessedBatchRef[]>;
  /** The highest sequence number of a processed batch (0 when none). */
  latestProcessedSeq(): Promise<number>;
  /** The pipeline's progress, read without locking it. */
  readProgress(): Promise<PipelineState>;
  /**
   * The raw rows a state with floor `afterMs` holds, up to `untilMs` (Infinity: no limit; either
   * may be infinite): transactions with event time in `(afterMs, untilMs]`, and the fraud verdicts
   * in force reported after `afterMs`.
   */
  readRetained(
    afterMs: number,
    untilMs: number,
  ): Promise<{ transactions: FeatureInput[]; labels: KnownLabel[] }>;
  /** The stored checkpoint, or null when there is none. */
  readFeatureCheckpoint(): Promise<FeatureCheckpoint | null>;
  /**
   * Stores a checkpoint in one transaction. A write that is not `full` patches the stored one
   * only if the same writer wrote it; otherwise nothing is written and it returns false.
   */
  writeFeatureCheckpoint(checkpoint: FeatureCheckpointWrite): Promise<boolean>;
}

/**
 * The pipeline's port: reads of what ingest landed (through the warehouse's read models) and the
 * pipeline's own writes. The warehouse and an in-memory store implement it.
 */
export interface PipelineStore extends FeatureStateStore {
  /** Which of `batchIds` were processed already (redeliveries). */
  doneBatches(batchIds: readonly string[]): Promise<Set<string>>;
  /**
   * Transactions of the customers or terminals with event time in `[fromMs, toMs]` (repeats
   * allowed): the history of targets older than the feature state covers.
   */
  readHistory(
    customerIds: readonly string[],
    terminalIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<FeatureInput[]>;
  /** Fraud labels reported within `[fromMs, toMs]`. */
  readKnownLabels(fromMs: number, toMs: number): Promise<KnownLabel[]>;
  /** Runs `work` in one transaction; rolled back if it throws. */
  transact<T>(work: (tx: PipelineTransaction) => Promise<T>): Promise<T>;
}
