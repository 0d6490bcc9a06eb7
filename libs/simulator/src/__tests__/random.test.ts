import fc from 'fast-check';
import type { Random } from '../random';
import { WeightedChoice, randomStream } from '../random';

function moments(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

function draws(count: number, draw: () => number): number[] {
  return Array.from({ length: count }, draw);
}

describe('Random', () => {
  it('when two streams share a seed and name, then they draw the same values', () => {
    const a = randomStream(42, 'transactions');
    const b = randomStream(42, 'transactions');
    expect(draws(100, () => a.float())).toEqual(draws(100, () => b.float()));
  });

  it('when the seed or the stream differs, then the values differ', () => {
    const base = draws(20, () => randomStream(42, 'transactions').float());
    const first = randomStream(42, 'transactions');
    const otherSeed = randomStream(43, 'transactions');
    const otherStream = randomStream(42, 'channels');
    const reference = draws(20, () => first.float());
    expect(draws(20, () => otherSeed.float())).not.toEqual(reference);
    expect(draws(20, () => otherStream.float())).not.toEqual(reference);
    expect(base.every((value) => value === base[0])).toBe(true);
  });

  it('then normal draws have the requested mean and standard deviation', () => {
    const random = randomStream(1, 'transactions');
    const { mean, std } = moments(draws(100_000, () => random.normal(43_200, 20_000)));
    expect(mean).toBeGreaterThan(43_200 - 300);
    expect(mean).toBeLessThan(43_200 + 300);
    expect(std / 20_000).toBeCloseTo(1, 1);
  });

  it('then Poisson draws have mean and variance equal to the rate', () => {
    const random = randomStream(2, 'transactions');
    const { mean, std } = moments(draws(100_000, () => random.poisson(2.5)));
    expect(mean).toBeCloseTo(2.5, 1);
    expect(std ** 2).toBeCloseTo(2.5, 1);
    expect(random.poisson(0)).toBe(0);
  });

  it('then integers stay within their inclusive bounds and reach both', () => {
    const random = randomStream(3, 'transactions');
    const values = new Set(draws(1000, () => random.int(2, 5)));
    expect([...values].sort()).toEqual([2, 3, 4, 5]);
  });

  it('then sampleDistinct returns k distinct values below n', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(250), fc.nat(), (n, k, seed) => {
        const sample = randomStream(seed % 2 ** 32, 'compromises').sampleDistinct(n, k);
        expect(new Set(sample).size).toBe(Math.min(n, k));
        expect(sample.every((value) => Number.isInteger(value) && value >= 0 && value < n)).toBe(
          true,
        );
      }),
    );
  });

  it('then roundStochastically averages to its fractional input', () => {
    const random = randomStream(4, 'compromises');
    const { mean } = moments(draws(50_000, () => random.roundStochastically(0.3)));
    expect(mean).toBeCloseTo(0.3, 2);
    expect(random.roundStochastically(2)).toBe(2);
  });
});

describe('WeightedChoice', () => {
  it('then picks follow the weights and never pick a zero weight', () => {
    const random: Random = randomStream(5, 'channels');
    const choice = new WeightedChoice([
      ['a', 0.4],
      ['b', 0.35],
      ['c', 0.25],
      ['d', 0],
    ] as const);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100_000; i += 1) {
      const picked = choice.pick(random);
      counts[picked] = (counts[picked] ?? 0) + 1;
    }
    expect(counts.a! / 100_000).toBeCloseTo(0.4, 2);
    expect(counts.b! / 100_000).toBeCloseTo(0.35, 2);
    expect(counts.c! / 100_000).toBeCloseTo(0.25, 2);
    expect(counts.d).toBeUndefined();
  });

  it('when every weight is zero, then it refuses to build', () => {
    expect(() => new WeightedChoice([['a', 0]])).toThrow(RangeError);
  });
});
