import type { Transaction } from '@streamtrain/contracts';

/**
 * One transaction as the feature code sees it: the fields the features read, with the event time
 * already parsed, so the hot loop never parses a date.
 */
export interface FeatureInput {
  /** Unique id; copies that share it are one transaction (Kafka and RabbitMQ redeliver). */
  readonly transactionId: string;
  /** The card holder; customer windows group by it. */
  readonly customerId: string;
  /** The point of sale; terminal windows group by it. */
  readonly terminalId: string;
  /** Amount in the transaction's currency units. */
  readonly amount: number;
  /** When the purchase happened, in milliseconds since the Unix epoch (UTC). */
  readonly eventTimeMs: number;
}

/**
 * A fraud verdict and the event time from which it was known. A feature computed at time `t` may
 * use it only when `reportedAtMs <= t`; using it earlier would leak the future into training.
 */
export interface KnownLabel {
  /** The labelled transaction. */
  readonly transactionId: string;
  /** Whether the transaction was fraudulent. */
  readonly isFraud: boolean;
  /** Event time (ms since the Unix epoch) at which the label became known. */
  readonly reportedAtMs: number;
}

/** The fields of a contract {@link Transaction} that the features read. */
export type FeatureSource = Pick<
  Transaction,
  'transactionId' | 'customerId' | 'terminalId' | 'amount' | 'eventTime'
>;

/**
 * Adapts a transaction message (or warehouse row shaped like one) to a {@link FeatureInput}.
 *
 * @throws RangeError when `eventTime` is not a parseable date: the contract validated it, so an
 * unparseable one is a programmer error, and a NaN time would silently corrupt every window.
 */
export function toFeatureInput(tx: FeatureSource): FeatureInput {
  const eventTimeMs = Date.parse(tx.eventTime);
  if (Number.isNaN(eventTimeMs)) {
    throw new RangeError(
      `transaction ${tx.transactionId}: eventTime ${tx.eventTime} is not a date`,
    );
  }
  return {
    transactionId: tx.transactionId,
    customerId: tx.customerId,
    terminalId: tx.terminalId,
    amount: tx.amount,
    eventTimeMs,
  };
}
