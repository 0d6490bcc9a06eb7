/** One scored transaction, as {@link cardPrecisionAtK} needs it. */
export interface ScoredCardTransaction {
  /** The day the transaction belongs to (e.g. `'2024-03-01'` or a day index). */
  readonly day: string | number;
  readonly cardId: string;
  /** The model's fraud score; higher means more suspicious. */
  readonly score: number;
  readonly isFraud: boolean;
}

interface CardOfDay {
  cardId: string;
  maxScore: number;
  compromised: boolean;
}

/**
 * Card precision top-k (CP@k) as defined in the Fraud Detection Handbook (Le Borgne et al.,
 * "Reproducible Machine Learning for Credit Card Fraud Detection", §4.2.3): an investigator can
 * check `k` cards a day, so what matters is how many of the `k` highest-ranked cards are
 * compromised.
 *
 * For each day: every card is scored by the maximum score of its transactions that day and counts
 * as compromised when any of them is fraudulent; the cards `excludedCardsByDay(day)` returns
 * (usually cards already known to be compromised) are removed; the precision of the top `k` cards
 * is `compromised / k` (still divided by `k` when fewer than `k` cards remain, as in the
 * Handbook). The result is the mean over the days present in `rows`.
 *
 * Cards tied on score at the cut-off are ordered by `cardId`, so the result does not depend on the
 * order of `rows`.
 *
 * @param k - cards checked per day. @default 100
 * @returns CP@k in [0, 1]; `NaN` when `rows` is empty (there is no day to average over).
 * @throws RangeError when `k` is not a positive integer or a score is not finite.
 */
export function cardPrecisionAtK(
  rows: readonly ScoredCardTransaction[],
  k = 100,
  excludedCardsByDay?: (day: string | number) => ReadonlySet<string>,
): number {
  if (!Number.isInteger(k) || k <= 0) {
    throw new RangeError(`k must be a positive integer, got ${k}`);
  }
  const days = new Map<string | number, Map<string, CardOfDay>>();
  for (const [index, row] of rows.entries()) {
    if (!Number.isFinite(row.score)) {
      throw new RangeError(`score at index ${index} is not a finite number: ${row.score}`);
    }
    let cards = days.get(row.day);
    if (cards === undefined) {
      cards = new Map();
      days.set(row.day, cards);
    }
    const card = cards.get(row.cardId);
    if (card === undefined) {
      cards.set(row.cardId, { cardId: row.cardId, maxScore: row.score, compromised: row.isFraud });
    } else {
      card.maxScore = Math.max(card.maxScore, row.score);
      card.compromised ||= row.isFraud;
    }
  }
  if (days.size === 0) return Number.NaN;

  let sum = 0;
  for (const [day, cards] of days) {
    const excluded = excludedCardsByDay?.(day);
    const ranked = [...cards.values()]
      .filter((card) => excluded === undefined || !excluded.has(card.cardId))
      .sort(
        (a, b) =>
          b.maxScore - a.maxScore || (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0),
      );
    const detected = ranked.slice(0, k).filter((card) => card.compromised).length;
    sum += detected / k;
  }
  return sum / days.size;
}
