import { cardPrecisionAtK } from '@streamtrain/metrics';
import type { ScoredCardTransaction } from '@streamtrain/metrics';

const tx = (
  day: string | number,
  cardId: string,
  score: number,
  isFraud = false,
): ScoredCardTransaction => ({ day, cardId, score, isFraud });

describe('cardPrecisionAtK', () => {
  it('scores a card by its highest transaction and calls it compromised if any transaction is fraud', () => {
    const rows = [
      // Card a: max 0.9 from a genuine tx, but another of its tx is fraud → compromised.
      tx('d1', 'a', 0.9),
      tx('d1', 'a', 0.1, true),
      tx('d1', 'b', 0.8),
      tx('d1', 'c', 0.7, true),
      tx('d1', 'd', 0.2, true),
    ];
    // Top 2 cards: a (compromised), b (genuine) → 1/2.
    expect(cardPrecisionAtK(rows, 2)).toBe(0.5);
    // Top 3: a, b, c → 2/3.
    expect(cardPrecisionAtK(rows, 3)).toBeCloseTo(2 / 3, 12);
  });

  it('averages the per-day precision over days', () => {
    const rows = [tx(1, 'a', 0.9, true), tx(1, 'b', 0.1), tx(2, 'a', 0.9), tx(2, 'b', 0.1)];
    // Day 1: 1/1, day 2: 0/1.
    expect(cardPrecisionAtK(rows, 1)).toBe(0.5);
  });

  it('when fewer than k cards remain, then it still divides by k as the Handbook does', () => {
    expect(cardPrecisionAtK([tx('d1', 'a', 0.9, true)], 4)).toBe(0.25);
  });

  it('removes the excluded cards of each day before ranking', () => {
    const rows = [tx('d1', 'a', 0.9, true), tx('d1', 'b', 0.5), tx('d2', 'a', 0.9, true)];
    const known = new Set(['a']);
    const excluded = (day: string | number) => (day === 'd2' ? known : new Set<string>());
    // Day 1: a is not yet known → 1/1; day 2: a is excluded, nothing remains → 0/1.
    expect(cardPrecisionAtK(rows, 1, excluded)).toBe(0.5);
  });

  it('breaks score ties by card id so row order does not matter', () => {
    const rows = [tx('d1', 'b', 0.5, true), tx('d1', 'a', 0.5)];
    expect(cardPrecisionAtK(rows, 1)).toBe(0);
    expect(cardPrecisionAtK([...rows].reverse(), 1)).toBe(0);
  });

  it('is NaN without rows and refuses a k that is not a positive integer', () => {
    expect(cardPrecisionAtK([])).toBeNaN();
    expect(() => cardPrecisionAtK([], 0)).toThrow(RangeError);
    expect(() => cardPrecisionAtK([], 1.5)).toThrow(RangeError);
  });
});
