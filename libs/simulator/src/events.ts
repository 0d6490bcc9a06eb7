import type { FraudLabel, Transaction } from '@streamtrain/contracts';
import { z } from 'zod';

/**
 * Why a transaction is fraud: 0 genuine; 1 amount above the threshold; 2 compromised terminal;
 * 3 compromised customer credentials. A later scenario overrides an earlier one, as in the handbook.
 */
export type FraudScenario = 0 | 1 | 2 | 3;

/** A simulated transaction with its ground truth, which never travels with the transaction itself. */
export interface SimulatedTransaction {
  /** The message as a source would send it on `tx.<channel>`. */
  readonly tx: Transaction;
  /** Whether the transaction is fraud (ground truth, for evaluation). */
  readonly isFraud: boolean;
  /** Which scenario made it fraud; 0 when genuine. */
  readonly scenario: FraudScenario;
}

/** A transaction in the merged event stream. */
export interface TransactionEvent extends SimulatedTransaction {
  readonly kind: 'transaction';
}

/** A fraud label in the merged event stream, at its `reportedAt` time. */
export interface LabelEvent {
  readonly kind: 'label';
  /** The message as it travels on `tx.labels`. */
  readonly label: FraudLabel;
  /** Customer of the labelled transaction: the Kafka key, so a label shares its card's partition. */
  readonly customerId: string;
}

/**
 * One event of the simulation, in event-time order: transactions at their `eventTime`, labels at
 * their `reportedAt`. Only fraud is labelled; genuine transactions are never labelled explicitly.
 */
export type SimulatedEvent = TransactionEvent | LabelEvent;

/** One line of the truth file: what the simulator knows about a transaction. */
export const GroundTruthV1 = z.strictObject({
  transactionId: z.string().min(1),
  isFraud: z.boolean(),
  scenario: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
});
/** A ground-truth record of the truth file. */
export type GroundTruth = z.infer<typeof GroundTruthV1>;

/** The truth record of a simulated transaction. */
export function groundTruthOf(simulated: SimulatedTransaction): GroundTruth {
  return {
    transactionId: simulated.tx.transactionId,
    isFraud: simulated.isFraud,
    scenario: simulated.scenario,
  };
}

/** The event time of an event in epoch milliseconds: `eventTime`, or a label's `reportedAt`. */
export function eventTimeMs(event: SimulatedEvent): number {
  return Date.parse(event.kind === 'transaction' ? event.tx.eventTime : event.label.reportedAt);
}
