import { compareIds, toTimeline } from './event-order';
import type { FeatureInput, KnownLabel } from './feature-input';
import { resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';
import { featureLayout, featuresAt } from './point-features';
import type { FeatureTimeline } from './point-features';

/** The features of one transaction at its own event time. */
export interface FeatureVector {
  /** The transaction the features describe. */
  readonly transactionId: string;
  /** Its event time: the point in time at which every feature was computed. */
  readonly eventTimeMs: number;
  /** Feature values in the order of `featureNames(options)`. */
  readonly values: number[];
}

/** Throws unless the transaction's time and amount are finite. */
export function checkInput(tx: FeatureInput): void {
  // A NaN time would break the sort that every window search relies on, silently.
  if (!Number.isFinite(tx.eventTimeMs) || !Number.isFinite(tx.amount)) {
    throw new RangeError(`transaction ${tx.transactionId}: eventTimeMs and amount must be finite`);
  }
}

/**
 * Picks one of two targets with the same id by their content, never by their order, so a
 * conflicting copy resolves the same way in every batch and every service.
 */
export function canonicalCopy(a: FeatureInput, b: FeatureInput): FeatureInput {
  const order =
    a.eventTimeMs - b.eventTimeMs ||
    compareIds(a.customerId, b.customerId) ||
    compareIds(a.terminalId, b.terminalId) ||
    a.amount - b.amount;
  return order <= 0 ? a : b;
}

/** The targets by id, one copy each. */
export function targetsById(targets: readonly FeatureInput[]): Map<string, FeatureInput> {
  const byId = new Map<string, FeatureInput>();
  for (const tx of targets) {
    checkInput(tx);
    const seen = byId.get(tx.transactionId);
    byId.set(tx.transactionId, seen === undefined ? tx : canonicalCopy(seen, tx));
  }
  return byId;
}

/**
 * Folds a label into the earliest time each transaction was known to be fraud: a label saying
 * "not fraud" adds nothing, and a later one never withdraws an earlier fraud.
 */
export function foldFraudKnownAt(knownAt: Map<string, number>, label: KnownLabel): void {
  if (!label.isFraud) return;
  const earlier = knownAt.get(label.transactionId);
  if (earlier === undefined || label.reportedAtMs < earlier) {
    knownAt.set(label.transactionId, label.reportedAtMs);
  }
}

/** Sorts rows into a timeline and marks the entries whose transaction has a fraud label. */
function toFeatureTimeline(
  rows: FeatureInput[],
  knownAt: ReadonlyMap<string, number>,
): FeatureTimeline {
  const timeline = toTimeline(rows);
  const fraudIndex: number[] = [];
  const fraudKnownAtMs: number[] = [];
  timeline.ids.forEach((txId, index) => {
    const knownAtMs = knownAt.get(txId);
    if (knownAtMs === undefined) return;
    fraudIndex.push(index);
    fraudKnownAtMs.push(knownAtMs);
  });
  return { ...timeline, fraudIndex, fraudKnownAtMs };
}

/**
 * Computes the features of each target at its own event time `t`, using only transactions that
 * happened at or before it and labels reported at or before it.
 *
 * - `amount`; `tx_during_weekend` (1 on a UTC Saturday or Sunday); `tx_during_night` (1 when the
 *   UTC hour is below `nightEndHour`).
 * - Per customer window of `w` days: the number and the mean amount of the customer's transactions
 *   in `(t - w days, t]`, the target included (as in the Fraud Detection Handbook), so the count is
 *   at least 1.
 * - Per terminal window of `w` days with delay `d`: the number of the terminal's transactions in
 *   `(t - (d + w) days, t - d days]`, and the risk: the share of them with a fraud label reported
 *   at or before `t` (0 for an empty window). Unlike the handbook, which reads ground truth after a
 *   fixed delay, a label reported after `t` is never used, so training sees what scoring will see.
 *   A transaction counts as fraud from its earliest `isFraud` label on; a later "not fraud" label
 *   does not withdraw it.
 * - With a label-profile window of `w` days (`labelProfileDays`, 0 for none), over the target's
 *   earlier transactions in `(t - w days, t)` (the target itself never counts) and the labels
 *   reported at or before `t`, with no fixed delay: the amount divided by the card's mean amount
 *   (1 when the card has no earlier transaction or a mean of 0 or less; clipped to ±100); the log
 *   (`log1p`) of the hours since the card's previous transaction (`log1p(24 w)` when none); the
 *   card's known frauds; and at the terminal the known frauds, the number of distinct cards they
 *   were on, their mean amount (0 when none) and the log of the hours since the latest of them
 *   (`log1p(24 w)` when none). Many cards hit at one terminal tells a compromised terminal from one
 *   card's isolated fraud; the ratio tells a card spending unlike itself.
 *
 * "At or before `t`" follows `compareEventOrder`: a transaction in the same millisecond as the
 * target counts only if it is the target or its id sorts before the target's id.
 *
 * `history` may come in any order and hold the targets themselves and redelivered copies: a copy
 * with the id and event time of another is dropped, and a target's own copy replaces history's.
 * Targets also serve as history for each other. Copies of one history id that disagree on event
 * time, customer or terminal are not reconciled (the warehouse keeps one version per id, so only
 * corrupt input has them): each counts where it falls, the same whatever the order. It needs to
 * cover only `historyRange(targets, options)`; anything more leaves the result unchanged, bit for
 * bit, because each window sum adds the window's own transactions newest first whatever the
 * history's extent (a prefix-sum difference would not: its last bits depend on where the history
 * starts, and the scorer, the pipeline and a retrain start it in different places).
 *
 * Cost: O(n + m + k log k + q log k) for n history rows, k of them of the targets' customers and
 * terminals, m labels and q targets, plus, per target, its customer's transactions in the longest
 * customer window (summed one by one for the bit-exactness above; a handful for a real card) and
 * the labelled frauds in its terminal's windows.
 *
 * @returns One vector per target, in the order of `targets`.
 * @throws RangeError on invalid options, or a transaction with a non-finite time or amount.
 */
export function computeFeatures(
  targets: readonly FeatureInput[],
  history: readonly FeatureInput[],
  labels: readonly KnownLabel[],
  options?: Partial<FeatureOptions>,
): FeatureVector[] {
  const layout = featureLayout(resolveFeatureOptions(options));
  const byId = targetsById(targets);
  const points = targets.map((target) => byId.get(target.transactionId) as FeatureInput);

  // Only the targets' customers and terminals matter; the rest of the history is skipped after two
  // lookups, never deduplicated or sorted, which keeps a large history cheap.
  const customerRows = new Map<string, FeatureInput[]>();
  const terminalRows = new Map<string, FeatureInput[]>();
  for (const tx of points) {
    customerRows.set(tx.customerId, []);
    terminalRows.set(tx.terminalId, []);
  }
  for (const tx of byId.values()) {
    (customerRows.get(tx.customerId) as FeatureInput[]).push(tx);
    (terminalRows.get(tx.terminalId) as FeatureInput[]).push(tx);
  }
  for (const tx of history) {
    const customer = customerRows.get(tx.customerId);
    const terminal = terminalRows.get(tx.terminalId);
    // A target's own copy wins over history's: it is what the caller is scoring.
    if ((customer === undefined && terminal === undefined) || byId.has(tx.transactionId)) continue;
    checkInput(tx);
    customer?.push(tx);
    terminal?.push(tx);
  }
  const knownAt = new Map<string, number>();
  for (const label of labels) foldFraudKnownAt(knownAt, label);
  const customers = new Map<string, FeatureTimeline>();
  for (const [id, rows] of customerRows) customers.set(id, toFeatureTimeline(rows, knownAt));
  const terminals = new Map<string, FeatureTimeline>();
  for (const [id, rows] of terminalRows) terminals.set(id, toFeatureTimeline(rows, knownAt));

  return points.map((tx) => ({
    transactionId: tx.transactionId,
    eventTimeMs: tx.eventTimeMs,
    values: featuresAt(
      tx,
      customers.get(tx.customerId) as FeatureTimeline,
      terminals.get(tx.terminalId) as FeatureTimeline,
      layout,
    ),
  }));
}
