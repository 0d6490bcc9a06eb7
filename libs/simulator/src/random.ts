import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * The independent random streams of a simulation. Each concern draws from its own stream, so
 * changing one option (say, the channel weights) leaves every other drawn value unchanged.
 */
export const RANDOM_STREAMS = {
  customers: 0,
  terminals: 1,
  transactions: 2,
  compromises: 3,
  channels: 4,
  labelDelays: 5,
} as const;

/** The name of one of the {@link RANDOM_STREAMS}. */
export type RandomStreamName = keyof typeof RANDOM_STREAMS;

const TWO_PI = 2 * Math.PI;

/**
 * Seeded random draws on top of pure-rand's xoroshiro128+ generator, with the few distributions
 * the simulator needs. Mutable: every draw advances the stream.
 */
export class Random {
  private readonly generator: RandomGenerator;
  private spareNormal: number | undefined;

  /** Wraps a pure-rand generator; the wrapper advances it in place. */
  constructor(generator: RandomGenerator) {
    this.generator = generator;
  }

  /** A float in [0, 1), with 53 random bits. */
  float(): number {
    return uniformFloat64(this.generator);
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** An integer in [min, max], both included, without modulo bias. */
  int(min: number, max: number): number {
    return uniformInt(this.generator, min, max);
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** A normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean: number, std: number): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    // 1 - u is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.float()));
    const angle = TWO_PI * this.float();
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /**
   * A Poisson draw by Knuth's multiplication method: exact, and cheap for the small means
   * (a few transactions a day) the simulator uses; options cap the mean at 100, where
   * `exp(-mean)` is still a normal double.
   */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let count = -1;
    let product = 1;
    do {
      count += 1;
      product *= this.float();
    } while (product > limit);
    return count;
  }

  /**
   * `k` distinct integers of [0, n), by Floyd's algorithm: exactly `k` draws whatever `n`,
   * in a deterministic order. `k` is clamped to `n`.
   */
  sampleDistinct(n: number, k: number): number[] {
    const chosen = new Set<number>();
    for (let j = n - Math.min(k, n); j < n; j += 1) {
      const candidate = this.int(0, j);
      chosen.add(chosen.has(candidate) ? j : candidate);
    }
    return [...chosen];
  }

  /**
   * A count whose mean is `expected`: its integer part, plus one with probability of its
   * fractional part. Integer expectations are returned as they are, without a draw.
   */
  roundStochastically(expected: number): number {
    const whole = Math.floor(expected);
    const fraction = expected - whole;
    return fraction > 0 && this.bernoulli(fraction) ? whole + 1 : whole;
  }
}

/**
 * Picks an index with probability proportional to its weight. The cumulative table is built once;
 * a pick is one uniform draw.
 */
export class WeightedChoice<T> {
  private readonly values: readonly T[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  /** `entries` are `[value, weight]` pairs; weights are non-negative and not all zero. */
  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    const positive = entries.filter(([, weight]) => weight > 0);
    if (positive.length === 0) throw new RangeError('WeightedChoice needs a positive weight');
    this.values = positive.map(([value]) => value);
    this.cumulative = new Float64Array(positive.length);
    let sum = 0;
    positive.forEach(([, weight], index) => {
      sum += weight;
      this.cumulative[index] = sum;
    });
    this.total = sum;
  }

  /** One weighted pick. */
  pick(random: Random): T {
    const target = random.float() * this.total;
    const last = this.values.length - 1;
    for (let index = 0; index < last; index += 1) {
      if (target < (this.cumulative[index] as number)) return this.values[index] as T;
    }
    return this.values[last] as T;
  }
}

/**
 * The random stream `name` of a simulation seeded with `seed`. Streams are the seed's
 * xoroshiro128+ sequence jumped 2^64 steps once per stream index, so they never overlap.
 */
export function randomStream(seed: number, name: RandomStreamName): Random {
  const generator = xoroshiro128plus(seed);
  for (let jumps = 0; jumps <= RANDOM_STREAMS[name]; jumps += 1) generator.jump();
  return new Random(generator);
}
