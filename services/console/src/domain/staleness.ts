/** A registry version's figures, as the console reads them from the version's `metrics`. */
export interface QualityFigures {
  auc: number | null;
  averagePrecision: number | null;
  cardPrecisionAt100: number | null;
}

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Reads AUC ROC, Average Precision and Card Precision@100 from a version's metrics object,
 * whichever of them the trainer recorded (older versions have no Card Precision).
 */
export function qualityFigures(metrics: Record<string, unknown> | null): QualityFigures {
  if (metrics === null) return { auc: null, averagePrecision: null, cardPrecisionAt100: null };
  return {
    auc: numberOrNull(metrics.auc),
    averagePrecision: numberOrNull(metrics.averagePrecision),
    cardPrecisionAt100: numberOrNull(
      metrics.cardPrecisionAt100 ?? metrics.cardPrecisionAtK ?? metrics.cpAt100,
    ),
  };
}

/** Seconds between two ISO times (`later` − `earlier`), or `null` when either is missing. */
export function secondsBetween(earlier: string | null, later: string | null): number | null {
  if (earlier === null || later === null) return null;
  return Math.max(0, (Date.parse(later) - Date.parse(earlier)) / 1000);
}
