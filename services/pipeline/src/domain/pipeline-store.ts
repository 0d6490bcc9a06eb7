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
  /** Stores feature vectors idempotently; returns how many were written. */
  saveFeatures(
    batchId: string,
    featureSetVersion: number,
    rows: readonly FeatureRow[],
  ): Promise<number>;
  /** The transactions the maturity rule looks at (see `MaturityCandidates`). */
  maturityCandidates(query: MaturityQuery): Promise<MaturityCandidate[]>;
  /** Writes examples (new or corrected) under `exampleSetId`; returns how many. */
  saveExamples(
    exampleSetId: string,
    maturedAtMs: number,
    examples: readonly MaturedExample[],
  ): Promise<number>;
  saveState(state: PipelineState): Promise<void>;
  recordBatch(batch: ProcessedBatch): Promise<void>;
  /** Enqueues a `features.ready` event (through the outbox). */
  announce(ready: FeaturesReady): Promise<void>;
}

/**
 * The pipeline's port: reads of what ingest landed (through the warehouse's read models) and the
 * pipeline's own writes. The warehouse and an in-memory store implement it.
 */
export interface PipelineStore {
  /** Which of `batchIds` were processed already (redeliveries). */
  doneBatches(batchIds: readonly string[]): Promise<Set<string>>;
  /** The transactions and labels that arrived in the given ingest batches. */
  readBatches(
    batchIds: readonly string[],
  ): Promise<{ transactions: LandedTransaction[]; labels: KnownLabel[] }>;
  /** Transactions of the customers or terminals with event time in `[fromMs, toMs]` (repeats allowed). */
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
