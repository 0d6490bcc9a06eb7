import type { SimulatorConfig } from './config';

const SECONDS_PER_DAY = 86_400;

/** The error function (Abramowitz and Stegun 7.1.26; absolute error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** The standard normal cumulative distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/**
 * Probability that a drawn time of day falls inside the day, [0, 86400) seconds; the others are
 * dropped. About 0.9692 with the handbook's N(43200, 20000).
 */
export function timeOfDayKeptShare(
  config: Pick<SimulatorConfig, 'timeOfDayMeanSeconds' | 'timeOfDayStdSeconds'>,
): number {
  const { timeOfDayMeanSeconds: mean, timeOfDayStdSeconds: std } = config;
  if (std === 0) return mean >= 0 && mean < SECONDS_PER_DAY ? 1 : 0;
  return normalCdf((SECONDS_PER_DAY - mean) / std) - normalCdf(-mean / std);
}

/**
 * Area of the disc of `radius` around (x, y) that lies on the [0, size]² grid (midpoint rule).
 * Ternaries rather than Math.min/max: this loop runs about a million times, and the builtins are
 * slow where they are not inlined (Jest's VM context, for one).
 */
function discAreaOnGrid(x: number, y: number, radius: number, size: number): number {
  const from = x - radius > 0 ? x - radius : 0;
  const to = x + radius < size ? x + radius : size;
  const steps = 256;
  const width = (to - from) / steps;
  let length = 0;
  for (let step = 0; step < steps; step += 1) {
    const u = from + (step + 0.5) * width - x;
    const squared = radius * radius - u * u;
    const half = squared > 0 ? Math.sqrt(squared) : 0;
    const top = y + half < size ? y + half : size;
    const bottom = y - half > 0 ? y - half : 0;
    if (top > bottom) length += top - bottom;
  }
  return length * width;
}

/**
 * Probability that a customer has at least one terminal within reach: the mean, over uniform home
 * locations, of 1 − (1 − reachable area / grid area)^terminals. Near 1 at the handbook's density
 * (one terminal per unit of area); noticeably less for sparse grids, mostly near the edges.
 */
export function reachableShare(
  config: Pick<SimulatorConfig, 'terminals' | 'terminalRadius' | 'gridSize'>,
): number {
  const { terminals, terminalRadius: radius, gridSize: size } = config;
  // The grid is symmetric in both axes, so one quadrant stands for all four.
  const steps = 64;
  const cell = size / 2 / steps;
  let sum = 0;
  for (let i = 0; i < steps; i += 1) {
    for (let j = 0; j < steps; j += 1) {
      const area = discAreaOnGrid((i + 0.5) * cell, (j + 0.5) * cell, radius, size);
      sum += 1 - Math.pow(1 - area / (size * size), terminals);
    }
  }
  return sum / (steps * steps);
}

/**
 * The expected number of transactions of a simulation, from its config alone: customers × days ×
 * mean daily rate (maxMeanTxPerDay / 2) × {@link timeOfDayKeptShare} × {@link reachableShare}.
 * About 1.774 million at the handbook's defaults; the handbook's own run, one draw of the
 * customers' rates, has 1,754,155.
 */
export function expectedTransactionCount(config: SimulatorConfig): number {
  return (
    config.customers *
    config.days *
    (config.maxMeanTxPerDay / 2) *
    timeOfDayKeptShare(config) *
    reachableShare(config)
  );
}
