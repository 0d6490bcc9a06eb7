import fc from 'fast-check';
import type { FeatureInput, FeatureOptions, KnownLabel } from '../index';
import { DEFAULT_FEATURE_OPTIONS } from '../index';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A transaction at an ISO time, with readable defaults. */
export function tx(
  transactionId: string,
  eventTime: string | number,
  fields: Partial<Omit<FeatureInput, 'transactionId' | 'eventTimeMs'>> = {},
): FeatureInput {
  return {
    transactionId,
    customerId: 'c1',
    terminalId: 'term1',
    amount: 1,
    ...fields,
    eventTimeMs: typeof eventTime === 'number' ? eventTime : Date.parse(eventTime),
  };
}

/** A fraud label known from `reportedAtMs` on. */
export function fraud(transactionId: string, reportedAtMs: number): KnownLabel {
  return { transactionId, isFraud: true, reportedAtMs };
}

/**
 * The specification, written the slow and obvious way (every target against every transaction),
 * to check the fast implementation against.
 */
export function referenceFeatures(
  targets: readonly FeatureInput[],
  history: readonly FeatureInput[],
  labels: readonly KnownLabel[],
  options: FeatureOptions,
): number[][] {
  const pool = new Map<string, FeatureInput>();
  for (const h of history) pool.set(h.transactionId, h);
  for (const target of targets) pool.set(target.transactionId, target);
  const all = [...pool.values()];
  const atOrBefore = (h: FeatureInput, target: FeatureInput): boolean =>
    h.eventTimeMs < target.eventTimeMs ||
    (h.eventTimeMs === target.eventTimeMs && h.transactionId <= target.transactionId);
  const fraudKnown = (h: FeatureInput, t: number): boolean =>
    labels.some((l) => l.transactionId === h.transactionId && l.isFraud && l.reportedAtMs <= t);

  return targets.map((target) => {
    const t = target.eventTimeMs;
    const date = new Date(t);
    const values = [
      target.amount,
      date.getUTCDay() === 0 || date.getUTCDay() === 6 ? 1 : 0,
      date.getUTCHours() < options.nightEndHour ? 1 : 0,
    ];
    for (const days of options.customerWindowsDays) {
      const inWindow = all.filter(
        (h) =>
          h.customerId === target.customerId &&
          h.eventTimeMs > t - days * DAY_MS &&
          atOrBefore(h, target),
      );
      const sum = inWindow.reduce((total, h) => total + h.amount, 0);
      values.push(inWindow.length, sum / inWindow.length);
    }
    const endMs = t - options.terminalDelayDays * DAY_MS;
    for (const days of options.terminalWindowsDays) {
      const inWindow = all.filter(
        (h) =>
          h.terminalId === target.terminalId &&
          h.eventTimeMs > endMs - days * DAY_MS &&
          (options.terminalDelayDays > 0 ? h.eventTimeMs <= endMs : atOrBefore(h, target)),
      );
      const frauds = inWindow.filter((h) => fraudKnown(h, t)).length;
      values.push(inWindow.length, inWindow.length === 0 ? 0 : frauds / inWindow.length);
    }
    const w = options.labelProfileDays;
    if (w > 0) {
      const none = Math.log1p(w * 24);
      const earlier = (h: FeatureInput): boolean =>
        h.transactionId !== target.transactionId &&
        h.eventTimeMs > t - w * DAY_MS &&
        atOrBefore(h, target);
      const card = all.filter((h) => h.customerId === target.customerId && earlier(h));
      const mean = card.reduce((total, h) => total + h.amount, 0) / card.length;
      const ratio = card.length === 0 || !(mean > 0) ? 1 : target.amount / mean;
      const previousMs = Math.max(...card.map((h) => h.eventTimeMs));
      const frauds = all.filter(
        (h) => h.terminalId === target.terminalId && earlier(h) && fraudKnown(h, t),
      );
      const latestMs = Math.max(...frauds.map((h) => h.eventTimeMs));
      values.push(
        Math.max(-100, Math.min(100, ratio)),
        card.length === 0 ? none : Math.log1p((t - previousMs) / HOUR_MS),
        card.filter((h) => fraudKnown(h, t)).length,
        frauds.length,
        new Set(frauds.map((h) => h.customerId)).size,
        frauds.length === 0 ? 0 : frauds.reduce((total, h) => total + h.amount, 0) / frauds.length,
        frauds.length === 0 ? none : Math.log1p((t - latestMs) / HOUR_MS),
      );
    }
    return values;
  });
}

/** Asserts two feature matrices agree up to floating-point rounding of the mean amounts. */
export function expectClose(actual: readonly number[][], expected: readonly number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => {
    const want = expected[i] as number[];
    expect(row).toHaveLength(want.length);
    row.forEach((value, j) => {
      const reference = want[j] as number;
      expect(Math.abs(value - reference)).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(reference)),
      );
    });
  });
}

const START_MS = Date.UTC(2024, 0, 1);

/**
 * Transactions on few customers and terminals, at whole hours over 60 days (so windows often start
 * or end exactly on one), some in the same millisecond, with arbitrary amounts.
 */
export const transactionsArb = fc.uniqueArray(
  fc.record({
    transactionId: fc.string({
      unit: fc.constantFrom('a', 'b', 'c', 'd', '1'),
      minLength: 1,
      maxLength: 5,
    }),
    customerId: fc.constantFrom('c1', 'c2', 'c3'),
    terminalId: fc.constantFrom('t1', 't2', 't3'),
    amount: fc.double({ min: 0, max: 10_000, noNaN: true }),
    eventTimeMs: fc.integer({ min: 0, max: 60 * 24 }).map((hours) => START_MS + hours * HOUR_MS),
  }),
  { selector: (t) => t.transactionId, minLength: 1, maxLength: 60 },
);

/** Labels for some of the transactions, reported around their event time, some before it. */
export function labelsArb(transactions: readonly FeatureInput[]): fc.Arbitrary<KnownLabel[]> {
  return fc.array(
    fc.record({
      transactionId: fc.constantFrom(...transactions.map((t) => t.transactionId)),
      isFraud: fc.boolean(),
      reportedAtMs: fc.integer({ min: 0, max: 70 * 24 }).map((hours) => START_MS + hours * HOUR_MS),
    }),
    { maxLength: 30 },
  );
}

/** Options around the defaults, delay 0 (where same-millisecond ties matter) included. */
export const optionsArb: fc.Arbitrary<FeatureOptions> = fc.oneof(
  fc.constant(DEFAULT_FEATURE_OPTIONS),
  fc.record({
    customerWindowsDays: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
    terminalWindowsDays: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
    terminalDelayDays: fc.integer({ min: 0, max: 7 }),
    nightEndHour: fc.integer({ min: 0, max: 24 }),
    labelProfileDays: fc.integer({ min: 0, max: 30 }),
  }),
);

/** A scenario: transactions, labels, options, and which transactions are the targets. */
export const scenarioArb = transactionsArb.chain((transactions) =>
  fc.record({
    transactions: fc.constant(transactions),
    labels: labelsArb(transactions),
    options: optionsArb,
    targets: fc.subarray(transactions, { minLength: 1 }),
  }),
);
