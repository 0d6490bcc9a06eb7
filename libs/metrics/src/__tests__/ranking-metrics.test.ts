import fc from 'fast-check';
import { averagePrecision, rocAuc } from '@streamtrain/metrics';

describe('rocAuc', () => {
  it('matches the value in sklearn roc_auc_score documentation', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });

  it('when scores tie across classes, then the tie counts as half a correct pair', () => {
    // Pairs (pos, neg): (0.9, 0.8) ok, (0.9, 0.3) ok, (0.8, 0.8) tie = 0.5, (0.8, 0.3) ok → 3.5 / 4.
    expect(rocAuc([0.9, 0.8, 0.8, 0.3], [1, 0, 1, 0])).toBe(0.875);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it('gives exactly 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0.2, 0.3, 0.7, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.7, 0.3, 0.2], [0, 0, 1, 1])).toBe(0);
  });

  it('when the labels hold one class only, then it is null', () => {
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNull();
    expect(rocAuc([0.1, 0.2], [0, 0])).toBeNull();
    expect(rocAuc([], [])).toBeNull();
  });

  it('refuses mismatched lengths, non-finite scores and non-binary labels', () => {
    expect(() => rocAuc([0.1], [0, 1])).toThrow(RangeError);
    expect(() => rocAuc([Number.NaN, 0.2], [0, 1])).toThrow(/index 0/);
    expect(() => rocAuc([0.1, 0.2], [0, 0.5])).toThrow(/label at index 1/);
  });
});

describe('averagePrecision', () => {
  it('matches the value in sklearn average_precision_score documentation', () => {
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333, 9);
  });

  it('when scores tie, then the tied examples enter at one threshold', () => {
    // Thresholds 0.9 → P=1, R=.5; 0.8 (two tied) → P=2/3, R=1. AP = .5·1 + .5·2/3.
    expect(averagePrecision([0.9, 0.8, 0.8, 0.3], [1, 0, 1, 0])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it('is 1 for a perfect ranking, and the positive rate-independent value for a reversed one', () => {
    expect(averagePrecision([0.2, 0.3, 0.7, 0.9], [0, 0, 1, 1])).toBe(1);
    // Reversed: positives at ranks 3 and 4 → (1/3 + 2/4) / 2.
    expect(averagePrecision([0.9, 0.7, 0.3, 0.2], [0, 0, 1, 1])).toBeCloseTo(5 / 12, 12);
  });

  it('when there are no positives, then it is null; with no negatives it is 1', () => {
    expect(averagePrecision([0.1, 0.2], [0, 0])).toBeNull();
    expect(averagePrecision([0.1, 0.2], [1, 1])).toBe(1);
  });
});

describe('ranking metric properties', () => {
  const labelledScores = fc
    .array(
      fc.record({
        // Small integers make ties common, which is where ranking code goes wrong.
        score: fc.integer({ min: -20, max: 20 }),
        label: fc.constantFrom(0, 1),
      }),
      { minLength: 2, maxLength: 60 },
    )
    .filter((rows) => rows.some((r) => r.label === 1) && rows.some((r) => r.label === 0));

  const split = (rows: { score: number; label: number }[]) => ({
    scores: rows.map((r) => r.score),
    labels: rows.map((r) => r.label),
  });

  it('AUC and AP are unchanged by a strictly increasing transform of the scores', () => {
    fc.assert(
      fc.property(labelledScores, (rows) => {
        const { scores, labels } = split(rows);
        // Strictly increasing, and distinct integers stay distinct doubles after it.
        const transformed = scores.map((s) => Math.exp(s / 7) - 2);
        expect(rocAuc(transformed, labels)).toBeCloseTo(rocAuc(scores, labels) as number, 12);
        expect(averagePrecision(transformed, labels)).toBeCloseTo(
          averagePrecision(scores, labels) as number,
          12,
        );
      }),
    );
  });

  it('AUC of negated scores is one minus AUC', () => {
    fc.assert(
      fc.property(labelledScores, (rows) => {
        const { scores, labels } = split(rows);
        const negated = scores.map((s) => -s);
        expect(
          (rocAuc(negated, labels) as number) + (rocAuc(scores, labels) as number),
        ).toBeCloseTo(1, 12);
      }),
    );
  });

  it('AUC equals the fraction of correctly ordered positive-negative pairs', () => {
    fc.assert(
      fc.property(labelledScores, (rows) => {
        const { scores, labels } = split(rows);
        let pairs = 0;
        let correct = 0;
        for (const p of rows.filter((r) => r.label === 1)) {
          for (const n of rows.filter((r) => r.label === 0)) {
            pairs += 1;
            correct += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
          }
        }
        expect(rocAuc(scores, labels)).toBeCloseTo(correct / pairs, 12);
      }),
    );
  });

  it('does not depend on the order of the examples', () => {
    fc.assert(
      fc.property(labelledScores, (rows) => {
        const { scores, labels } = split(rows);
        const reversed = split([...rows].reverse());
        expect(rocAuc(reversed.scores, reversed.labels)).toBe(rocAuc(scores, labels));
        expect(averagePrecision(reversed.scores, reversed.labels)).toBeCloseTo(
          averagePrecision(scores, labels) as number,
          12,
        );
      }),
    );
  });
});
