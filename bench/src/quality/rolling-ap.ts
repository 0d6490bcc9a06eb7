import { averagePrecision } from '@streamtrain/metrics';

/** Average precision over a window of days ending on `day`. */
export interface RollingPoint {
  /** Last day of the window. */
  readonly day: number;
  /** Average precision of the window's transactions; `null` when the window holds no fraud. */
  readonly ap: number | null;
  /** Transactions in the window. */
  readonly transactions: number;
  /** Fraudulent transactions in the window. */
  readonly frauds: number;
}

/** Columns of scored transactions, sorted by ascending `days`. */
export interface DayScoreColumns {
  readonly days: ArrayLike<number>;
  readonly scores: Float32Array;
  readonly labels: Uint8Array;
}

function firstIndexAtOrAfter(days: ArrayLike<number>, day: number): number {
  let low = 0;
  let high = days.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((days[middle] as number) < day) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * For each day from `fromDay` to `toDay`, the average precision of the transactions of the
 * `windowDays` days ending on it (`[day - windowDays + 1, day]`). Days before the first scored one
 * simply contribute nothing, so the first points of a series cover a shorter window.
 *
 * @throws RangeError when `windowDays` is not a positive integer or the columns differ in length.
 */
export function rollingAveragePrecision(
  columns: DayScoreColumns,
  fromDay: number,
  toDay: number,
  windowDays: number,
): RollingPoint[] {
  if (!Number.isInteger(windowDays) || windowDays <= 0) {
    throw new RangeError(`windowDays must be a positive integer, got ${windowDays}`);
  }
  const { days, scores, labels } = columns;
  if (scores.length !== days.length || labels.length !== days.length) {
    throw new RangeError('days, scores and labels must have the same length');
  }
  const points: RollingPoint[] = [];
  for (let day = fromDay; day <= toDay; day += 1) {
    const start = firstIndexAtOrAfter(days, day - windowDays + 1);
    const end = firstIndexAtOrAfter(days, day + 1);
    const windowLabels = labels.subarray(start, end);
    let frauds = 0;
    for (const label of windowLabels) frauds += label;
    points.push({
      day,
      ap: frauds === 0 ? null : averagePrecision(scores.subarray(start, end), windowLabels),
      transactions: end - start,
      frauds,
    });
  }
  return points;
}
