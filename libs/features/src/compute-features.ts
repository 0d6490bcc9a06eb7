import { FenwickTree } from './fenwick-tree';
import { compareIds, countAtOrBeforeEvent, countAtOrBeforeTime, toTimeline } from './event-order';
import type { EventTimeline } from './event-order';
import type { FeatureInput, KnownLabel } from './feature-input';
import { DAY_MS, resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';

/** The features of one transaction at its own event time. */
export interface FeatureVector {
  /** The transaction the features describe. */
  readonly transactionId: string;
  /** Its event time: the point in time at which every feature was computed. */
  readonly eventTimeMs: number;
  /** Feature values in the order of `featureNames(options)`. */
  readonly values: number[];
}

interface TerminalTimeline extends EventTimeline {
  /** Counts, by timeline index, the transactions whose fraud is known at the sweep's time. */
  readonly knownFraud: FenwickTree;
}

/** The moment a transaction's fraud becomes known to a terminal timeline's risk counts. */
interface FraudReport {
  readonly knownAtMs: number;
  readonly timeline: TerminalTimeline;
  readonly index: number;
}

function checkInput(tx: FeatureInput): void {
  // A NaN time would break the sort that every window search relies on, silently.
  if (!Number.isFinite(tx.eventTimeMs) || !Number.isFinite(tx.amount)) {
    throw new RangeError(`transaction ${tx.transactionId}: eventTimeMs and amount must be finite`);
  }
}

/**
 * Picks one of two targets with the same id by their content, never by their order, so a
 * conflicting copy resolves the same way in every batch and every service.
 */
function canonicalCopy(a: FeatureInput, b: FeatureInput): FeatureInput {
  const order =
    a.eventTimeMs - b.eventTimeMs ||
    compareIds(a.customerId, b.customerId) ||
    compareIds(a.terminalId, b.terminalId) ||
    a.amount - b.amount;
  return order <= 0 ? a : b;
}

/** The targets by id, one copy each. */
function targetsById(targets: readonly FeatureInput[]): Map<string, FeatureInput> {
  const byId = new Map<string, FeatureInput>();
  for (const tx of targets) {
    checkInput(tx);
    const seen = byId.get(tx.transactionId);
    byId.set(tx.transactionId, seen === undefined ? tx : canonicalCopy(seen, tx));
  }
  return byId;
}

/** The earliest time each transaction was known to be fraud; labels saying "not fraud" add none. */
function fraudKnownAt(labels: readonly KnownLabel[]): Map<string, number> {
  const knownAt = new Map<string, number>();
  for (const label of labels) {
    if (!label.isFraud) continue;
    const earlier = knownAt.get(label.transactionId);
    if (earlier === undefined || label.reportedAtMs < earlier) {
      knownAt.set(label.transactionId, label.reportedAtMs);
    }
  }
  return knownAt;
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
 * Cost: O(n + (k + m + q) log k) for n history rows, k of them of the targets' customers and
 * terminals, m labels and q targets, plus, per target, its customer's transactions in the longest
 * customer window (summed one by one for the bit-exactness above; a handful for a real card).
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
  const { customerWindowsDays, terminalWindowsDays, terminalDelayDays, nightEndHour } =
    resolveFeatureOptions(options);
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
  const customers = new Map<string, EventTimeline>();
  for (const [id, rows] of customerRows) customers.set(id, toTimeline(rows));

  const knownAt = fraudKnownAt(labels);
  const terminals = new Map<string, TerminalTimeline>();
  const reports: FraudReport[] = [];
  for (const [id, rows] of terminalRows) {
    const { times, ids, amounts } = toTimeline(rows);
    const timeline = { times, ids, amounts, knownFraud: new FenwickTree(ids.length) };
    terminals.set(id, timeline);
    timeline.ids.forEach((txId, index) => {
      const knownAtMs = knownAt.get(txId);
      if (knownAtMs !== undefined) reports.push({ knownAtMs, timeline, index });
    });
  }
  reports.sort((a, b) => a.knownAtMs - b.knownAtMs);

  // Customer sums run newest first across the windows, shortest window first, in one pass.
  const customerOrder = customerWindowsDays
    .map((days, slot) => ({ days, slot }))
    .sort((a, b) => a.days - b.days);
  const customerBase = 3;
  const terminalBase = customerBase + 2 * customerWindowsDays.length;
  const width = terminalBase + 2 * terminalWindowsDays.length;

  // Targets are visited in time order so that each fraud report is added to the counts once, just
  // before the first target allowed to see it.
  const visitOrder = points.map((_, index) => index);
  visitOrder.sort(
    (a, b) => (points[a] as FeatureInput).eventTimeMs - (points[b] as FeatureInput).eventTimeMs,
  );
  const results = new Array<FeatureVector>(points.length);
  let nextReport = 0;
  for (const slot of visitOrder) {
    const tx = points[slot] as FeatureInput;
    const t = tx.eventTimeMs;
    while (nextReport < reports.length && (reports[nextReport] as FraudReport).knownAtMs <= t) {
      const report = reports[nextReport] as FraudReport;
      report.timeline.knownFraud.increment(report.index);
      nextReport += 1;
    }

    const values = new Array<number>(width);
    const date = new Date(t);
    const weekday = date.getUTCDay();
    values[0] = tx.amount;
    values[1] = weekday === 0 || weekday === 6 ? 1 : 0;
    values[2] = date.getUTCHours() < nightEndHour ? 1 : 0;

    const customer = customers.get(tx.customerId) as EventTimeline;
    const end = countAtOrBeforeEvent(customer, t, tx.transactionId);
    let start = end;
    let sum = 0;
    for (const { days, slot: window } of customerOrder) {
      const windowStart = countAtOrBeforeTime(customer, t - days * DAY_MS);
      for (; start > windowStart; start -= 1) sum += customer.amounts[start - 1] as number;
      const count = end - start;
      values[customerBase + 2 * window] = count;
      // Never 0: the target is in its own customer's timeline.
      values[customerBase + 2 * window + 1] = sum / count;
    }

    const terminal = terminals.get(tx.terminalId) as TerminalTimeline;
    const windowEndMs = t - terminalDelayDays * DAY_MS;
    // With no delay the window ends at the target itself, so same-millisecond ties apply.
    const windowEnd =
      windowEndMs === t
        ? countAtOrBeforeEvent(terminal, t, tx.transactionId)
        : countAtOrBeforeTime(terminal, windowEndMs);
    const frauds = terminal.knownFraud.prefixSum(windowEnd);
    terminalWindowsDays.forEach((days, window) => {
      const windowStart = countAtOrBeforeTime(terminal, windowEndMs - days * DAY_MS);
      const count = windowEnd - windowStart;
      values[terminalBase + 2 * window] = count;
      values[terminalBase + 2 * window + 1] =
        count === 0 ? 0 : (frauds - terminal.knownFraud.prefixSum(windowStart)) / count;
    });

    results[slot] = { transactionId: tx.transactionId, eventTimeMs: t, values };
  }
  return results;
}
