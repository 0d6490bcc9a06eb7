import { compareIds } from './compare-ids';

/** A transaction whose features are stored, waiting to become (or already) a training example. */
export interface StoredTransaction {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  /** Its features at its own event time, in `featureNames()` order. */
  readonly features: Float32Array;
  /** Whether its example goes to the gate's holdout instead of training. */
  readonly holdout: boolean;
  /** `null` until it becomes an example; then the example's label. */
  label: 0 | 1 | null;
  /** When a fraud label for it was reported, if one was. */
  fraudReportedAtMs: number | null;
}

/** The examples one micro-batch matured: what `matureExamples` writes under its example-set id. */
export interface MaturedExamples {
  /** New or corrected examples, in (event time, id) order, holdout ones included. */
  readonly examples: readonly StoredTransaction[];
  /** Those of them that were genuine examples corrected to fraud by a late label. */
  readonly corrections: ReadonlySet<StoredTransaction>;
}

/** Options of an {@link ExampleStore}. */
export interface ExampleStoreOptions {
  /** A transaction with no fraud label this long after its event time is genuine. */
  readonly maturityMs: number;
  /**
   * How long after maturity a genuine example can still be corrected to fraud by a late label.
   * The warehouse keeps examples forever; the replay forgets them after this to bound memory.
   */
  readonly correctionMs: number;
}

/** Orders examples as the trainer reads them: `ORDER BY event_time, transaction_id`. */
export function compareExamples(a: StoredTransaction, b: StoredTransaction): number {
  return a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId);
}

/**
 * The in-memory counterpart of the `features` and `training_examples` tables and of the
 * warehouse's `matureExamples`: on each watermark advance it turns into examples
 * - the transactions that became mature (event time at or before watermark − maturity): label 1
 *   if a fraud label was reported by the watermark, else 0;
 * - the transactions whose fraud label arrived since the previous advance (known early): label 1;
 * - and corrects a genuine example to 1 when its fraud label arrives late.
 * Each transaction becomes an example once; a correction re-enters it, as fraud, in the batch.
 */
export class ExampleStore {
  private readonly byId = new Map<string, StoredTransaction>();
  /** Stored transactions in event-time order; `matureHead` and `forgetHead` walk it. */
  private queue: StoredTransaction[] = [];
  private matureHead = 0;
  private forgetHead = 0;
  private labelledSinceAdvance: StoredTransaction[] = [];
  private forgottenLabels = 0;

  constructor(private readonly options: ExampleStoreOptions) {}

  /** Fraud labels that arrived after their transaction was forgotten (too late to correct). */
  get labelsTooLate(): number {
    return this.forgottenLabels;
  }

  /** Stores a transaction's features; transactions must come in event-time order. */
  store(tx: Omit<StoredTransaction, 'label' | 'fraudReportedAtMs'>): void {
    const stored: StoredTransaction = { ...tx, label: null, fraudReportedAtMs: null };
    this.byId.set(tx.transactionId, stored);
    this.queue.push(stored);
  }

  /** Records a fraud label; it takes effect at the next {@link ExampleStore.advance}. */
  reportFraud(transactionId: string, reportedAtMs: number): void {
    const stored = this.byId.get(transactionId);
    if (stored === undefined) {
      this.forgottenLabels += 1;
      return;
    }
    if (stored.fraudReportedAtMs === null || reportedAtMs < stored.fraudReportedAtMs) {
      stored.fraudReportedAtMs = reportedAtMs;
    }
    this.labelledSinceAdvance.push(stored);
  }

  /** Advances the watermark to `watermarkMs` and returns the examples that matured with it. */
  advance(watermarkMs: number): MaturedExamples {
    const candidates = new Set<StoredTransaction>(this.labelledSinceAdvance);
    this.labelledSinceAdvance = [];
    const matureBeforeMs = watermarkMs - this.options.maturityMs;
    while (
      this.matureHead < this.queue.length &&
      (this.queue[this.matureHead] as StoredTransaction).eventTimeMs <= matureBeforeMs
    ) {
      candidates.add(this.queue[this.matureHead] as StoredTransaction);
      this.matureHead += 1;
    }
    const examples: StoredTransaction[] = [];
    const corrections = new Set<StoredTransaction>();
    for (const stored of candidates) {
      const label =
        stored.fraudReportedAtMs !== null && stored.fraudReportedAtMs <= watermarkMs ? 1 : 0;
      if (stored.label === null) {
        stored.label = label;
        examples.push(stored);
      } else if (stored.label === 0 && label === 1) {
        stored.label = 1;
        corrections.add(stored);
        examples.push(stored);
      }
    }
    examples.sort(compareExamples);
    this.forget(matureBeforeMs - this.options.correctionMs);
    return { examples, corrections };
  }

  private forget(beforeMs: number): void {
    while (
      this.forgetHead < this.matureHead &&
      (this.queue[this.forgetHead] as StoredTransaction).eventTimeMs < beforeMs
    ) {
      this.byId.delete((this.queue[this.forgetHead] as StoredTransaction).transactionId);
      this.forgetHead += 1;
    }
    // Compact now and then rather than shifting the array on every call.
    if (this.forgetHead > 65_536) {
      this.queue = this.queue.slice(this.forgetHead);
      this.matureHead -= this.forgetHead;
      this.forgetHead = 0;
    }
  }
}

/** A holdout example with the score of the model version that last scored it. */
export interface HoldoutEntry {
  readonly example: StoredTransaction;
  /** The score `scoredBy` gave it; meaningless while `scoredBy` is `null`. */
  score: number;
  /** The version whose score `score` is, or `null`. */
  scoredBy: number | null;
}

/**
 * The gate's test set: the most recent `capacity` holdout examples by (event time, id), what
 * `readRecentHoldout` returns. An example pushed out never comes back: later examples are newer.
 * Each entry can cache one model's score, so an unchanged champion is not scored twice.
 */
export class HoldoutWindow {
  private entries: HoldoutEntry[] = [];

  constructor(private readonly capacity: number) {}

  /** Number of examples held. */
  get size(): number {
    return this.entries.length;
  }

  /** Adds new holdout examples (corrections are already in, by reference) and trims. */
  add(examples: readonly StoredTransaction[]): void {
    if (examples.length === 0) return;
    const added = [...examples].sort(compareExamples);
    // Both sides are sorted: a merge costs one pass, where a sort of the whole window would not.
    const merged: HoldoutEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < this.entries.length || j < added.length) {
      const old = this.entries[i];
      const next = added[j];
      if (next === undefined || (old !== undefined && compareExamples(old.example, next) <= 0)) {
        merged.push(old as HoldoutEntry);
        i += 1;
      } else {
        merged.push({ example: next, score: 0, scoredBy: null });
        j += 1;
      }
    }
    this.entries =
      merged.length > this.capacity ? merged.slice(merged.length - this.capacity) : merged;
  }

  /** The entries, oldest first. */
  current(): readonly HoldoutEntry[] {
    return this.entries;
  }
}
