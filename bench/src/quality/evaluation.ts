import { averagePrecision, cardPrecisionAtK, rocAuc } from '@streamtrain/metrics';
import type { ScoredCardTransaction } from '@streamtrain/metrics';
import { rollingAveragePrecision } from './rolling-ap';
import type { RollingPoint } from './rolling-ap';
import type { ScoredLog } from './scored-log';

/** Days of a week. */
const WEEK_DAYS = 7;

/** The test weeks: `weeks` consecutive weeks from `startDay` (a simulated day index). */
export interface TestPeriod {
  readonly startDay: number;
  readonly weeks: number;
}

/**
 * Which test transactions are left out because their card is already known to be compromised:
 * - `labelled`: a fraud label of the customer was reported before the start of the day (what the
 *   live system knows; the default);
 * - `handbook`: the handbook's rule, from ground truth: the customer had a fraudulent transaction
 *   between the start of the fold's training week (14 days before the test week) and 8 days
 *   before the day;
 * - `none`: every transaction is kept.
 */
export type KnownCardRule = 'labelled' | 'handbook' | 'none';

/** The three handbook metrics over one set of test transactions. */
export interface QualityMetrics {
  readonly auc: number | null;
  readonly averagePrecision: number | null;
  /** Card Precision@k, mean over the days. */
  readonly cardPrecisionAt100: number | null;
  readonly transactions: number;
  readonly frauds: number;
}

/** Metrics of the test period, as the handbook reports them, with the detail behind them. */
export interface TestEvaluation extends QualityMetrics {
  readonly rule: KnownCardRule;
  /** One entry per test week (the handbook's folds); the headline figures are their means. */
  readonly weeks: readonly (QualityMetrics & { readonly startDay: number })[];
  /** AUC and AP over all test transactions at once, rather than averaged over the weeks. */
  readonly pooled: { readonly auc: number | null; readonly averagePrecision: number | null };
}

/**
 * The cards among the top `k` of a day's transactions (each card scored by its highest-scoring
 * transaction, `excluded` cards left out, ties broken by card id as `cardPrecisionAtK` does) that
 * had a fraudulent transaction that day: the cards an investigator would have caught.
 */
export function detectedCards(
  rows: readonly ScoredCardTransaction[],
  k: number,
  excluded: ReadonlySet<string>,
): string[] {
  const cards = new Map<string, { cardId: string; maxScore: number; compromised: boolean }>();
  for (const row of rows) {
    if (excluded.has(row.cardId)) continue;
    const card = cards.get(row.cardId);
    if (card === undefined) {
      cards.set(row.cardId, { cardId: row.cardId, maxScore: row.score, compromised: row.isFraud });
    } else {
      card.maxScore = Math.max(card.maxScore, row.score);
      card.compromised ||= row.isFraud;
    }
  }
  return [...cards.values()]
    .sort(
      (a, b) =>
        b.maxScore - a.maxScore || (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0),
    )
    .slice(0, k)
    .filter((card) => card.compromised)
    .map((card) => card.cardId);
}

/** Ground truth a {@link KnownCardRule} of `handbook` needs: each customer's days with fraud. */
export type FraudDaysByCustomer = ReadonlyMap<number, readonly number[]>;

function excludedBy(
  rule: KnownCardRule,
  fraudDays: FraudDaysByCustomer,
  weekStart: number,
): (row: ReturnType<ScoredLog['row']>) => boolean {
  switch (rule) {
    case 'none':
      return () => false;
    case 'labelled':
      return (row) => row.knownCompromised;
    case 'handbook':
      return (row) =>
        (fraudDays.get(row.customer) ?? []).some(
          (day) => day >= weekStart - 2 * WEEK_DAYS && day <= row.day - (WEEK_DAYS + 1),
        );
  }
}

function mean(values: readonly (number | null)[]): number | null {
  const usable = values.filter((value): value is number => value !== null && !Number.isNaN(value));
  return usable.length === 0 ? null : usable.reduce((sum, value) => sum + value, 0) / usable.length;
}

/**
 * AUC ROC, average precision and Card Precision@k of the test period, the handbook's way: each
 * test week is a fold, its transactions of already-known compromised cards are removed (for all
 * three metrics, as the handbook's `get_train_test_set` does), CP@k is the mean over the week's
 * days with cards detected on an earlier day of the week removed (the handbook's
 * `remove_detected_frauded_cards`), and each figure is the mean over the weeks.
 *
 * @throws RangeError when a test day has no scored transaction (the replay did not reach it, or
 *   no champion existed yet).
 */
export function evaluateTestPeriod(
  log: ScoredLog,
  period: TestPeriod,
  rule: KnownCardRule,
  fraudDays: FraudDaysByCustomer,
  k = 100,
): TestEvaluation {
  const weeks: (QualityMetrics & { startDay: number })[] = [];
  const allScores: number[] = [];
  const allLabels: number[] = [];
  for (let week = 0; week < period.weeks; week += 1) {
    const weekStart = period.startDay + week * WEEK_DAYS;
    const excluded = excludedBy(rule, fraudDays, weekStart);
    const scores: number[] = [];
    const labels: number[] = [];
    const detected = new Set<string>();
    const dailyPrecision: number[] = [];
    for (let day = weekStart; day < weekStart + WEEK_DAYS; day += 1) {
      const start = log.firstIndexOfDay(day);
      const end = log.firstIndexOfDay(day + 1);
      if (end === start) throw new RangeError(`test day ${day} has no scored transaction`);
      const rows: ScoredCardTransaction[] = [];
      for (let i = start; i < end; i += 1) {
        const row = log.row(i);
        if (excluded(row)) continue;
        scores.push(row.score);
        labels.push(row.isFraud ? 1 : 0);
        rows.push({
          day,
          cardId: log.customerIds[row.customer] as string,
          score: row.score,
          isFraud: row.isFraud,
        });
      }
      dailyPrecision.push(rows.length === 0 ? 0 : cardPrecisionAtK(rows, k, () => detected));
      for (const card of detectedCards(rows, k, detected)) detected.add(card);
    }
    weeks.push({
      startDay: weekStart,
      auc: rocAuc(scores, labels),
      averagePrecision: averagePrecision(scores, labels),
      cardPrecisionAt100: mean(dailyPrecision),
      transactions: labels.length,
      frauds: labels.reduce((sum, label) => sum + label, 0),
    });
    for (let i = 0; i < scores.length; i += 1) {
      allScores.push(scores[i] as number);
      allLabels.push(labels[i] as number);
    }
  }
  return {
    rule,
    auc: mean(weeks.map((week) => week.auc)),
    averagePrecision: mean(weeks.map((week) => week.averagePrecision)),
    cardPrecisionAt100: mean(weeks.map((week) => week.cardPrecisionAt100)),
    transactions: allLabels.length,
    frauds: allLabels.reduce((sum, label) => sum + label, 0),
    weeks,
    pooled: { auc: rocAuc(allScores, allLabels), averagePrecision: averagePrecision(allScores, allLabels) },
  };
}

/**
 * Rolling average precision of every scored day: for each day from the first scored one, the AP
 * of the transactions of the `windowDays` days ending on it, cards already known to be
 * compromised (a fraud label reported before the day) left out as in the test metrics.
 */
export function rollingQuality(log: ScoredLog, windowDays: number): RollingPoint[] {
  const days: number[] = [];
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < log.length; i += 1) {
    const row = log.row(i);
    if (row.knownCompromised) continue;
    days.push(row.day);
    scores.push(row.score);
    labels.push(row.isFraud ? 1 : 0);
  }
  if (days.length === 0) return [];
  return rollingAveragePrecision(
    { days, scores: Float32Array.from(scores), labels: Uint8Array.from(labels) },
    days[0] as number,
    days[days.length - 1] as number,
    windowDays,
  );
}
