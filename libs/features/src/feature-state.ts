import { checkInput, foldFraudKnownAt, targetsById } from './compute-features';
import type { FeatureVector } from './compute-features';
import type { FeatureInput, KnownLabel } from './feature-input';
import { DAY_MS, resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';
import { lookBackMs } from './history-range';
import { KeyTimeline } from './key-timeline';
import { featureLayout, featureParts, featuresAt } from './point-features';
import type { FeatureLayout } from './point-features';
import type { KeyShare, TransactionParts } from './key-share';

/** Options of {@link FeatureState}. */
export interface FeatureStateOptions {
  /** The feature definition the state serves. @default DEFAULT_FEATURE_OPTIONS */
  readonly features?: Partial<FeatureOptions>;
  /**
   * Transactions at or before this event time are not held (see {@link FeatureState.floorMs}): a
   * state restored from a snapshot, or rebuilt from rows after this time, starts here.
   * @default -Infinity (everything is held)
   */
  readonly floorMs?: number;
  /**
   * The cards and terminals this state owns: it keeps only their timelines, and gives the parts
   * of a vector they hold ({@link FeatureState.partsOf}). @default every key
   */
  readonly share?: KeyShare;
}

/** Key of the snapshot segment that holds the fraud labels. */
const LABELS_SEGMENT = 'labels';
const DAY_SEGMENT_PREFIX = 'day:';

/** A day segment's body: the day's transactions, as columns. */
interface DayBody {
  readonly ids: string[];
  readonly customers: string[];
  readonly terminals: string[];
  readonly amounts: number[];
  readonly times: number[];
}

/** The labels segment's body: the fraud labels held, as columns. */
interface LabelsBody {
  readonly ids: string[];
  readonly knownAt: number[];
}

function sameContent(a: FeatureInput, b: FeatureInput): boolean {
  return (
    a.eventTimeMs === b.eventTimeMs &&
    a.customerId === b.customerId &&
    a.terminalId === b.terminalId &&
    a.amount === b.amount
  );
}

function timelineOf(map: Map<string, KeyTimeline>, key: string): KeyTimeline {
  let timeline = map.get(key);
  if (timeline === undefined) {
    timeline = new KeyTimeline();
    map.set(key, timeline);
  }
  return timeline;
}

/**
 * The incremental, point-in-time feature state: each card's and each terminal's transactions
 * over the longest look-back and the fraud labels known of them, kept as the timelines that the
 * one feature definition (`featuresAt`, which `computeFeatures` also calls) reads. Transactions
 * and labels arrive in any order, late or early; the state holds the rows themselves, not
 * aggregates, so
 *
 *   `state.featuresOf(targets)` equals `computeFeatures(targets, held, labels)`, bit for bit,
 *
 * where `held` is every transaction added (the first copy of each id, after the floor) and
 * `labels` every label added, for each target the state {@link covers}. It holds no window
 * arithmetic of its own: windows, delays and tie rules are the feature definition's.
 *
 * Labels come two ways: {@link addLabel} folds every verdict seen as `computeFeatures` does (a
 * stream of every label, e.g. the scorer's Kafka feed); {@link setLabel} takes the verdict now in
 * force, replacing the previous one (a store that keeps one verdict per transaction and revises it,
 * e.g. the warehouse's `labels` rows).
 *
 * Old rows leave through {@link advanceFloor}. The state is serializable by segments (one per UTC
 * day of event time, and one of labels), so a service persists what changed and restores it.
 * Pure: no I/O, no clock.
 */
export class FeatureState {
  /** A feature at time `t` reads transactions in `(t - lookBackMs, t]`. */
  readonly lookBackMs: number;
  private readonly layout: FeatureLayout;
  private floor: number;
  private readonly share: KeyShare | undefined;
  private readonly byId = new Map<string, FeatureInput>();
  private readonly days = new Map<number, FeatureInput[]>();
  private readonly cards = new Map<string, KeyTimeline>();
  private readonly terminals = new Map<string, KeyTimeline>();
  /** When each transaction's fraud became known: of held transactions and of ones not yet seen. */
  private readonly knownAt = new Map<string, number>();
  private readonly dirtyDays = new Set<number>();
  private labelsDirty = false;

  constructor(options: FeatureStateOptions = {}) {
    const resolved = resolveFeatureOptions(options.features);
    this.layout = featureLayout(resolved);
    this.lookBackMs = lookBackMs(resolved);
    this.floor = options.floorMs ?? Number.NEGATIVE_INFINITY;
    this.share = options.share;
  }

  private ownsCard(customerId: string): boolean {
    return this.share === undefined || this.share.ownsCard(customerId);
  }

  private ownsTerminal(terminalId: string): boolean {
    return this.share === undefined || this.share.ownsTerminal(terminalId);
  }

  /** Transactions at or before this event time are not held; it only moves forward. */
  get floorMs(): number {
    return this.floor;
  }

  /** Transactions held. */
  get transactionCount(): number {
    return this.byId.size;
  }

  /** Transactions with a fraud label held (their transaction held or not yet seen). */
  get labelCount(): number {
    return this.knownAt.size;
  }

  /** The earliest event time whose features the state gives exactly: `floorMs + lookBackMs`. */
  get coveredFromMs(): number {
    return this.floor + this.lookBackMs;
  }

  /**
   * Whether a feature at `eventTimeMs` finds its whole look-back in the state, so that
   * {@link featuresOf} equals `computeFeatures` over every transaction ever added.
   */
  covers(eventTimeMs: number): boolean {
    return eventTimeMs - this.lookBackMs >= this.floor;
  }

  /** Whether a transaction with this id is held. */
  holds(transactionId: string): boolean {
    return this.byId.has(transactionId);
  }

  /**
   * Adds a transaction to its card's and its terminal's timelines, in event order whatever the
   * arrival order. A copy of an id already held is ignored (the warehouse, too, keeps the first
   * copy), and so is a transaction at or before the floor (no covered feature reads it).
   *
   * @returns whether it was added.
   * @throws RangeError when its time or amount is not finite.
   */
  addTransaction(tx: FeatureInput): boolean {
    checkInput(tx);
    if (tx.eventTimeMs <= this.floor || this.byId.has(tx.transactionId)) return false;
    const card = this.ownsCard(tx.customerId);
    const terminal = this.ownsTerminal(tx.terminalId);
    // Another share's transaction: its owners keep it.
    if (!card && !terminal) return false;
    const row: FeatureInput = {
      transactionId: tx.transactionId,
      customerId: tx.customerId,
      terminalId: tx.terminalId,
      amount: tx.amount,
      eventTimeMs: tx.eventTimeMs,
    };
    this.byId.set(row.transactionId, row);
    const day = Math.floor(row.eventTimeMs / DAY_MS);
    const ofDay = this.days.get(day);
    if (ofDay === undefined) this.days.set(day, [row]);
    else ofDay.push(row);
    this.dirtyDays.add(day);
    const knownAtMs = this.knownAt.get(row.transactionId);
    if (card) timelineOf(this.cards, row.customerId).insert(row, knownAtMs);
    if (terminal) timelineOf(this.terminals, row.terminalId).insert(row, knownAtMs);
    return true;
  }

  /**
   * Folds a label in as `computeFeatures` reads labels: a transaction is fraud from its earliest
   * fraud report on, a "not fraud" verdict adds nothing and never withdraws one. The label may
   * come before its transaction.
   */
  addLabel(label: KnownLabel): void {
    const before = this.knownAt.get(label.transactionId);
    foldFraudKnownAt(this.knownAt, label);
    const after = this.knownAt.get(label.transactionId);
    if (after !== before) this.markFraud(label.transactionId, after);
  }

  /**
   * Takes the verdict now in force for a transaction, replacing the one before: a fraud label
   * marks it known from its report time, a "not fraud" label (a reversed chargeback) unmarks it.
   * For a store that keeps one verdict per transaction; the state then equals `computeFeatures`
   * over the verdicts in force.
   */
  setLabel(label: KnownLabel): void {
    const before = this.knownAt.get(label.transactionId);
    const after = label.isFraud ? label.reportedAtMs : undefined;
    if (after === before) return;
    if (after === undefined) this.knownAt.delete(label.transactionId);
    else this.knownAt.set(label.transactionId, after);
    this.markFraud(label.transactionId, after);
  }

  private markFraud(transactionId: string, knownAtMs: number | undefined): void {
    this.labelsDirty = true;
    const tx = this.byId.get(transactionId);
    if (tx === undefined) return;
    for (const timeline of [this.cards.get(tx.customerId), this.terminals.get(tx.terminalId)]) {
      // A key of another share has no timeline here.
      if (timeline === undefined) continue;
      const at = timeline.find(tx.eventTimeMs, tx.transactionId);
      if (at >= 0) timeline.setKnownAt(at, knownAtMs);
    }
  }

  /**
   * The features of each target at its own event time, computed as
   * `computeFeatures(targets, held, labels)` would: a target not held, or held with other content,
   * is computed as its own copy (and the state is left as it was). Exact for the targets that the
   * state {@link covers}; for older ones it uses what is held, which misses what the floor dropped.
   *
   * @returns one vector per target, in order.
   * @throws RangeError when a target's time or amount is not finite, or its card or terminal is
   * another share's.
   */
  featuresOf(targets: readonly FeatureInput[]): FeatureVector[] {
    for (const tx of targets) {
      if (!this.ownsCard(tx.customerId) || !this.ownsTerminal(tx.terminalId)) {
        throw new RangeError(
          `transaction ${tx.transactionId}: its card or terminal is another share's (use partsOf)`,
        );
      }
    }
    return this.withTargets(targets, (tx) => ({
      transactionId: tx.transactionId,
      eventTimeMs: tx.eventTimeMs,
      values: featuresAt(
        tx,
        this.cards.get(tx.customerId) as KeyTimeline,
        this.terminals.get(tx.terminalId) as KeyTimeline,
        this.layout,
      ),
    }));
  }

  /**
   * The parts of each target's vector that this state's share owns: the card part when it owns
   * the card, the terminal part when it owns the terminal (see `assembleVectors`), computed as
   * {@link featuresOf} computes the whole vector.
   */
  partsOf(targets: readonly FeatureInput[]): TransactionParts[] {
    return this.withTargets(targets, (tx) => ({
      transactionId: tx.transactionId,
      ...featureParts(
        tx,
        this.ownsCard(tx.customerId) ? this.cards.get(tx.customerId) : undefined,
        this.ownsTerminal(tx.terminalId) ? this.terminals.get(tx.terminalId) : undefined,
        this.layout,
      ),
    }));
  }

  /** Runs `compute` on each target with the targets' own copies in the timelines, then undoes that. */
  private withTargets<R>(targets: readonly FeatureInput[], compute: (tx: FeatureInput) => R): R[] {
    const byId = targetsById(targets);
    const undo: (() => void)[] = [];
    for (const target of byId.values()) {
      const held = this.byId.get(target.transactionId);
      if (held !== undefined && sameContent(held, target)) continue;
      if (held !== undefined) {
        this.detach(held);
        undo.push(() => this.attach(held));
      }
      this.attach(target);
      undo.push(() => this.detach(target));
    }
    try {
      return targets.map((target) => compute(byId.get(target.transactionId) as FeatureInput));
    } finally {
      for (let i = undo.length - 1; i >= 0; i -= 1) (undo[i] as () => void)();
    }
  }

  /** Puts a copy into its timelines only (a temporary target). */
  private attach(tx: FeatureInput): void {
    const knownAtMs = this.knownAt.get(tx.transactionId);
    if (this.ownsCard(tx.customerId)) timelineOf(this.cards, tx.customerId).insert(tx, knownAtMs);
    if (this.ownsTerminal(tx.terminalId)) {
      timelineOf(this.terminals, tx.terminalId).insert(tx, knownAtMs);
    }
  }

  /** Takes a copy out of its timelines only. */
  private detach(tx: FeatureInput): void {
    for (const [map, key] of [
      [this.cards, tx.customerId],
      [this.terminals, tx.terminalId],
    ] as const) {
      const timeline = map.get(key);
      if (timeline === undefined) continue;
      const at = timeline.find(tx.eventTimeMs, tx.transactionId);
      if (at < 0) continue;
      timeline.removeAt(at);
      if (timeline.size === 0) map.delete(key);
    }
  }

  /**
   * Moves the floor forward to `floorMs`: transactions at or before it are dropped, with their
   * labels, and so are labels of transactions never seen once reported at or before it (a label
   * is reported after its transaction, so that transaction is at or before the floor too).
   * Cost: the rows dropped, plus the keys they touch. A floor that is not ahead changes nothing.
   *
   * @returns how many transactions were dropped.
   */
  advanceFloor(floorMs: number): number {
    if (!(floorMs > this.floor)) return 0;
    this.floor = floorMs;
    const lastDay = Math.floor(floorMs / DAY_MS);
    const cards = new Set<string>();
    const terminals = new Set<string>();
    let dropped = 0;
    for (const [day, rows] of this.days) {
      if (day > lastDay) continue;
      const kept: FeatureInput[] = [];
      for (const tx of rows) {
        if (tx.eventTimeMs > floorMs) {
          kept.push(tx);
          continue;
        }
        this.byId.delete(tx.transactionId);
        if (this.knownAt.delete(tx.transactionId)) this.labelsDirty = true;
        cards.add(tx.customerId);
        terminals.add(tx.terminalId);
        dropped += 1;
      }
      if (kept.length === rows.length) continue;
      this.dirtyDays.add(day);
      if (kept.length === 0) this.days.delete(day);
      else this.days.set(day, kept);
    }
    for (const [map, keys] of [
      [this.cards, cards],
      [this.terminals, terminals],
    ] as const) {
      for (const key of keys) {
        const timeline = map.get(key);
        if (timeline === undefined) continue;
        timeline.dropThrough(floorMs);
        if (timeline.size === 0) map.delete(key);
      }
    }
    for (const [id, knownAtMs] of this.knownAt) {
      if (knownAtMs <= floorMs && !this.byId.has(id)) {
        this.knownAt.delete(id);
        this.labelsDirty = true;
      }
    }
    return dropped;
  }

  /**
   * Keys of the snapshot segments changed since they were last encoded (a day dropped whole
   * included: it encodes to null). Segments are one per UTC day of event time, and one of labels.
   */
  changedSegments(): string[] {
    const keys = [...this.dirtyDays].sort((a, b) => a - b).map((day) => DAY_SEGMENT_PREFIX + day);
    if (this.labelsDirty) keys.push(LABELS_SEGMENT);
    return keys;
  }

  /** Keys of every non-empty snapshot segment: a full snapshot. */
  allSegments(): string[] {
    const keys = [...this.days.keys()].sort((a, b) => a - b).map((day) => DAY_SEGMENT_PREFIX + day);
    keys.push(LABELS_SEGMENT);
    return keys;
  }

  /**
   * The body of a segment (JSON text), or null when the segment is empty (a dropped day: delete
   * it). Encoding marks it unchanged; {@link markChanged} undoes that when the write failed.
   *
   * @throws RangeError for a key that is not a segment's.
   */
  encodeSegment(key: string): string | null {
    if (key === LABELS_SEGMENT) {
      this.labelsDirty = false;
      const body: LabelsBody = {
        ids: [...this.knownAt.keys()],
        knownAt: [...this.knownAt.values()],
      };
      return JSON.stringify(body);
    }
    const day = this.dayOf(key);
    this.dirtyDays.delete(day);
    const rows = this.days.get(day);
    if (rows === undefined) return null;
    const body: DayBody = {
      ids: rows.map((tx) => tx.transactionId),
      customers: rows.map((tx) => tx.customerId),
      terminals: rows.map((tx) => tx.terminalId),
      amounts: rows.map((tx) => tx.amount),
      times: rows.map((tx) => tx.eventTimeMs),
    };
    return JSON.stringify(body);
  }

  /** Marks segments as changed again (their write did not happen). */
  markChanged(keys: readonly string[]): void {
    for (const key of keys) {
      if (key === LABELS_SEGMENT) this.labelsDirty = true;
      else this.dirtyDays.add(this.dayOf(key));
    }
  }

  /**
   * Loads a segment encoded by {@link encodeSegment} (into a state built with the snapshot's
   * floor), in any order; what it loads is not marked changed.
   *
   * @throws RangeError for a key that is not a segment's, or a body that is not one.
   */
  loadSegment(key: string, body: string): void {
    const parsed = JSON.parse(body) as Partial<DayBody & LabelsBody>;
    if (key === LABELS_SEGMENT) {
      const { ids, knownAt } = parsed;
      if (!Array.isArray(ids) || !Array.isArray(knownAt) || ids.length !== knownAt.length) {
        throw new RangeError('feature state: the labels segment is not one');
      }
      const wasDirty = this.labelsDirty;
      ids.forEach((id, i) => {
        this.setLabel({ transactionId: id, isFraud: true, reportedAtMs: knownAt[i] as number });
      });
      this.labelsDirty = wasDirty;
      return;
    }
    const day = this.dayOf(key);
    const { ids, customers, terminals, amounts, times } = parsed;
    const columns = [customers, terminals, amounts, times];
    if (!Array.isArray(ids) || columns.some((c) => !Array.isArray(c) || c.length !== ids.length)) {
      throw new RangeError(`feature state: segment ${key} is not a day of transactions`);
    }
    const wasDirty = this.dirtyDays.has(day);
    ids.forEach((id, i) => {
      this.addTransaction({
        transactionId: id,
        customerId: (customers as string[])[i] as string,
        terminalId: (terminals as string[])[i] as string,
        amount: (amounts as number[])[i] as number,
        eventTimeMs: (times as number[])[i] as number,
      });
    });
    if (!wasDirty) this.dirtyDays.delete(day);
  }

  private dayOf(key: string): number {
    const day = key.startsWith(DAY_SEGMENT_PREFIX)
      ? Number(key.slice(DAY_SEGMENT_PREFIX.length))
      : Number.NaN;
    if (!Number.isInteger(day)) throw new RangeError(`feature state: no segment ${key}`);
    return day;
  }
}
