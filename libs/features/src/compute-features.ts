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
  /** Timeline indices, ascending, of the transactions with a fraud label (reported at any time). */
  readonly labelledFraud: number[];
}

/** Label-profile values past this ratio say nothing more, and must stay finite in float32. */
const MAX_AMOUNT_RATIO = 100;
const HOUR_MS = 3_600_000;

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
  const {
    customerWindowsDays,
    terminalWindowsDays,
    terminalDelayDays,
    nightEndHour,
    labelProfileDays,
  } = resolveFeatureOptions(options);
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
    const timeline: TerminalTimeline = {
      ...toTimeline(rows),
      knownFraud: new FenwickTree(rows.length),
      labelledFraud: [],
    };
    terminals.set(id, timeline);
    timeline.ids.forEach((txId, index) => {
      const knownAtMs = knownAt.get(txId);
      if (knownAtMs === undefined) return;
      reports.push({ knownAtMs, timeline, index });
      timeline.labelledFraud.push(index);
    });
  }
  reports.sort((a, b) => a.knownAtMs - b.knownAtMs);

  // Customer sums run newest first across the windows, shortest window first, in one pass.
  const customerOrder = customerWindowsDays
    .map((days, slot) => ({ days, slot }))
    .sort((a, b) => a.days - b.days);
  const customerBase = 3;
  const terminalBase = customerBase + 2 * customerWindowsDays.length;
  const profileBase = terminalBase + 2 * terminalWindowsDays.length;
  const width = profileBase + (labelProfileDays > 0 ? PROFILE_WIDTH : 0);

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

    if (labelProfileDays > 0) {
      const profile = labelProfile(tx, customer, end, terminal, knownAt, labelProfileDays * DAY_MS);
      for (let i = 0; i < PROFILE_WIDTH; i += 1) values[profileBase + i] = profile[i] as number;
    }

    results[slot] = { transactionId: tx.transactionId, eventTimeMs: t, values };
  }
  return results;
}

/** Number of label-profile features (see `FeatureOptions.labelProfileDays`). */
const PROFILE_WIDTH = 7;

/**
 * The label-profile features of `tx` at its time `t`, over `(t - windowMs, t]`, from the target's
 * earlier transactions only (the target itself never counts) and labels reported at or before `t`.
 * `customerEnd` is the number of customer-timeline entries at or before the target, the target
 * included. Sums run newest first, so the values do not depend on where the history starts.
 */
function labelProfile(
  tx: FeatureInput,
  customer: EventTimeline,
  customerEnd: number,
  terminal: TerminalTimeline,
  knownAt: ReadonlyMap<string, number>,
  windowMs: number,
): number[] {
  const t = tx.eventTimeMs;
  const fromMs = t - windowMs;
  const noneHours = Math.log1p(windowMs / HOUR_MS);
  const isKnownFraud = (id: string): boolean => {
    const knownAtMs = knownAt.get(id);
    return knownAtMs !== undefined && knownAtMs <= t;
  };

  // The card: entries before the target (at customerEnd - 1) back to the window start.
  const customerStart = countAtOrBeforeTime(customer, fromMs);
  let earlierSum = 0;
  let earlierCount = 0;
  let cardFrauds = 0;
  for (let i = customerEnd - 2; i >= customerStart; i -= 1) {
    earlierSum += customer.amounts[i] as number;
    earlierCount += 1;
    if (isKnownFraud(customer.ids[i] as string)) cardFrauds += 1;
  }
  const earlierMean = earlierCount === 0 ? 0 : earlierSum / earlierCount;
  const amountRatio =
    earlierCount === 0 || !(earlierMean > 0)
      ? 1
      : Math.max(-MAX_AMOUNT_RATIO, Math.min(MAX_AMOUNT_RATIO, tx.amount / earlierMean));
  const hoursSincePrevious =
    earlierCount === 0
      ? noneHours
      : Math.log1p((t - (customer.times[customerEnd - 2] as number)) / HOUR_MS);

  // The terminal: its labelled frauds before the target, known by t, newest first.
  const targetIndex = countAtOrBeforeEvent(terminal, t, tx.transactionId) - 1;
  const terminalStart = countAtOrBeforeTime(terminal, fromMs);
  const cards = new Set<string>();
  let terminalFrauds = 0;
  let fraudAmountSum = 0;
  let latestFraudMs = Number.NEGATIVE_INFINITY;
  const { labelledFraud } = terminal;
  for (let k = labelledFraud.length - 1; k >= 0; k -= 1) {
    const index = labelledFraud[k] as number;
    if (index >= targetIndex) continue;
    if (index < terminalStart) break;
    if (!isKnownFraud(terminal.ids[index] as string)) continue;
    terminalFrauds += 1;
    fraudAmountSum += terminal.amounts[index] as number;
    cards.add(terminal.customers[index] as string);
    latestFraudMs = Math.max(latestFraudMs, terminal.times[index] as number);
  }
  return [
    amountRatio,
    hoursSincePrevious,
    cardFrauds,
    terminalFrauds,
    cards.size,
    terminalFrauds === 0 ? 0 : fraudAmountSum / terminalFrauds,
    terminalFrauds === 0 ? noneHours : Math.log1p((t - latestFraudMs) / HOUR_MS),
  ];
}
