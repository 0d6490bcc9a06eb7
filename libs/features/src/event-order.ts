import type { FeatureInput } from './feature-input';

/**
 * Compares transaction ids by UTF-16 code units (JavaScript `<`), not by locale, so every service
 * and runtime breaks event-time ties the same way whatever its locale or database collation.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The total order in which transactions happen: by event time, then by transaction id.
 * Two transactions in the same millisecond are not simultaneous for the features: the one whose id
 * sorts first came first. That makes "at or before the target" exact and repeatable: a tie never
 * depends on arrival order or on which batch a transaction was in.
 */
export function compareEventOrder(a: FeatureInput, b: FeatureInput): number {
  return a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId);
}

/**
 * Transactions of one customer or one terminal, sorted by {@link compareEventOrder}, stored as
 * columns so the window searches touch only numbers. Plain arrays, not typed ones: there is one
 * timeline per customer and terminal, mostly short, and a typed array costs far more to allocate.
 */
export interface EventTimeline {
  /** Event times, ascending. */
  readonly times: readonly number[];
  /** Transaction ids, index-aligned with `times`. */
  readonly ids: readonly string[];
  /** Amounts, index-aligned with `times`. */
  readonly amounts: readonly number[];
  /** Card holders, index-aligned with `times`. */
  readonly customers: readonly string[];
}

function compareCopies(a: FeatureInput, b: FeatureInput): number {
  // Amount last: copies of one id that disagree on it still sort the same way whatever their
  // arrival order, so the copy kept below never depends on it.
  return compareEventOrder(a, b) || a.amount - b.amount;
}

/**
 * Sorts transactions into an {@link EventTimeline}, keeping one entry per id and event time:
 * a redelivered copy sorts next to its original and is dropped. The input array is reordered.
 */
export function toTimeline(transactions: FeatureInput[]): EventTimeline {
  transactions.sort(compareCopies);
  const times: number[] = [];
  const ids: string[] = [];
  const amounts: number[] = [];
  const customers: string[] = [];
  let previous: FeatureInput | undefined;
  for (const tx of transactions) {
    if (
      previous === undefined ||
      tx.transactionId !== previous.transactionId ||
      tx.eventTimeMs !== previous.eventTimeMs
    ) {
      times.push(tx.eventTimeMs);
      ids.push(tx.transactionId);
      amounts.push(tx.amount);
      customers.push(tx.customerId);
    }
    previous = tx;
  }
  return { times, ids, amounts, customers };
}

/** How many entries of the timeline have an event time at or before `timeMs`. */
export function countAtOrBeforeTime(timeline: EventTimeline, timeMs: number): number {
  const { times } = timeline;
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((times[middle] as number) <= timeMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * How many entries of the timeline happen at or before the event `(timeMs, transactionId)` in
 * {@link compareEventOrder}, the entry with that very id included.
 */
export function countAtOrBeforeEvent(
  timeline: EventTimeline,
  timeMs: number,
  transactionId: string,
): number {
  const { times, ids } = timeline;
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const time = times[middle] as number;
    if (time < timeMs || (time === timeMs && (ids[middle] as string) <= transactionId)) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

/** First position in ascending `list` whose value is at least `value`. */
export function lowerBound(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((list[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
