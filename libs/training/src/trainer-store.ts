import type { FitOptions } from './model-port';
import type { ModelMetrics, ModelPublished, OffsetRange } from '@streamtrain/contracts';
import type { ExampleSet } from './example-set';
import type { PromotionPin } from './gate-strategy';

/** An example named by its id and event time: enough to decide and order holdout membership. */
export interface ExampleRef {
  readonly transactionId: string;
  readonly eventTimeMs: number;
}

/** The ingest batches (and their Kafka offset ranges) behind some examples. */
export interface SourceBatches {
  readonly batchIds: readonly string[];
  readonly offsets: readonly OffsetRange[];
}

/**
 * The pipeline's examples as the trainer reads them: a read model over tables the pipeline owns
 * (the trainer never writes them).
 */
export interface ExampleReadModel {
  /** The examples an example set (a pipeline pass) matured or corrected. */
  exampleRefs(exampleSetId: string): Promise<ExampleRef[]>;
  /** The examples of the given sets with their features, in (event time, id) order. */
  readExamples(exampleSetIds: readonly string[]): Promise<ExampleSet>;
  /** The given examples with their current label and features, in (event time, id) order. */
  readExamplesById(transactionIds: readonly string[]): Promise<ExampleSet>;
  /** Every example with event time in `[fromMs, toMs)`, in (event time, id) order. */
  readExamplesBetween(fromMs: number, toMs: number): Promise<ExampleSet>;
  /** The ingest batches whose transactions are in the given example sets. */
  sourceBatches(exampleSetIds: readonly string[]): Promise<SourceBatches>;
}

/** A `features.ready` batch as the trainer records it. */
export interface AcceptedBatch {
  readonly batchId: string;
  readonly outcome: 'pending' | 'no-examples';
  /** Its training (non-holdout) examples. */
  readonly trainingExamples: number;
  /** Its holdout members, added to the holdout as they arrive (no scan of all examples). */
  readonly holdout: readonly ExampleRef[];
  /** The pipeline's watermark when it announced the batch (from the event). */
  readonly watermarkMs: number | null;
}

/** A batch waiting for the next step. */
export interface PendingBatch {
  readonly batchId: string;
  readonly trainingExamples: number;
  readonly watermarkMs: number | null;
}

/** What trained a model version, enough to rebuild it. */
export interface Lineage {
  exampleSetIds: string[];
  /** The ingest batches whose transactions were in the training examples. */
  sourceBatchIds: string[];
  /** Their Kafka (topic, partition, offset range) sets. */
  offsets: OffsetRange[];
  /** Labels reported up to this event time were used. */
  labelCutoff: string | null;
  featureSetVersion: number;
  parentVersionId: string | null;
  /** For a retrain on a window: the examples' event-time range `[from, to)`. */
  window?: { from: string; to: string };
  /**
   * Weight averaging of a continuous step: the trained weights were averaged with those of
   * `withVersionId` (the version it started from), `alpha` of them (0: backed off).
   */
  weightAveraging?: {
    alpha: number;
    withVersionId: string;
    /** With a back-off: the start model's loss on the step's new frauds, and the reference. */
    freshFraudLoss?: number | null;
    referenceLoss?: number;
  };
  /** The gate's checks and evidence, when its strategy reports them. */
  gate?: { reasons: string[]; evidence: unknown };
  /**
   * The fit settings the version was trained with (a model built from scratch is seeded with
   * `shuffleSeed` too), so a rebuild needs no guess.
   */
  fit?: FitOptions;
  /**
   * Examples a replay buffer added to the fresh ones, in the order they were trained on (after
   * the fresh examples): with `exampleSetIds` they name every row the version learnt from.
   */
  replayedTransactionIds?: string[];
}

/** A registered version with its artifact. */
export interface StoredModel {
  readonly versionId: string;
  readonly version: number;
  readonly artifact: unknown;
}

/** Registry aliases: `champion` serves; `latest` is the newest trained version, promoted or not. */
export type ModelAlias = 'champion' | 'latest';

/** A version to register. */
export interface NewVersion {
  versionId: string;
  parentVersionId: string | null;
  promote: boolean;
  gateReason: string;
  metrics: ModelMetrics;
  championMetrics: ModelMetrics | null;
  lineage: Lineage;
  artifact: unknown;
  backend: string;
  trainedSamples: number;
}

/** Everything one step writes, atomically. */
export interface StepCommit {
  readonly version: NewVersion;
  /** Pending batches the version trained on: resolved as promoted or rejected. */
  readonly resolvedBatchIds: readonly string[];
  /**
   * The `model.published` event for the version's number. The store enqueues it only when the
   * registry recorded the version as champion (a pin set meanwhile keeps the old champion).
   */
  readonly announce: (version: number) => ModelPublished;
}

/** What the registry recorded for a committed version: the last word on its promotion. */
export interface CommittedVersion {
  readonly version: number;
  readonly promoted: boolean;
  readonly reason: string;
}

/**
 * The trainer's port: its own state (accepted batches, holdout, registry, outbox) plus the
 * pipeline's examples through {@link ExampleReadModel}. The warehouse and an in-memory store
 * implement it.
 */
export interface TrainerStore extends ExampleReadModel {
  /** The model this store registers versions of. */
  readonly modelName: string;
  /** Whether `batchId` was accepted already (a redelivery). */
  isBatchAccepted(batchId: string): Promise<boolean>;
  acceptBatch(batch: AcceptedBatch): Promise<void>;
  /** The batches waiting for a step, in the order they were accepted. */
  pendingBatches(): Promise<PendingBatch[]>;
  /** The ids of the most recent `limit` holdout members, by (event time, id). */
  recentHoldout(limit: number): Promise<string[]>;
  readAlias(alias: ModelAlias): Promise<StoredModel | null>;
  /** The pin freezing automatic promotion of this model, or null. */
  readPromotionPin(): Promise<PromotionPin | null>;
  /**
   * Registers the version (applying a pin atomically with it), resolves its batches and, when
   * it was recorded as champion, enqueues its announcement.
   */
  commitStep(commit: StepCommit): Promise<CommittedVersion>;
}
