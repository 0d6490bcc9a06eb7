import { z } from 'zod';

/** Source channels. Each has its own Kafka topic, `tx.<channel>`; `file` is the import path. */
export const CHANNELS = ['mobile', 'web', 'pos', 'file'] as const;
/** A source channel of a transaction. */
export type Channel = (typeof CHANNELS)[number];

/** Largest amount accepted; anything above is treated as corrupt input, not as a purchase. */
export const MAX_AMOUNT = 1_000_000;

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');

/**
 * A card transaction as it travels on `tx.<channel>` (JSON, key = customer id).
 * `eventTime` is when the purchase happened (ISO 8601 with offset); every window and
 * label delay is computed from it, never from wall time.
 */
export const TransactionV1 = z.strictObject({
  schemaVersion: z.literal(1),
  transactionId: id,
  customerId: id,
  terminalId: id,
  amount: z.number().finite().nonnegative().max(MAX_AMOUNT),
  eventTime: z.iso.datetime({ offset: true }),
  channel: z.enum(CHANNELS),
});
/** A validated transaction message. */
export type Transaction = z.infer<typeof TransactionV1>;

/**
 * A fraud label on `tx.labels`: a chargeback or an analyst's verdict, arriving days after the
 * transaction. `reportedAt` is the event time at which the label became known; a feature or a
 * training example may use the label only from then on.
 */
export const FraudLabelV1 = z.strictObject({
  schemaVersion: z.literal(1),
  transactionId: id,
  isFraud: z.boolean(),
  reportedAt: z.iso.datetime({ offset: true }),
});
/** A validated fraud label message. */
export type FraudLabel = z.infer<typeof FraudLabelV1>;
