import type { FeaturesReady, OffsetRange } from '@streamtrain/contracts';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { compareIds, toExampleSet } from '@streamtrain/training';
import type {
  Example,
  ExampleReadModel,
  ExampleRef,
  ExampleSet,
  SourceBatches,
} from '@streamtrain/training';
import type { MaturedExample, MaturityCandidate, MaturityQuery } from '../domain/maturity';
import type {
  FeatureCheckpoint,
  FeatureCheckpointWrite,
  FeatureRow,
  LandedTransaction,
  PipelineState,
  PipelineStore,
  PipelineTransaction,
  ProcessedBatch,
  ProcessedBatchRef,
} from '../domain/pipeline-store';

interface StoredExample {
  exampleSetId: string;
  label: 0 | 1;
  corrected: boolean;
}

/** Index of the first element of sorted `list` whose key is greater than `key` (or ≥ when `inclusive`). */
function bound<T>(
  list: readonly T[],
  key: number,
  keyOf: (item: T) => number,
  inclusive: boolean,
): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = keyOf(list[mid] as T);
    if (value < key || (!inclusive && value === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts into a list sorted by `keyOf` (appending is the common case, so it walks from the end). */
function insertSorted<T>(list: T[], item: T, keyOf: (item: T) => number): void {
  let at = list.length;
  while (at > 0 && keyOf(list[at - 1] as T) > keyOf(item)) at -= 1;
  list.splice(at, 0, item);
}

const byEventTime = (tx: LandedTransaction): number => tx.eventTimeMs;
const byReportTime = (label: KnownLabel): number => label.reportedAtMs;

/**
 * The warehouse in memory, for tests and fast replays: what ingest lands (`land`), the pipeline's
 * tables behind its {@link PipelineStore} port, and the examples as the trainer's
 * {@link ExampleReadModel} reads them. Behaves like the PostgreSQL store (same examples, same
 * order) with two differences: a pass that throws is not rolled back, and `forgetBefore` drops old
 * rows so a long replay stays bounded.
 */
export class InMemoryPipelineStore implements PipelineStore, ExampleReadModel {
  private readonly transactions = new Map<string, LandedTransaction>();
  private byTime: LandedTransaction[] = [];
  private readonly byBatch = new Map<string, LandedTransaction[]>();
  private readonly byCustomer = new Map<string, LandedTransaction[]>();
  private readonly byTerminal = new Map<string, LandedTransaction[]>();
  private readonly labels = new Map<string, KnownLabel & { batchId: string }>();
  private readonly labelsByBatch = new Map<string, KnownLabel[]>();
  private fraudLabels: KnownLabel[] = [];
  private readonly offsets = new Map<string, readonly OffsetRange[]>();
  private readonly features = new Map<string, { batchId: string; values: Float32Array }>();
  private readonly examples = new Map<string, StoredExample>();
  private readonly examplesBySet = new Map<string, Set<string>>();
  private readonly processed = new Map<string, ProcessedBatch>();
  private readonly processedOrder: ProcessedBatchRef[] = [];
  private checkpoint:
    (Omit<FeatureCheckpoint, 'segments'> & { segments: Map<string, string> }) | null = null;
  private state: PipelineState = { watermarkMs: null, maturedUntilMs: null };
  private readonly announced: FeaturesReady[] = [];
  private readonly written = { positives: 0, corrected: 0 };

  /**
   * Lands an ingest batch, as ingest's writer does: transactions and labels idempotent by id (the
   * first copy wins), except that a label with the opposite verdict reported later than the one in
   * hand revises it and moves to this batch (a reversed chargeback, issue 13).
   */
  land(
    batchId: string,
    transactions: readonly FeatureInput[],
    labels: readonly KnownLabel[],
    offsets: readonly OffsetRange[] = [],
  ): void {
    this.offsets.set(batchId, offsets);
    const landed = this.byBatch.get(batchId) ?? [];
    this.byBatch.set(batchId, landed);
    for (const tx of transactions) {
      if (this.transactions.has(tx.transactionId)) continue;
      const row: LandedTransaction = {
        transactionId: tx.transactionId,
        customerId: tx.customerId,
        terminalId: tx.terminalId,
        amount: tx.amount,
        eventTimeMs: tx.eventTimeMs,
        batchId,
      };
      this.transactions.set(row.transactionId, row);
      landed.push(row);
      insertSorted(this.byTime, row, byEventTime);
      append(this.byCustomer, row.customerId, row);
      append(this.byTerminal, row.terminalId, row);
    }
    const batchLabels = this.labelsByBatch.get(batchId) ?? [];
    this.labelsByBatch.set(batchId, batchLabels);
    const ordered = [...labels].sort((a, b) => a.reportedAtMs - b.reportedAtMs);
    for (const label of ordered) {
      const current = this.labels.get(label.transactionId);
      if (
        current !== undefined &&
        (current.isFraud === label.isFraud || label.reportedAtMs <= current.reportedAtMs)
      )
        continue;
      if (current !== undefined) this.unlabel(current);
      const row = { ...label, batchId };
      this.labels.set(label.transactionId, row);
      batchLabels.push(row);
      if (label.isFraud) insertSorted(this.fraudLabels, row, byReportTime);
    }
  }

  /** Takes a revised label out of its batch's labels and the fraud labels. */
  private unlabel(label: KnownLabel & { batchId: string }): void {
    const inBatch = this.labelsByBatch.get(label.batchId);
    if (inBatch !== undefined) {
      const at = inBatch.indexOf(label);
      if (at >= 0) inBatch.splice(at, 1);
    }
    if (label.isFraud) this.fraudLabels = this.fraudLabels.filter((row) => row !== label);
  }

  /** The `features.ready` events announced so far, in order. */
  announcements(): readonly FeaturesReady[] {
    return this.announced;
  }

  /** Fraud examples written (new or corrected) and corrections, over the store's life. */
  exampleCounts(): { positives: number; corrected: number } {
    return { ...this.written };
  }

  /** The stored feature vector of a transaction, if any. */
  featuresOf(transactionId: string): Float32Array | undefined {
    return this.features.get(transactionId)?.values;
  }

  /** The pipeline's state. */
  currentState(): PipelineState {
    return this.state;
  }

  /** Every example, in (event time, id) order, as `{ transactionId, eventTimeMs, label, exampleSetId }`. */
  allExamples(): {
    transactionId: string;
    eventTimeMs: number;
    label: number;
    exampleSetId: string;
  }[] {
    return [...this.examples.entries()]
      .map(([id, example]) => ({
        transactionId: id,
        eventTimeMs: (this.transactions.get(id) as LandedTransaction).eventTimeMs,
        label: example.label,
        exampleSetId: example.exampleSetId,
      }))
      .sort(
        (a, b) => a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId),
      );
  }

  /**
   * Forgets transactions with event time before `beforeMs`, with their labels, features and
   * examples: a replay calls it with the oldest event time any later read can ask for.
   */
  forgetBefore(beforeMs: number): void {
    const cut = bound(this.byTime, beforeMs, byEventTime, true);
    if (cut === 0) return;
    const gone = this.byTime.slice(0, cut);
    this.byTime = this.byTime.slice(cut);
    for (const tx of gone) {
      this.transactions.delete(tx.transactionId);
      this.labels.delete(tx.transactionId);
      this.features.delete(tx.transactionId);
      const example = this.examples.get(tx.transactionId);
      if (example !== undefined) {
        this.examplesBySet.get(example.exampleSetId)?.delete(tx.transactionId);
        this.examples.delete(tx.transactionId);
      }
    }
    for (const index of [this.byCustomer, this.byTerminal]) {
      for (const [key, rows] of index) {
        const kept = rows.filter((tx) => tx.eventTimeMs >= beforeMs);
        if (kept.length === 0) index.delete(key);
        else if (kept.length < rows.length) index.set(key, kept);
      }
    }
    this.fraudLabels = this.fraudLabels.filter((label) => label.reportedAtMs >= beforeMs);
  }

  doneBatches(batchIds: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(batchIds.filter((id) => this.processed.has(id))));
  }

  readBatches(
    batchIds: readonly string[],
  ): Promise<{ transactions: LandedTransaction[]; labels: KnownLabel[] }> {
    return Promise.resolve({
      transactions: batchIds.flatMap((id) => this.byBatch.get(id) ?? []),
      labels: batchIds.flatMap((id) => this.labelsByBatch.get(id) ?? []),
    });
  }

  processedSince(afterSeq: number): Promise<ProcessedBatchRef[]> {
    const from = bound(this.processedOrder, afterSeq, (ref) => ref.seq, false);
    return Promise.resolve(this.processedOrder.slice(from));
  }

  latestProcessedSeq(): Promise<number> {
    return Promise.resolve(this.processedOrder[this.processedOrder.length - 1]?.seq ?? 0);
  }

  readProgress(): Promise<PipelineState> {
    return Promise.resolve(this.state);
  }

  readRetained(
    afterMs: number,
    untilMs: number,
  ): Promise<{ transactions: FeatureInput[]; labels: KnownLabel[] }> {
    const from = bound(this.byTime, afterMs, byEventTime, false);
    const to = bound(this.byTime, untilMs, byEventTime, false);
    return Promise.resolve({
      transactions: this.byTime.slice(from, Math.max(from, to)),
      labels: [...this.labels.values()].filter(
        (label) => label.isFraud && label.reportedAtMs > afterMs,
      ),
    });
  }

  readFeatureCheckpoint(): Promise<FeatureCheckpoint | null> {
    const stored = this.checkpoint;
    if (stored === null) return Promise.resolve(null);
    return Promise.resolve({
      ...stored,
      segments: [...stored.segments].map(([key, body]) => ({ key, body })),
    });
  }

  writeFeatureCheckpoint(write: FeatureCheckpointWrite): Promise<boolean> {
    const stored = this.checkpoint;
    if (!write.full && stored?.writerId !== write.writerId) return Promise.resolve(false);
    const segments = write.full || stored === null ? new Map<string, string>() : stored.segments;
    for (const { key, body } of write.segments) {
      if (body === null) segments.delete(key);
      else segments.set(key, body);
    }
    const { writerId, format, cursorSeq, floorMs } = write;
    this.checkpoint = { writerId, format, cursorSeq, floorMs, segments };
    return Promise.resolve(true);
  }

  readHistory(
    customerIds: readonly string[],
    terminalIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<FeatureInput[]> {
    const rows: FeatureInput[] = [];
    const within = (tx: LandedTransaction): boolean =>
      tx.eventTimeMs >= fromMs && tx.eventTimeMs <= toMs;
    for (const id of customerIds)
      for (const tx of this.byCustomer.get(id) ?? []) if (within(tx)) rows.push(tx);
    for (const id of terminalIds)
      for (const tx of this.byTerminal.get(id) ?? []) if (within(tx)) rows.push(tx);
    return Promise.resolve(rows);
  }

  readKnownLabels(fromMs: number, toMs: number): Promise<KnownLabel[]> {
    const from = bound(this.fraudLabels, fromMs, byReportTime, true);
    const to = bound(this.fraudLabels, toMs, byReportTime, false);
    return Promise.resolve(this.fraudLabels.slice(from, to));
  }

  transact<T>(work: (tx: PipelineTransaction) => Promise<T>): Promise<T> {
    return work(this.transaction);
  }

  private readonly transaction: PipelineTransaction = {
    lockState: () => Promise.resolve(this.state),
    doneBatches: (batchIds) => this.doneBatches(batchIds),
    saveFeatures: (_version, batches) =>
      Promise.resolve(
        batches.reduce((sum, { batchId, rows }) => sum + this.saveFeatures(batchId, rows), 0),
      ),
    maturityCandidates: (query) => Promise.resolve(this.maturityCandidates(query)),
    saveExamples: (exampleSetId, _maturedAtMs, examples) =>
      Promise.resolve(this.saveExamples(exampleSetId, examples)),
    saveState: (state) => {
      this.state = state;
      return Promise.resolve();
    },
    recordBatches: (batches) => {
      for (const batch of batches) {
        this.processed.set(batch.batchId, batch);
        const last = this.processedOrder[this.processedOrder.length - 1]?.seq ?? 0;
        this.processedOrder.push({ seq: last + 1, batchId: batch.batchId });
      }
      return Promise.resolve();
    },
    announce: (events) => {
      this.announced.push(...events);
      return Promise.resolve();
    },
  };

  private saveFeatures(batchId: string, rows: readonly FeatureRow[]): number {
    for (const row of rows) {
      this.features.set(row.transactionId, { batchId, values: Float32Array.from(row.values) });
    }
    return rows.length;
  }

  private candidate(tx: LandedTransaction): MaturityCandidate | null {
    if (!this.features.has(tx.transactionId)) return null;
    const label = this.labels.get(tx.transactionId);
    return {
      transactionId: tx.transactionId,
      eventTimeMs: tx.eventTimeMs,
      fraudReportedAtMs: label?.isFraud === true ? label.reportedAtMs : null,
      genuineReportedAtMs: label?.isFraud === false ? label.reportedAtMs : null,
      currentLabel: this.examples.get(tx.transactionId)?.label ?? null,
    };
  }

  private maturityCandidates(query: MaturityQuery): MaturityCandidate[] {
    const picked = new Map<string, LandedTransaction>();
    const from =
      query.previousMatureBeforeMs === null
        ? 0
        : bound(this.byTime, query.previousMatureBeforeMs, byEventTime, false);
    const to = bound(this.byTime, query.matureBeforeMs, byEventTime, false);
    for (let i = from; i < to; i += 1) {
      const tx = this.byTime[i] as LandedTransaction;
      picked.set(tx.transactionId, tx);
    }
    for (const id of query.batchIds) {
      for (const tx of this.byBatch.get(id) ?? []) {
        if (tx.eventTimeMs <= query.matureBeforeMs) picked.set(tx.transactionId, tx);
      }
      for (const label of this.labelsByBatch.get(id) ?? []) {
        const tx = this.transactions.get(label.transactionId);
        const reversal = !label.isFraud && this.examples.get(label.transactionId)?.label === 1;
        if (
          tx !== undefined &&
          (label.isFraud || reversal) &&
          label.reportedAtMs <= query.watermarkMs
        ) {
          picked.set(tx.transactionId, tx);
        }
      }
    }
    const candidates: MaturityCandidate[] = [];
    for (const tx of picked.values()) {
      const candidate = this.candidate(tx);
      if (candidate !== null) candidates.push(candidate);
    }
    return candidates;
  }

  private saveExamples(exampleSetId: string, examples: readonly MaturedExample[]): number {
    let written = 0;
    for (const example of examples) {
      const current = this.examples.get(example.transactionId);
      if (current !== undefined && !(example.corrected && current.label !== example.label))
        continue;
      if (current !== undefined)
        this.examplesBySet.get(current.exampleSetId)?.delete(example.transactionId);
      this.examples.set(example.transactionId, {
        exampleSetId,
        label: example.label,
        corrected: current !== undefined,
      });
      const set = this.examplesBySet.get(exampleSetId) ?? new Set<string>();
      this.examplesBySet.set(exampleSetId, set);
      set.add(example.transactionId);
      written += 1;
      if (example.label === 1) this.written.positives += 1;
      if (current !== undefined) this.written.corrected += 1;
    }
    return written;
  }

  private toExample(transactionId: string): (Example & { eventTimeMs: number }) | null {
    const example = this.examples.get(transactionId);
    const features = this.features.get(transactionId);
    const tx = this.transactions.get(transactionId);
    if (example === undefined || features === undefined || tx === undefined) return null;
    return {
      transactionId,
      eventTimeMs: tx.eventTimeMs,
      label: example.label,
      features: features.values,
    };
  }

  private exampleSet(ids: Iterable<string>): ExampleSet {
    const rows: Example[] = [];
    for (const id of ids) {
      const row = this.toExample(id);
      if (row !== null) rows.push(row);
    }
    rows.sort(
      (a, b) => a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId),
    );
    const width = rows[0]?.features.length ?? 0;
    return toExampleSet(rows, width);
  }

  exampleRefs(exampleSetId: string): Promise<ExampleRef[]> {
    return Promise.resolve(
      [...(this.examplesBySet.get(exampleSetId) ?? [])].map((id) => ({
        transactionId: id,
        eventTimeMs: (this.transactions.get(id) as LandedTransaction).eventTimeMs,
      })),
    );
  }

  readExamples(exampleSetIds: readonly string[]): Promise<ExampleSet> {
    return Promise.resolve(
      this.exampleSet(exampleSetIds.flatMap((id) => [...(this.examplesBySet.get(id) ?? [])])),
    );
  }

  readExamplesById(transactionIds: readonly string[]): Promise<ExampleSet> {
    return Promise.resolve(this.exampleSet(transactionIds));
  }

  readExamplesBetween(fromMs: number, toMs: number): Promise<ExampleSet> {
    const from = bound(this.byTime, fromMs, byEventTime, true);
    const to = bound(this.byTime, toMs, byEventTime, true);
    return Promise.resolve(
      this.exampleSet(this.byTime.slice(from, to).map((tx) => tx.transactionId)),
    );
  }

  sourceBatches(exampleSetIds: readonly string[]): Promise<SourceBatches> {
    const batchIds = new Set<string>();
    for (const setId of exampleSetIds) {
      for (const id of this.examplesBySet.get(setId) ?? []) {
        const tx = this.transactions.get(id);
        if (tx !== undefined) batchIds.add(tx.batchId);
      }
    }
    const sorted = [...batchIds].sort(compareIds);
    return Promise.resolve({
      batchIds: sorted,
      offsets: sorted.flatMap((id) => this.offsets.get(id) ?? []),
    });
  }
}

function append(index: Map<string, LandedTransaction[]>, key: string, tx: LandedTransaction): void {
  const rows = index.get(key);
  if (rows === undefined) index.set(key, [tx]);
  else rows.push(tx);
}
