/** The event-time progress after a batch. */
export interface WatermarkAdvance {
  watermarkMs: number | null;
  /** Transactions with event time at or before this are mature. */
  matureBeforeMs: number | null;
  /**
   * Events of the batch too far ahead of the stream's own progress to move the watermark (a
   * client whose clock is fast). They are still stored and featurised; only the watermark, and
   * so everyone's maturity, ignores them.
   */
  outliers: number;
}

/** Options of {@link advanceWatermark}. */
export interface WatermarkOptions {
  /**
   * How far ahead of the stream's progress an event may be and still move the watermark: the
   * bound of out-of-orderness ahead. @default 3600000 (1 hour)
   */
  maxAheadMs?: number;
}

/** Default of {@link WatermarkOptions.maxAheadMs}. */
export const DEFAULT_MAX_AHEAD_MS = 3_600_000;

/** Fewer events than this say too little about the stream's progress to call one an outlier. */
const MIN_EVENTS_TO_JUDGE = 4;

/** Tukey's "far out" fence: beyond Q3 + 3 × IQR. */
const FAR_OUT = 3;

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below] as number;
  const high = sorted[Math.min(sorted.length - 1, below + 1)] as number;
  return low + (high - low) * (position - below);
}

/**
 * The latest event time that may move the watermark: the stream's progress (the previous
 * watermark, and the bulk of this batch: its upper quartile plus three interquartile ranges, so a
 * batch that spans days of a fast-forwarded stream is judged by its own spread) plus
 * `maxAheadMs`. Infinity when the batch is too small to judge.
 */
function aheadFence(
  previousMs: number | null,
  sorted: readonly number[],
  maxAheadMs: number,
): number {
  if (sorted.length < MIN_EVENTS_TO_JUDGE) return Infinity;
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const bulk = q3 + FAR_OUT * (q3 - q1);
  return Math.max(bulk, previousMs ?? -Infinity) + maxAheadMs;
}

/**
 * Advances the event-time watermark with the latest event time of a batch (transactions and
 * label reports alike), never backwards, and derives the maturity horizon from it. Event time,
 * not wall time, so a replay gives the same examples. An event too far ahead of the stream's
 * progress (see {@link WatermarkOptions.maxAheadMs}) is counted as an outlier and does not move
 * it: one fast client clock must not mature everyone's pending examples (issue 13). A batch of
 * fewer than four events is not judged (its events all count), so a sparse stream still moves.
 */
export function advanceWatermark(
  previousMs: number | null,
  batchEventTimesMs: readonly number[],
  maturityMs: number,
  options: WatermarkOptions = {},
): WatermarkAdvance {
  const sorted = [...batchEventTimesMs].sort((a, b) => a - b);
  const fence = aheadFence(previousMs, sorted, options.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS);
  let watermarkMs = previousMs;
  let outliers = 0;
  for (const time of sorted) {
    if (time > fence) {
      outliers += 1;
    } else if (watermarkMs === null || time > watermarkMs) {
      watermarkMs = time;
    }
  }
  return {
    watermarkMs,
    matureBeforeMs: watermarkMs === null ? null : watermarkMs - maturityMs,
    outliers,
  };
}
