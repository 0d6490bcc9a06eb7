import { averagePrecision, cardPrecisionAtK, rocAuc } from '@streamtrain/metrics';
import type { ScoredCardTransaction } from '@streamtrain/metrics';
import { rollingAveragePrecision } from './rolling-ap';
import type { RollingPoint } from './rolling-ap';
import type { ScoredLog, ScoredRow } from './scored-log';

/** Days of a week. */
const WEEK_DAYS = 7;

/** The test weeks: `weeks` consecutive weeks from `startDay` (a simulated day index). */
export interface TestPeriod {
  readonly startDay: number;
  readonly weeks: number;
}

/**
 * Which test transactions are left out because their card is already known to be compromised.
 * The handbook's folds know the frauds from the start of their training week, 14 days before the
 * test week; each rule keeps that horizon and differs in what "known" means:
 * - `labelled`: a fraud label of the customer was reported between the start of the fold's
 *   training week and the start of the day: what the live system would know (the default);
 * - `handbook`: the handbook's own rule (`get_train_test_set`), from ground truth: the customer had
 *   a fraudulent transaction between the start of the training week and 8 days before the day;
 * - `none`: every transaction is kept.
 */
export type KnownCardRule = 'labelled' | 'handbook' | 'none';

/** Days from the start of a handbook fold's training week to the start of its test week. */
export const FOLD_LOOKBACK_DAYS = 14;

/** What the rules of {@link KnownCardRule} look at, per customer index of the log. */
export interface KnownCardEvidence {
  /** Ground truth: the days (ascending) on which the customer had a fraudulent transaction. */
  readonly fraudDays: ReadonlyMap<number, readonly number[]>;
  /** When fraud labels of the customer were reported, as fractional simulated days, ascending. */
  readonly reportDays: ReadonlyMap<number, readonly number[]>;
}

/** Whether `list` holds a value in `[from, to)`. */
export function hasValueIn(list: readonly number[] | undefined, from: number, to: number): boolean {
  return list !== undefined && list.some((value) => value >= from && value < to);
}

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
      (a, b) => b.maxScore - a.maxScore || (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0),
    )
    .slice(0, k)
    .filter((card) => card.compromised)
    .map((card) => card.cardId);
}

function excludedBy(
  rule: KnownCardRule,
  evidence: KnownCardEvidence,
  weekStart: number,
): (row: ScoredRow) => boolean {
  const horizon = weekStart - FOLD_LOOKBACK_DAYS;
  switch (rule) {
    case 'none':
      return () => false;
    case 'labelled':
      return (row) => hasValueIn(evidence.reportDays.get(row.customer), horizon, row.day);
    case 'handbook':
      return (row) => hasValueIn(evidence.fraudDays.get(row.customer), horizon, row.day - 7);
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
  evidence: KnownCardEvidence,
  k = 100,
): TestEvaluation {
  const weeks: (QualityMetrics & { startDay: number })[] = [];
  const allScores: number[] = [];
  const allLabels: number[] = [];
  for (let week = 0; week < period.weeks; week += 1) {
    const weekStart = period.startDay + week * WEEK_DAYS;
    const excluded = excludedBy(rule, evidence, weekStart);
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
    pooled: {
      auc: rocAuc(allScores, allLabels),
      averagePrecision: averagePrecision(allScores, allLabels),
    },
  };
}

/**
 * Rolling average precision of every scored day: for each day from the first scored one, the AP
 * of the transactions of the `windowDays` days ending on it, leaving out, on each day, the cards
 * with a fraud label reported in the {@link FOLD_LOOKBACK_DAYS} days before it (the `labelled`
 * rule on a sliding horizon instead of a fold's).
 */
export function rollingQuality(
  log: ScoredLog,
  evidence: KnownCardEvidence,
  windowDays: number,
): RollingPoint[] {
  const days: number[] = [];
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < log.length; i += 1) {
    const row = log.row(i);
    if (hasValueIn(evidence.reportDays.get(row.customer), row.day - FOLD_LOOKBACK_DAYS, row.day)) {
      continue;
    }
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
