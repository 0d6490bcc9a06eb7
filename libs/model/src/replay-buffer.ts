import { seededRandom } from './seeded-random';

/** Sizes of a {@link ReplayBuffer}. */
export interface ReplayBufferOptions {
  /** Most fraud examples kept; past it the oldest added goes first. */
  readonly maxPositives: number;
  /** Genuine examples kept, a uniform sample of all those added (reservoir sampling). */
  readonly reservoirSize: number;
  /** Seeds the reservoir's draws: the same additions in the same order keep the same examples. */
  readonly seed: number;
}

/**
 * What earlier training steps saw, kept bounded so each step can mix it into its own few thousand
 * new examples and not overwrite what earlier steps learned ("no forgetting"): every fraud
 * example up to `maxPositives` (the most recent ones), and a reservoir of genuine examples that
 * is a uniform random sample of every genuine example ever added (Vitter's algorithm R).
 *
 * Pure and in memory: no clock, randomness only from the seed. The order of {@link contents} is
 * the frauds in the order added, then the reservoir in slot order.
 */
export class ReplayBuffer<T> {
  private readonly positives: T[] = [];
  private readonly reservoir: T[] = [];
  private genuineSeen = 0;
  private readonly random: () => number;

  constructor(private readonly options: ReplayBufferOptions) {
    for (const key of ['maxPositives', 'reservoirSize'] as const) {
      const value = options[key];
      if (!Number.isInteger(value) || value < 0) {
        throw new RangeError(`${key} must be a whole number >= 0, got ${value}`);
      }
    }
    if (!Number.isSafeInteger(options.seed)) {
      throw new RangeError(`seed must be an integer, got ${options.seed}`);
    }
    this.random = seededRandom(options.seed);
  }

  /** Adds examples, fraud or genuine as `isFraud` says. */
  add(examples: readonly T[], isFraud: (example: T) => boolean): void {
    for (const example of examples) {
      if (isFraud(example)) {
        this.positives.push(example);
        if (this.positives.length > this.options.maxPositives) this.positives.shift();
        continue;
      }
      this.genuineSeen += 1;
      if (this.reservoir.length < this.options.reservoirSize) {
        this.reservoir.push(example);
      } else {
        const slot = Math.floor(this.random() * this.genuineSeen);
        if (slot < this.options.reservoirSize) this.reservoir[slot] = example;
      }
    }
  }

  /** The kept examples: frauds first, then the genuine reservoir. A copy. */
  contents(): T[] {
    return [...this.positives, ...this.reservoir];
  }

  /** Kept examples, frauds and genuine. */
  get size(): number {
    return this.positives.length + this.reservoir.length;
  }

  /** Counts of what is kept and of the genuine examples ever added. */
  stats(): { positives: number; genuine: number; genuineSeen: number } {
    return {
      positives: this.positives.length,
      genuine: this.reservoir.length,
      genuineSeen: this.genuineSeen,
    };
  }
}
