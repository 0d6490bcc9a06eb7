/** The event-time progress after a batch. */
export interface WatermarkAdvance {
  watermarkMs: number | null;
  /** Transactions with event time at or before this are mature. */
  matureBeforeMs: number | null;
}

/**
 * Advances the event-time watermark with the latest event time of a batch (transactions and
 * label reports alike), never backwards, and derives the maturity horizon from it. Event time,
 * not wall time, so a replay gives the same examples.
 */
export function advanceWatermark(
  previousMs: number | null,
  batchEventTimesMs: readonly number[],
  maturityMs: number,
): WatermarkAdvance {
  let watermarkMs = previousMs;
  for (const time of batchEventTimesMs) {
    if (watermarkMs === null || time > watermarkMs) watermarkMs = time;
  }
  return { watermarkMs, matureBeforeMs: watermarkMs === null ? null : watermarkMs - maturityMs };
}
