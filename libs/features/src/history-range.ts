import type { FeatureInput } from './feature-input';
import { DAY_MS, resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';

/** An event-time range, both ends included, in milliseconds since the Unix epoch. */
export interface EventTimeRange {
  /** Earliest event time in the range. */
  readonly fromMs: number;
  /** Latest event time in the range. */
  readonly toMs: number;
}

/**
 * How far before a transaction its features reach: the longest customer window, the longest
 * terminal window plus the delay, or the label-profile window. A feature at time `t` reads only
 * transactions with event time in `(t - lookBackMs, t]`.
 *
 * @throws RangeError when the options are invalid (see `resolveFeatureOptions`).
 */
export function lookBackMs(options?: Partial<FeatureOptions>): number {
  const { customerWindowsDays, terminalWindowsDays, terminalDelayDays, labelProfileDays } =
    resolveFeatureOptions(options);
  const days = Math.max(
    0,
    labelProfileDays,
    ...customerWindowsDays,
    ...terminalWindowsDays.map((window) => window + terminalDelayDays),
  );
  return days * DAY_MS;
}

/**
 * The history that `computeFeatures` needs for these targets: every transaction with
 * `fromMs <= eventTimeMs <= toMs`, and the fraud labels reported at or before `toMs`. `fromMs` lies
 * the longest look-back (the longest customer window, the longest terminal window plus the
 * delay, or the label-profile window) before the earliest target; a row exactly at `fromMs` sits on an excluded window edge, so
 * fetching it is harmless. `toMs` is the latest target, since nothing later is ever used.
 *
 * For no targets the range is empty (`fromMs` is +Infinity, `toMs` is -Infinity): skip the query.
 *
 * @throws RangeError when the options are invalid (see `resolveFeatureOptions`).
 */
export function historyRange(
  targets: readonly FeatureInput[],
  options?: Partial<FeatureOptions>,
): EventTimeRange {
  const lookBack = lookBackMs(options);
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  for (const { eventTimeMs } of targets) {
    earliest = Math.min(earliest, eventTimeMs);
    latest = Math.max(latest, eventTimeMs);
  }
  return { fromMs: earliest - lookBack, toMs: latest };
}
