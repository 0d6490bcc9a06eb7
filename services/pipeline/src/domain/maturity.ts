/** A transaction the maturity rule looks at in a pass. */
export interface MaturityCandidate {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  /** When the earliest fraud label of it was reported, or null when none was. */
  readonly fraudReportedAtMs: number | null;
  /**
   * When the verdict in hand, a "not fraud" label that reversed a fraud label (a reversed
   * chargeback), was reported; null or absent when there is none.
   */
  readonly genuineReportedAtMs?: number | null;
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
 * - got a fraud label in the batches in hand, reported by the watermark (known early);
 * - got a "not fraud" label in the batches in hand, reported by the watermark, while their
 *   example is labelled fraud (a reversed chargeback).
 */
export type MaturityCandidates = (query: MaturityQuery) => Promise<MaturityCandidate[]>;

/** A training example a pass writes. */
export interface MaturedExample {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  readonly label: 0 | 1;
  /** An example re-labelled: genuine to fraud by a late label, or fraud to genuine by a reversal. */
  readonly corrected: boolean;
}

/**
 * The maturity rule: a candidate's label is 1 when a fraud label was reported by the watermark,
 * else 0 (matured without one). A candidate becomes an example once; an example stored as genuine
 * whose fraud label arrived late is corrected to 1, and one stored as fraud whose label a later
 * "not fraud" verdict reversed (reported by the watermark) is corrected to 0 (issue 13); anything
 * else is left as it is.
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
    } else if (candidate.currentLabel === 1 && label === 0 && reversedBy(candidate, watermarkMs)) {
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

/** Whether a "not fraud" verdict, reported by the watermark, reversed the candidate's fraud label. */
function reversedBy(candidate: MaturityCandidate, watermarkMs: number): boolean {
  const at = candidate.genuineReportedAtMs;
  return at !== undefined && at !== null && at <= watermarkMs;
}

/** How many examples a pass re-labelled, each way. */
export interface ExampleCorrections {
  /** Genuine examples corrected to fraud by a late fraud label. */
  readonly toFraud: number;
  /** Fraud examples corrected to genuine by a later "not fraud" verdict (a reversed chargeback). */
  readonly toGenuine: number;
}

/** Counts the corrections among a pass's examples. */
export function countCorrections(examples: readonly MaturedExample[]): ExampleCorrections {
  let toFraud = 0;
  let toGenuine = 0;
  for (const example of examples) {
    if (!example.corrected) continue;
    if (example.label === 1) toFraud += 1;
    else toGenuine += 1;
  }
  return { toFraud, toGenuine };
}

/** The maturity horizon never moves backwards. */
export function nextMaturedUntil(
  previousMs: number | null,
  matureBeforeMs: number | null,
): number | null {
  if (previousMs === null) return matureBeforeMs;
  return matureBeforeMs !== null && matureBeforeMs > previousMs ? matureBeforeMs : previousMs;
}
