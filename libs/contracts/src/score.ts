import { z } from 'zod';
import { wireId } from './transaction';

/**
 * A fraud score on the scores topic (`tx.scores`), keyed like the transaction it scores (the
 * customer id), published by the scorer once per scored transaction. A consumer that dedupes by
 * `transactionId` sees each transaction once; a re-scored transaction (after a crash, before the
 * offset was committed) carries the same score, version, threshold and features.
 *
 * Evolution (docs/CONTRACTS.md): as for every message, consumers accept and drop fields this
 * version does not list; a change to a listed field needs a new `schemaVersion`.
 */
export const FraudScoreV1 = z
  .object({
    schemaVersion: z.literal(1).describe('Version of this message shape.'),
    transactionId: wireId.describe('The scored transaction (its id on tx.<channel>).'),
    score: z
      .number()
      .min(0)
      .max(1)
      .describe('Fraud probability in [0, 1] from the model version below.'),
    modelVersionId: z
      .string()
      .min(1)
      .describe('Registry id of the model version that computed the score.'),
    modelVersion: z
      .number()
      .int()
      .positive()
      .describe('Number of that model version in the registry (1, 2, ...).'),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .describe('Decision threshold in force when the score was computed.'),
    exceeded: z.boolean().describe('score >= threshold: the transaction should be reviewed.'),
    eventTime: z.iso
      .datetime({ offset: true })
      .describe('Event time of the transaction, copied from it (ISO 8601 with offset).'),
    featureSetVersion: z
      .number()
      .int()
      .positive()
      .describe('Version of the feature set the model was trained on.'),
    features: z
      .array(z.number())
      .describe(
        'The feature values the model saw, in the feature set order (libs/features ' +
          '`featureNames()`), for audits and training/serving skew checks.',
      ),
    latencyMs: z
      .number()
      .nonnegative()
      .describe('Milliseconds from the scorer receiving the batch to the score being computed.'),
    scoredAt: z.iso
      .datetime({ offset: true })
      .describe('Wall time at which the score was computed (ISO 8601).'),
  })
  .meta({ title: 'FraudScoreV1' });
/** A fraud-score message. */
export type FraudScore = z.infer<typeof FraudScoreV1>;
