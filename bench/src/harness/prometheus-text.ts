/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses `/metrics` text (comments skipped; label values unescaped only for `\"`). */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\"/g, '"');
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `where`. */
export function sumOf(
  samples: readonly PromSample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).every(([key, value]) => sample.labels[key] === value)) {
      total += sample.value;
    }
  }
  return total;
}

/** A histogram's cumulative buckets (upper bound → count), its sum and its count. */
export interface HistogramSnapshot {
  readonly buckets: readonly { le: number; count: number }[];
  readonly sum: number;
  readonly count: number;
}

/** Reads histogram `name` (no other labels) from the samples. */
export function histogramOf(samples: readonly PromSample[], name: string): HistogramSnapshot {
  const buckets = samples
    .filter((sample) => sample.name === `${name}_bucket`)
    .map((sample) => ({
      le: sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le),
      count: sample.value,
    }))
    .sort((a, b) => a.le - b.le);
  return { buckets, sum: sumOf(samples, `${name}_sum`), count: sumOf(samples, `${name}_count`) };
}

/**
 * The `q`-quantile of a histogram, interpolated within its bucket as Prometheus's
 * `histogram_quantile` does; null for an empty histogram.
 */
export function histogramQuantile(histogram: HistogramSnapshot, q: number): number | null {
  const total = histogram.buckets[histogram.buckets.length - 1]?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of histogram.buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return previous.le;
      const inBucket = bucket.count - previous.count;
      const share = inBucket === 0 ? 0 : (rank - previous.count) / inBucket;
      return previous.le + (bucket.le - previous.le) * share;
    }
    previous = bucket;
  }
  return previous.le;
}
