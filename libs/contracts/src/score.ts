import { z } from 'zod';

/**
 * A fraud score on the scores topic (`tx.scores`), keyed like the transaction it scores (the
 * customer id), published by the scorer once per scored transaction. A consumer that dedupes by
 * `transactionId` sees each transaction once; a re-scored transaction (after a crash, before the
 * offset was committed) carries the same score, version, threshold and features.
 */
export const FraudScoreV1 = z.strictObject({
  schemaVersion: z.literal(1),
  transactionId: z.string().min(1),
  /** Fraud probability in [0, 1] from the model version below. */
  score: z.number().min(0).max(1),
  /** Registry id and number of the model version that computed the score. */
  modelVersionId: z.string().min(1),
  modelVersion: z.number().int().positive(),
  /** Decision threshold in force; `exceeded` is `score >= threshold`. */
  threshold: z.number().min(0).max(1),
  exceeded: z.boolean(),
  /** The event time of the transaction (copied, so a consumer need not join). */
  eventTime: z.iso.datetime({ offset: true }),
  /** The feature set and the values the model saw, in `featureNames()` order (audit, skew checks). */
  featureSetVersion: z.number().int().positive(),
  features: z.array(z.number()),
  /** Milliseconds from the scorer receiving the batch to the score being computed. */
  latencyMs: z.number().nonnegative(),
  /** When the score was computed (wall time, ISO 8601). */
  scoredAt: z.iso.datetime({ offset: true }),
});
/** A fraud-score message. */
export type FraudScore = z.infer<typeof FraudScoreV1>;
