import { z } from 'zod';

/** Source channels. Each has its own Kafka topic, `tx.<channel>`; `file` is the import path. */
export const CHANNELS = ['mobile', 'web', 'pos', 'file'] as const;
/** A source channel of a transaction. */
export type Channel = (typeof CHANNELS)[number];

/**
 * An ISO 8601 date-time with an offset that the warehouse's `timestamptz` can store: PostgreSQL
 * has no year 0 (1 BC) and refuses offsets beyond ±15:59, which ISO 8601 (and zod) allow. Refusing
 * them here dead-letters the message with its reason instead of failing the whole write
 * (issue 13).
 */
export const storableDateTime = z.iso.datetime({ offset: true }).superRefine((value, context) => {
  if (value.startsWith('0000')) {
    context.addIssue({ code: 'custom', message: `year 0000 cannot be stored (${value})` });
  }
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(value);
  if (offset !== null && Number(offset[2]) * 60 + Number(offset[3]) > 15 * 60 + 59) {
    context.addIssue({
      code: 'custom',
      message: `offset ${offset[1]}${offset[2]}:${offset[3]} is beyond ±15:59 and cannot be stored`,
    });
  }
});

/** Largest amount accepted; anything above is treated as corrupt input, not as a purchase. */
export const MAX_AMOUNT = 1_000_000;

/** An id on the wire: 1-64 characters of `A-Z a-z 0-9 . _ : -` (docs/CONTRACTS.md). */
export const wireId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');

/**
 * A card transaction as it travels on `tx.<channel>` (JSON, key = customer id).
 * `eventTime` is when the purchase happened (ISO 8601 with offset); every window and
 * label delay is computed from it, never from wall time.
 *
 * Evolution (docs/CONTRACTS.md): fields this version does not know are accepted and dropped, so a
 * producer may add optional fields; a change to a field listed here needs a new `schemaVersion`.
 */
export const TransactionV1 = z
  .object({
    schemaVersion: z.literal(1).describe('Version of this message shape.'),
    transactionId: wireId.describe('Unique id of the transaction; a repeated id is a duplicate.'),
    customerId: wireId.describe('Card or customer id; also the Kafka message key.'),
    terminalId: wireId.describe('Merchant terminal id.'),
    amount: z
      .number()
      .finite()
      .nonnegative()
      .max(MAX_AMOUNT)
      .describe(`Purchase amount in the currency's major unit (e.g. 42.5), 0 to ${MAX_AMOUNT}.`),
    eventTime: storableDateTime.describe(
      'When the purchase happened, ISO 8601 with offset. Refused when further ahead of the ' +
        'wall clock than INGEST_MAX_FUTURE_SKEW_MS (default 1 day).',
    ),
    channel: z.enum(CHANNELS).describe('Source channel; matches the topic tx.<channel>.'),
  })
  .meta({ title: 'TransactionV1' });
/** A validated transaction message. */
export type Transaction = z.infer<typeof TransactionV1>;

/**
 * A fraud label on `tx.labels`: a chargeback or an analyst's verdict, arriving days after the
 * transaction. `reportedAt` is the event time at which the label became known; a feature or a
 * training example may use the label only from then on.
 */
export const FraudLabelV1 = z
  .object({
    schemaVersion: z.literal(1).describe('Version of this message shape.'),
    transactionId: wireId.describe('The labelled transaction; also the Kafka message key.'),
    isFraud: z.boolean().describe('The verdict.'),
    reportedAt: storableDateTime.describe(
      'Event time at which the label became known, ISO 8601 with offset.',
    ),
  })
  .meta({ title: 'FraudLabelV1' });
/** A validated fraud label message. */
export type FraudLabel = z.infer<typeof FraudLabelV1>;
