import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FeatureState } from '@streamtrain/features';
import type { FeatureInput, FeatureVector, KnownLabel } from '@streamtrain/features';
import type { FeatureStateStore } from './pipeline-store';

const DAY_MS = 86_400_000;

/** Format of the checkpoint's segments; a checkpoint of another format is rebuilt from raw rows. */
export const FEATURE_CHECKPOINT_FORMAT = 1;

/** Options of {@link PipelineFeatureState}. */
export interface PipelineFeatureStateOptions {
  /**
   * How far behind the watermark a late transaction may be and still be featurised from the
   * state; older ones are featurised from the raw warehouse rows instead (exact either way).
   * @default 2 days
   */
  readonly slackMs?: number;
  /** Wall-clock time between checkpoints of the state to the warehouse. @default 60000 */
  readonly checkpointEveryMs?: number;
  /** Rows handled between turns of the event loop. @default 2000 */
  readonly chunk?: number;
  /** Wall clock, for the checkpoint cadence. @default Date.now */
  readonly now?: () => number;
}

/** How the state was loaded, for logs. */
export interface StateLoad {
  readonly source: 'checkpoint' | 'rebuild';
  readonly transactions: number;
  readonly labels: number;
  readonly caughtUpBatches: number;
  readonly ms: number;
}

/** What a checkpoint wrote, for logs. */
export interface CheckpointOutcome {
  readonly full: boolean;
  readonly segments: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * The pipeline's incremental feature state (a `FeatureState` of `@streamtrain/features`), kept in
 * memory across passes and durable in the warehouse:
 *
 * - loaded once, from the last checkpoint (segments per event day) when there is one, else rebuilt
 *   from the raw warehouse rows of the look-back (the first start, a lost checkpoint, a backfill);
 * - kept current with every batch any pipeline instance processed: each processed batch has a
 *   sequence number, assigned under the pipeline's state lock so it follows commit order, and the
 *   state applies the batches after its cursor that it has not applied itself;
 * - checkpointed every `checkpointEveryMs`: the segments changed since the last checkpoint, with
 *   the cursor, so a restart loads the checkpoint and applies the batches processed after it.
 *
 * The state mirrors what ingest landed (transactions, and the label verdicts in force), so its
 * features equal `computeFeatures` over the raw warehouse rows; every step yields to the event
 * loop between chunks of `chunk` rows.
 */
export class PipelineFeatureState {
  /** Identifies this process's checkpoints: another writer's segments are not ours to patch. */
  readonly writerId = randomUUID();
  private readonly slackMs: number;
  private readonly checkpointEveryMs: number;
  private readonly chunk: number;
  private readonly now: () => number;
  private current: FeatureState | undefined;
  private cursor = 0;
  /** Batches this instance recorded since the cursor: applied already, so not read again. */
  private readonly ownRecorded = new Set<string>();
  private lastCheckpointMs: number;
  /** Whether our last checkpoint is the one stored, so that only changes need writing. */
  private checkpointIsOurs = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: PipelineFeatureStateOptions = {}) {
    this.slackMs = options.slackMs ?? 2 * DAY_MS;
    this.checkpointEveryMs = options.checkpointEveryMs ?? 60_000;
    this.chunk = options.chunk ?? 2_000;
    this.now = options.now ?? Date.now;
    this.lastCheckpointMs = this.now();
  }

  /** The state, once {@link prepare} has loaded it. */
  get state(): FeatureState {
    if (this.current === undefined) throw new Error('the feature state is not loaded yet');
    return this.current;
  }

  /** Transactions the state holds (0 before it is loaded). */
  get heldTransactions(): number {
    return this.current?.transactionCount ?? 0;
  }

  /** The last processed-batch sequence number the state includes. */
  get cursorSeq(): number {
    return this.cursor;
  }

  /**
   * Loads the state on first use and applies the batches processed (by any instance) since.
   *
   * @returns how it was loaded, on the call that loaded it; null otherwise.
   */
  async prepare(
    store: FeatureStateStore,
    targets: readonly FeatureInput[],
  ): Promise<StateLoad | null> {
    let load: StateLoad | null = null;
    if (this.current === undefined) {
      const started = performance.now();
      const source = await this.load(store, targets);
      const caughtUpBatches = await this.catchUp(store);
      load = {
        source,
        transactions: this.state.transactionCount,
        labels: this.state.labelCount,
        caughtUpBatches,
        ms: performance.now() - started,
      };
    } else {
      await this.catchUp(store);
    }
    return load;
  }

  private async load(
    store: FeatureStateStore,
    targets: readonly FeatureInput[],
  ): Promise<StateLoad['source']> {
    const checkpoint = await store.readFeatureCheckpoint();
    if (checkpoint !== null && checkpoint.format === FEATURE_CHECKPOINT_FORMAT) {
      const state = new FeatureState({ floorMs: checkpoint.floorMs });
      for (const segment of checkpoint.segments) {
        state.loadSegment(segment.key, segment.body);
        await nextTurn();
      }
      this.current = state;
      this.cursor = checkpoint.cursorSeq;
      return 'checkpoint';
    }
    await this.rebuild(store, targets);
    return 'rebuild';
  }

  /**
   * Rebuilds the state from the raw warehouse rows, replacing whatever it held: the look-back and
   * the slack before the watermark, and everything after it. Before anything was processed (no
   * watermark) it reaches back from the earliest of `targets` (the first pass's) and up to the
   * latest of them: what lands later comes with its own batches.
   */
  async rebuild(store: FeatureStateStore, targets: readonly FeatureInput[]): Promise<void> {
    // The cursor first: a batch processed while the rows are read is applied again, harmlessly.
    const cursor = await store.latestProcessedSeq();
    const { watermarkMs } = await store.readProgress();
    const lookBack = new FeatureState().lookBackMs;
    let fromMs = Number.POSITIVE_INFINITY;
    let untilMs = Number.NEGATIVE_INFINITY;
    for (const tx of targets) {
      fromMs = Math.min(fromMs, tx.eventTimeMs);
      untilMs = Math.max(untilMs, tx.eventTimeMs);
    }
    let floorMs = Number.NEGATIVE_INFINITY;
    if (watermarkMs !== null) {
      floorMs = watermarkMs - lookBack - this.slackMs;
      untilMs = Number.POSITIVE_INFINITY;
    } else if (targets.length > 0) {
      floorMs = fromMs - lookBack - this.slackMs;
    }
    const retained =
      untilMs > floorMs
        ? await store.readRetained(floorMs, untilMs)
        : { transactions: [], labels: [] };
    const state = new FeatureState({ floorMs });
    await this.applyTo(state, retained.transactions, retained.labels);
    this.current = state;
    this.cursor = cursor;
    this.ownRecorded.clear();
    this.checkpointIsOurs = false;
  }

  /** Applies the batches processed after the cursor, skipping the ones this instance recorded. */
  private async catchUp(store: FeatureStateStore): Promise<number> {
    const processed = await store.processedSince(this.cursor);
    if (processed.length === 0) return 0;
    const toRead: string[] = [];
    for (const batch of processed) {
      if (!this.ownRecorded.delete(batch.batchId)) toRead.push(batch.batchId);
      this.cursor = Math.max(this.cursor, batch.seq);
    }
    if (toRead.length > 0) {
      const { transactions, labels } = await store.readBatches(toRead);
      await this.applyTo(this.state, transactions, labels);
    }
    return toRead.length;
  }

  /** Runs `work` after every step queued before it: the state's steps never interleave. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * A pass's first step, as one step of the state: loads it if need be, catches up, applies the
   * batches' rows, and computes the features of the targets it covers.
   *
   * @returns the vectors, and the targets it does not cover (older than its floor allows).
   */
  featuresFor(
    store: FeatureStateStore,
    targets: readonly FeatureInput[],
    labels: readonly KnownLabel[],
  ): Promise<{ vectors: FeatureVector[]; uncovered: FeatureInput[]; stateLoad: StateLoad | null }> {
    return this.exclusive(async () => {
      const stateLoad = await this.prepare(store, targets);
      await this.apply(targets, labels);
      const covered: FeatureInput[] = [];
      const uncovered: FeatureInput[] = [];
      for (const tx of targets) (this.state.covers(tx.eventTimeMs) ? covered : uncovered).push(tx);
      return { vectors: await this.featuresOf(covered), uncovered, stateLoad };
    });
  }

  /** Applies landed rows: transactions, and label verdicts as the warehouse holds them. */
  apply(transactions: readonly FeatureInput[], labels: readonly KnownLabel[]): Promise<void> {
    return this.applyTo(this.state, transactions, labels);
  }

  private async applyTo(
    state: FeatureState,
    transactions: readonly FeatureInput[],
    labels: readonly KnownLabel[],
  ): Promise<void> {
    for (let start = 0; start < transactions.length; start += this.chunk) {
      if (start > 0) await nextTurn();
      const end = Math.min(transactions.length, start + this.chunk);
      for (let i = start; i < end; i += 1) state.addTransaction(transactions[i] as FeatureInput);
    }
    // The warehouse keeps one verdict per transaction and revises it: the rows read are in force.
    for (const label of labels) state.setLabel(label);
  }

  /** The features of targets the state covers, `chunk` at a time. */
  async featuresOf(targets: readonly FeatureInput[]): Promise<FeatureVector[]> {
    const vectors: FeatureVector[] = [];
    for (let start = 0; start < targets.length; start += this.chunk) {
      if (start > 0) await nextTurn();
      for (const vector of this.state.featuresOf(targets.slice(start, start + this.chunk))) {
        vectors.push(vector);
      }
    }
    return vectors;
  }

  /**
   * After a pass committed: notes the batches it recorded, drops rows older than the look-back
   * and the slack behind the watermark (a day at a time, yielding between days), and checkpoints
   * when one is due.
   *
   * @returns what the checkpoint wrote, when one was written.
   */
  committed(
    store: FeatureStateStore,
    recordedBatchIds: readonly string[],
    watermarkMs: number | null,
  ): Promise<CheckpointOutcome | null> {
    return this.exclusive(() => this.moveOn(store, recordedBatchIds, watermarkMs));
  }

  private async moveOn(
    store: FeatureStateStore,
    recordedBatchIds: readonly string[],
    watermarkMs: number | null,
  ): Promise<CheckpointOutcome | null> {
    for (const id of recordedBatchIds) this.ownRecorded.add(id);
    await this.catchUp(store);
    if (watermarkMs !== null) {
      const target = watermarkMs - this.state.lookBackMs - this.slackMs;
      while (this.state.floorMs < target) {
        const step = Number.isFinite(this.state.floorMs)
          ? Math.min(target, this.state.floorMs + DAY_MS)
          : target;
        this.state.advanceFloor(step);
        await nextTurn();
      }
    }
    if (this.now() - this.lastCheckpointMs < this.checkpointEveryMs) return null;
    return this.checkpoint(store);
  }

  /**
   * Writes the state to the warehouse: the segments changed since our last checkpoint, or all of
   * them when the stored checkpoint is not ours (the first one, or another instance wrote since).
   */
  async checkpoint(store: FeatureStateStore): Promise<CheckpointOutcome> {
    const started = performance.now();
    this.lastCheckpointMs = this.now();
    const state = this.state;
    let full = !this.checkpointIsOurs;
    for (;;) {
      const keys = full ? state.allSegments() : state.changedSegments();
      const segments: { key: string; body: string | null }[] = [];
      let bytes = 0;
      for (const key of keys) {
        const body = state.encodeSegment(key);
        segments.push({ key, body });
        bytes += body?.length ?? 0;
        await nextTurn();
      }
      try {
        const written = await store.writeFeatureCheckpoint({
          writerId: this.writerId,
          format: FEATURE_CHECKPOINT_FORMAT,
          cursorSeq: this.cursor,
          floorMs: state.floorMs,
          full,
          segments,
        });
        if (!written) {
          // Another writer's checkpoint is stored: patching it with our changes would mix two.
          full = true;
          continue;
        }
      } catch (error) {
        state.markChanged(keys);
        this.checkpointIsOurs = false;
        throw error;
      }
      this.checkpointIsOurs = true;
      return { full, segments: segments.length, bytes, ms: performance.now() - started };
    }
  }
}
