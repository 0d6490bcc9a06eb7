import type { ModelPublished } from '@streamtrain/contracts';
import type { ExampleSet } from './example-set';
import type { PromotionPin } from './gate-strategy';
import { underPin } from './gate-strategy';
import { compareIds } from './example-set';
import type {
  AcceptedBatch,
  CommittedVersion,
  ExampleReadModel,
  ExampleRef,
  ModelAlias,
  NewVersion,
  PendingBatch,
  SourceBatches,
  StepCommit,
  StoredModel,
  TrainerStore,
} from './trainer-store';

/** A registered version as the in-memory registry keeps it (artifacts only behind aliases). */
export interface RegisteredVersion extends Omit<NewVersion, 'artifact' | 'promote'> {
  readonly version: number;
  status: 'champion' | 'rejected' | 'retired';
}

interface BatchRow {
  outcome: string;
  trainingExamples: number;
  watermarkMs: number | null;
  versionId: string | null;
}

function compareRefs(a: ExampleRef, b: ExampleRef): number {
  return a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId);
}

/**
 * The trainer's store in memory, for tests and fast replays: the same port as the warehouse's,
 * over the pipeline's examples through an {@link ExampleReadModel}. The holdout is kept sorted as
 * members arrive (almost always appended), so reading the most recent members never sorts.
 */
export class InMemoryTrainerStore implements TrainerStore {
  private readonly batches = new Map<string, BatchRow>();
  private readonly pending = new Set<string>();
  private readonly holdout: ExampleRef[] = [];
  private readonly holdoutIds = new Set<string>();
  private readonly registered: RegisteredVersion[] = [];
  private readonly aliases = new Map<ModelAlias, StoredModel>();
  private readonly announced: ModelPublished[] = [];
  private pin: PromotionPin | null = null;

  constructor(
    readonly modelName: string,
    private readonly examples: ExampleReadModel,
  ) {}

  /** Every version registered, oldest first. */
  versions(): readonly RegisteredVersion[] {
    return this.registered;
  }

  /** Freezes (or, with null, unfreezes) automatic promotion, as an operator's pin does. */
  setPromotionPin(pin: PromotionPin | null): void {
    this.pin = pin;
  }

  readPromotionPin(): Promise<PromotionPin | null> {
    return Promise.resolve(this.pin);
  }

  /** Every `model.published` event enqueued, in order. */
  announcements(): readonly ModelPublished[] {
    return this.announced;
  }

  /** Every holdout member, in (event time, id) order. */
  holdoutMembers(): readonly ExampleRef[] {
    return this.holdout;
  }

  exampleRefs(exampleSetId: string): Promise<ExampleRef[]> {
    return this.examples.exampleRefs(exampleSetId);
  }

  readExamples(exampleSetIds: readonly string[]): Promise<ExampleSet> {
    return this.examples.readExamples(exampleSetIds);
  }

  readExamplesById(transactionIds: readonly string[]): Promise<ExampleSet> {
    return this.examples.readExamplesById(transactionIds);
  }

  readExamplesBetween(fromMs: number, toMs: number): Promise<ExampleSet> {
    return this.examples.readExamplesBetween(fromMs, toMs);
  }

  sourceBatches(exampleSetIds: readonly string[]): Promise<SourceBatches> {
    return this.examples.sourceBatches(exampleSetIds);
  }

  isBatchAccepted(batchId: string): Promise<boolean> {
    return Promise.resolve(this.batches.has(batchId));
  }

  acceptBatch(batch: AcceptedBatch): Promise<void> {
    if (this.batches.has(batch.batchId)) return Promise.resolve();
    this.batches.set(batch.batchId, {
      outcome: batch.outcome,
      trainingExamples: batch.trainingExamples,
      watermarkMs: batch.watermarkMs,
      versionId: null,
    });
    if (batch.outcome === 'pending') this.pending.add(batch.batchId);
    for (const ref of batch.holdout) {
      if (this.holdoutIds.has(ref.transactionId)) continue;
      this.holdoutIds.add(ref.transactionId);
      let at = this.holdout.length;
      while (at > 0 && compareRefs(this.holdout[at - 1] as ExampleRef, ref) > 0) at -= 1;
      this.holdout.splice(at, 0, ref);
    }
    return Promise.resolve();
  }

  pendingBatches(): Promise<PendingBatch[]> {
    return Promise.resolve(
      [...this.pending].map((batchId) => {
        const row = this.batches.get(batchId) as BatchRow;
        return { batchId, trainingExamples: row.trainingExamples, watermarkMs: row.watermarkMs };
      }),
    );
  }

  recentHoldout(limit: number): Promise<string[]> {
    return Promise.resolve(
      this.holdout.slice(Math.max(0, this.holdout.length - limit)).map((ref) => ref.transactionId),
    );
  }

  readAlias(alias: ModelAlias): Promise<StoredModel | null> {
    return Promise.resolve(this.aliases.get(alias) ?? null);
  }

  commitStep(commit: StepCommit): Promise<CommittedVersion> {
    const { artifact, promote: asked, ...rest } = commit.version;
    const decision = underPin({ promote: asked, reason: rest.gateReason }, this.pin);
    const record = { ...rest, gateReason: decision.reason };
    const { promote } = decision;
    const number = this.registered.length + 1;
    if (promote) {
      for (const version of this.registered) {
        if (version.status === 'champion') version.status = 'retired';
      }
    }
    this.registered.push({ ...record, version: number, status: promote ? 'champion' : 'rejected' });
    const stored = { versionId: record.versionId, version: number, artifact };
    this.aliases.set('latest', stored);
    if (promote) this.aliases.set('champion', stored);
    for (const batchId of commit.resolvedBatchIds) {
      const row = this.batches.get(batchId);
      if (row === undefined || !this.pending.delete(batchId)) continue;
      row.outcome = promote ? 'promoted' : 'rejected';
      row.versionId = record.versionId;
    }
    if (promote) this.announced.push(commit.announce(number));
    return Promise.resolve({ version: number, promoted: promote, reason: decision.reason });
  }
}
