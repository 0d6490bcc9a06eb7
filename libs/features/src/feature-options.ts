/** Milliseconds in a day; windows are whole UTC days of event time, never wall time. */
export const DAY_MS = 86_400_000;

/**
 * How the features are parametrised. Changing any option changes the feature vector, so a model
 * must be trained and served with the same options (the names from `featureNames` record them).
 */
export interface FeatureOptions {
  /**
   * Lengths in days of the customer windows; each gives a count and a mean amount.
   * Positive integers, no repeats.
   * @default [1, 7, 30]
   */
  readonly customerWindowsDays: readonly number[];
  /**
   * Lengths in days of the terminal windows; each gives a count and a risk.
   * Positive integers, no repeats.
   * @default [1, 7, 30]
   */
  readonly terminalWindowsDays: readonly number[];
  /**
   * How many days the terminal windows end before the transaction. Fraud is confirmed late, so
   * the most recent days would show a risk that is low only because nothing is known yet.
   * @default 7
   */
  readonly terminalDelayDays: number;
  /**
   * A transaction is at night when its UTC hour is below this (0 means never, 24 always).
   * @default 6
   */
  readonly nightEndHour: number;
  /**
   * Days of the label-profile window, 0 for none. With a window of `w` days, seven features follow
   * the baseline ones, each from transactions in `(t - w days, t]` and fraud labels reported at or
   * before `t` (no fixed delay: a label counts from its report time on):
   * the amount relative to the card's mean over its earlier transactions, the log hours since the
   * card's previous transaction, the card's known frauds, and at the terminal the known frauds,
   * the distinct cards they were on, their mean amount, and the log hours since the latest one.
   * @default 30
   */
  readonly labelProfileDays: number;
}

/** The Fraud Detection Handbook's baseline parameters. */
export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = Object.freeze({
  customerWindowsDays: Object.freeze([1, 7, 30]),
  terminalWindowsDays: Object.freeze([1, 7, 30]),
  terminalDelayDays: 7,
  nightEndHour: 6,
  labelProfileDays: 30,
});

function checkWindows(name: string, windows: readonly number[]): void {
  for (const days of windows) {
    if (!Number.isInteger(days) || days <= 0) {
      throw new RangeError(`${name}: ${days} is not a positive whole number of days`);
    }
  }
  if (new Set(windows).size !== windows.length) {
    // Repeats would give two features the same name.
    throw new RangeError(`${name}: [${windows.join(', ')}] repeats a window`);
  }
}

/**
 * Fills unset options with {@link DEFAULT_FEATURE_OPTIONS} and checks them.
 *
 * @throws RangeError when an option is out of range: options are code, not input, so a bad one is
 * a programmer error and must fail loudly rather than yield a different feature set.
 */
export function resolveFeatureOptions(options: Partial<FeatureOptions> = {}): FeatureOptions {
  const resolved: FeatureOptions = { ...DEFAULT_FEATURE_OPTIONS, ...options };
  checkWindows('customerWindowsDays', resolved.customerWindowsDays);
  checkWindows('terminalWindowsDays', resolved.terminalWindowsDays);
  if (!Number.isFinite(resolved.terminalDelayDays) || resolved.terminalDelayDays < 0) {
    throw new RangeError(`terminalDelayDays: ${resolved.terminalDelayDays} is not >= 0`);
  }
  const profile = resolved.labelProfileDays;
  if (!Number.isInteger(profile) || profile < 0) {
    throw new RangeError(`labelProfileDays: ${profile} is not a whole number of days >= 0`);
  }
  const night = resolved.nightEndHour;
  if (!Number.isInteger(night) || night < 0 || night > 24) {
    throw new RangeError(`nightEndHour: ${night} is not a whole hour from 0 to 24`);
  }
  return resolved;
}
