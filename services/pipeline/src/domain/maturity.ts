/** A transaction the maturity rule looks at in a pass. */
export interface MaturityCandidate {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  /** When the earliest fraud label of it was reported, or null when none was. */
  readonly fraudReportedAtMs: number | null;
  /** Its current example label, or null when it is not an example yet. */
  readonly currentLabel: 0 | 1 | null;
}

/** Which transactions a pass looks at: its query to the store. */
export interface MaturityQuery {
  /** Labels reported up to the watermark are known. */
  readonly watermarkMs: number;
  /** Transactions with event time up to this are mature (no label by now means genuine). */
  readonly matureBeforeMs: number;
  /** The previous horizon: `(previousMatureBeforeMs, matureBeforeMs]` is newly mature. */
  readonly previousMatureBeforeMs: number | null;
  /** The batches in hand: their late-arriving old transactions and their labels are included. */
  readonly batchIds: readonly string[];
}

/**
 * The candidates of a pass: the transactions (with stored features) that
 * - have event time in the newly mature range `(previousMatureBeforeMs, matureBeforeMs]`;
 * - arrived in the batches in hand with an event time already mature (late arrivals);
 * - got a fraud label in the batches in hand, reported by the watermark (known early).
 */
export type MaturityCandidates = (query: MaturityQuery) => Promise<MaturityCandidate[]>;

/** A training example a pass writes. */
export interface MaturedExample {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  readonly label: 0 | 1;
  /** A genuine example corrected to fraud by a late label. */
  readonly corrected: boolean;
}

/**
 * The maturity rule: a candidate's label is 1 when a fraud label was reported by the watermark,
 * else 0 (matured without one). A candidate becomes an example once; an example stored as genuine
 * whose fraud label arrived late is corrected to 1; anything else is left as it is.
 */
export function matureCandidates(
  candidates: readonly MaturityCandidate[],
  watermarkMs: number,
): MaturedExample[] {
  const examples: MaturedExample[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (seen.has(candidate.transactionId)) continue;
    seen.add(candidate.transactionId);
    const label =
      candidate.fraudReportedAtMs !== null && candidate.fraudReportedAtMs <= watermarkMs ? 1 : 0;
    if (candidate.currentLabel === null) {
      examples.push({
        transactionId: candidate.transactionId,
        eventTimeMs: candidate.eventTimeMs,
        label,
        corrected: false,
      });
    } else if (candidate.currentLabel === 0 && label === 1) {
      examples.push({
        transactionId: candidate.transactionId,
        eventTimeMs: candidate.eventTimeMs,
        label,
        corrected: true,
      });
    }
  }
  return examples;
}

/** The maturity horizon never moves backwards. */
export function nextMaturedUntil(
  previousMs: number | null,
  matureBeforeMs: number | null,
): number | null {
  if (previousMs === null) return matureBeforeMs;
  return matureBeforeMs !== null && matureBeforeMs > previousMs ? matureBeforeMs : previousMs;
}
