import { averagePrecision, bootstrapIntervals, pairedBootstrap, rocAuc } from '../index';

/** A deterministic data set: `n` examples, one in `every` positive, with scores of given skill. */
function dataset(
  n: number,
  every: number,
  skill: number,
  offset = 0,
): { s: number[]; y: number[] } {
  const y = Array.from({ length: n }, (_, i) => (i % every === 0 ? 1 : 0));
  // A fixed pseudo-noise in [0, 1), so ties are rare and the data reproducible.
  const noise = (i: number): number =>
    (((Math.sin((i + offset) * 12.9898) * 43758.5453) % 1) + 1) % 1;
  const s = y.map((label, i) => noise(i) + skill * label);
  return { s, y };
}

describe('pairedBootstrap', () => {
  it('then the estimates are exactly rocAuc and averagePrecision, ties included', () => {
    const scores = [0.9, 0.8, 0.8, 0.5, 0.5, 0.5, 0.1, 0.1];
    const labels = [1, 0, 1, 0, 1, 0, 0, 1];
    const result = pairedBootstrap(scores, scores, labels, { replicates: 10 });
    expect(result.a.auc.estimate).toBe(rocAuc(scores, labels));
    expect(result.a.averagePrecision.estimate).toBe(averagePrecision(scores, labels));
  });

  it('when a model is compared with itself, then every difference is exactly 0', () => {
    const { s, y } = dataset(500, 10, 0.5);
    const { difference } = pairedBootstrap(s, s, y, { replicates: 50 });
    expect(difference.auc).toEqual({ estimate: 0, low: 0, high: 0 });
    expect(difference.averagePrecision).toEqual({ estimate: 0, low: 0, high: 0 });
  });

  it('when one model is clearly better, then the whole interval of the difference is above 0', () => {
    const good = dataset(2000, 20, 0.9);
    const weak = dataset(2000, 20, 0.2, 7);
    const result = pairedBootstrap(good.s, weak.s, good.y, { replicates: 100, seed: 3 });
    expect(result.difference.averagePrecision.low).toBeGreaterThan(0);
    expect(result.difference.auc.low).toBeGreaterThan(0);
    expect(result.a.auc.low).toBeLessThanOrEqual(result.a.auc.estimate);
    expect(result.a.auc.high).toBeGreaterThanOrEqual(result.a.auc.estimate);
  });

  it('when the same inputs and seed are given, then the intervals are identical; another seed differs', () => {
    const a = dataset(300, 10, 0.3);
    const b = dataset(300, 10, 0.3, 5);
    const once = pairedBootstrap(a.s, b.s, a.y, { seed: 9, replicates: 30 });
    expect(pairedBootstrap(a.s, b.s, a.y, { seed: 9, replicates: 30 })).toEqual(once);
    expect(pairedBootstrap(a.s, b.s, a.y, { seed: 10, replicates: 30 })).not.toEqual(once);
  });

  it('when positives are few, then the interval is wider than with many', () => {
    const few = dataset(2000, 200, 0.4);
    const many = dataset(2000, 10, 0.4);
    const width = (i: { low: number; high: number }): number => i.high - i.low;
    expect(width(bootstrapIntervals(few.s, few.y).averagePrecision)).toBeGreaterThan(
      width(bootstrapIntervals(many.s, many.y).averagePrecision),
    );
  });

  it('refuses one-class labels, mismatched lengths and bad options', () => {
    expect(() => pairedBootstrap([0.1, 0.2], [0.1, 0.2], [0, 0])).toThrow(/one class/);
    expect(() => pairedBootstrap([0.1], [0.1, 0.2], [0, 1])).toThrow(RangeError);
    expect(() => pairedBootstrap([0.1, 0.2], [0.1, 0.2], [0, 1], { replicates: 0 })).toThrow(
      /replicates/,
    );
    expect(() => pairedBootstrap([0.1, 0.2], [0.1, 0.2], [0, 1], { confidence: 1 })).toThrow(
      /confidence/,
    );
  });
});
