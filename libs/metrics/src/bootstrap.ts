import { assertBinaryInputs } from './binary-inputs';

/** An estimate on the observed data and its bootstrap percentile interval. */
export interface Interval {
  /** The statistic on the observed data. */
  readonly estimate: number;
  /** Lower end of the two-sided interval at the requested confidence. */
  readonly low: number;
  /** Upper end of the two-sided interval at the requested confidence. */
  readonly high: number;
}

/** AUC ROC and average precision of one model, each with its interval. */
export interface RankingIntervals {
  readonly auc: Interval;
  readonly averagePrecision: Interval;
}

/** What {@link pairedBootstrap} found. */
export interface PairedBootstrapResult {
  readonly a: RankingIntervals;
  readonly b: RankingIntervals;
  /** `a − b`, replicate by replicate on the same resampled examples (a paired comparison). */
  readonly difference: RankingIntervals;
  /** Replicates in which both classes were drawn, out of those asked for. */
  readonly replicates: number;
  readonly confidence: number;
}

/** Options of {@link pairedBootstrap}. */
export interface BootstrapOptions {
  /** Resamples drawn. @default 200 */
  readonly replicates?: number;
  /** Two-sided confidence of the intervals, in (0, 1). @default 0.95 */
  readonly confidence?: number;
  /** Seeds the resampling: the same inputs and seed give the same intervals. @default 1 */
  readonly seed?: number;
}

/**
 * mulberry32, seeded, as 32-bit unsigned integers: `Math.random` cannot be seeded, and the gate's
 * verdict must be repeatable.
 */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Poisson(1) draws by inversion of 16 random bits: entry `u` is the smallest `k` whose cumulative
 * probability exceeds `u / 65536`. Each probability is kept to 1/65536, and one 32-bit random
 * number gives two weights, which halves the cost of a replicate.
 */
const POISSON_ONE_BY_BITS: Uint8Array = (() => {
  const table = new Uint8Array(65_536);
  let k = 0;
  let p = Math.exp(-1);
  let cumulative = p;
  for (let u = 0; u < table.length; u += 1) {
    while ((u + 0.5) / table.length > cumulative && k < 20) {
      k += 1;
      p /= k;
      cumulative += p;
    }
    table[u] = k;
  }
  return table;
})();

/** Fills `weights` with Poisson(1) draws from the seeded 32-bit generator `next`. */
function drawWeights(weights: Uint8Array, next: () => number): void {
  for (let i = 0; i < weights.length; i += 2) {
    const bits = next();
    weights[i] = POISSON_ONE_BY_BITS[bits & 0xffff] as number;
    if (i + 1 < weights.length) weights[i + 1] = POISSON_ONE_BY_BITS[bits >>> 16] as number;
  }
}

/** The examples in descending score order, their labels in that order, and tie-group ends. */
interface Ranking {
  readonly order: Uint32Array;
  readonly labels: Uint8Array;
  /** 1 at the last position of each group of tied scores. */
  readonly groupEnds: Uint8Array;
}

function rank(scores: ArrayLike<number>, labels: ArrayLike<number>): Ranking {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((x, y) => (scores[y] as number) - (scores[x] as number));
  const ranked = new Uint8Array(order.length);
  const groupEnds = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i += 1) {
    ranked[i] = labels[order[i] as number] === 1 ? 1 : 0;
    const next = order[i + 1];
    groupEnds[i] = next === undefined || scores[next] !== scores[order[i] as number] ? 1 : 0;
  }
  return { order, labels: ranked, groupEnds };
}

/**
 * Weighted AUC and AP in one pass over a precomputed ranking, with tie groups handled as in
 * `rocAuc` and `averagePrecision` (with unit weights they give exactly those values).
 */
function weightedMetrics(
  ranking: Ranking,
  weights: Uint8Array | null,
): { auc: number; ap: number } | null {
  const { order, labels, groupEnds } = ranking;
  let truePositives = 0;
  let predicted = 0;
  let apSum = 0;
  let area = 0;
  let groupPositives = 0;
  let groupNegatives = 0;
  for (let i = 0; i < order.length; i += 1) {
    const weight = weights === null ? 1 : (weights[order[i] as number] as number);
    if (labels[i] === 1) groupPositives += weight;
    else groupNegatives += weight;
    if (groupEnds[i] === 1) {
      area += groupNegatives * (truePositives + groupPositives / 2);
      truePositives += groupPositives;
      predicted += groupPositives + groupNegatives;
      if (groupPositives > 0) apSum += groupPositives * (truePositives / predicted);
      groupPositives = 0;
      groupNegatives = 0;
    }
  }
  const negatives = predicted - truePositives;
  if (truePositives === 0 || negatives === 0) return null;
  return { auc: area / (truePositives * negatives), ap: apSum / truePositives };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const lower = sorted[below] as number;
  return lower + (position - below) * ((sorted[above] as number) - lower);
}

function interval(estimate: number, values: number[], confidence: number): Interval {
  values.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return { estimate, low: percentile(values, tail), high: percentile(values, 1 - tail) };
}

/**
 * A paired bootstrap of AUC ROC and average precision for two models scored on the same labelled
 * examples: each replicate weighs every example by a Poisson(1) draw (the same weights for both
 * models, so their difference is paired), and the intervals are the percentiles of the replicates.
 * Both rankings are sorted once, so a replicate costs one pass over the examples. Replicates that draw no positive or no negative are skipped.
 *
 * @throws RangeError when lengths differ, a score is not finite, a label is not 0 or 1, the data
 *   hold only one class, or an option is out of range.
 */
export function pairedBootstrap(
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: BootstrapOptions = {},
): PairedBootstrapResult {
  const replicates = options.replicates ?? 200;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(replicates) || replicates < 1) {
    throw new RangeError(`replicates must be a positive integer, got ${replicates}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  }
  assertBinaryInputs(scoresA, labels);
  assertBinaryInputs(scoresB, labels);
  const rankingA = rank(scoresA, labels);
  const rankingB = rank(scoresB, labels);
  const observedA = weightedMetrics(rankingA, null);
  const observedB = weightedMetrics(rankingB, null);
  if (observedA === null || observedB === null) {
    throw new RangeError('the labels hold only one class: AUC and AP are undefined');
  }
  const random = seeded(seed);
  const weights = new Uint8Array(labels.length);
  const series = { aucA: [], apA: [], aucB: [], apB: [], aucD: [], apD: [] } as Record<
    'aucA' | 'apA' | 'aucB' | 'apB' | 'aucD' | 'apD',
    number[]
  >;
  for (let r = 0; r < replicates; r += 1) {
    drawWeights(weights, random);
    const a = weightedMetrics(rankingA, weights);
    const b = weightedMetrics(rankingB, weights);
    if (a === null || b === null) continue;
    series.aucA.push(a.auc);
    series.apA.push(a.ap);
    series.aucB.push(b.auc);
    series.apB.push(b.ap);
    series.aucD.push(a.auc - b.auc);
    series.apD.push(a.ap - b.ap);
  }
  return {
    a: {
      auc: interval(observedA.auc, series.aucA, confidence),
      averagePrecision: interval(observedA.ap, series.apA, confidence),
    },
    b: {
      auc: interval(observedB.auc, series.aucB, confidence),
      averagePrecision: interval(observedB.ap, series.apB, confidence),
    },
    difference: {
      auc: interval(observedA.auc - observedB.auc, series.aucD, confidence),
      averagePrecision: interval(observedA.ap - observedB.ap, series.apD, confidence),
    },
    replicates: series.aucD.length,
    confidence,
  };
}

/**
 * The bootstrap intervals of one model's AUC ROC and AP (a {@link pairedBootstrap} of the model
 * with itself), e.g. to ask whether it ranks better than chance.
 */
export function bootstrapIntervals(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: BootstrapOptions = {},
): RankingIntervals {
  return pairedBootstrap(scores, scores, labels, options).a;
}
