import { DEFAULT_NAMES, transactionTopic } from '@streamtrain/contracts';
import type { SimulatedEvent } from '../events';

/** A message as the Kafka producer takes it. */
export interface KeyedMessage {
  /** The customer id: one customer's transactions and labels share a partition, hence an order. */
  readonly key: string;
  /** The JSON of the contract message, and nothing else: the ground truth never travels. */
  readonly value: string;
}

/** A message and the topic it goes to. */
export interface KafkaRecord extends KeyedMessage {
  readonly topic: string;
}

/**
 * Where an event goes on Kafka: a transaction to `tx.<channel>`, a label to the labels topic,
 * both keyed by customer id. `topicPrefix` is put before every topic name, to keep a trial run
 * apart from the real topics.
 */
export function toKafkaRecord(
  event: SimulatedEvent,
  labelsTopic: string = DEFAULT_NAMES.labelsTopic,
  topicPrefix = '',
): KafkaRecord {
  return event.kind === 'transaction'
    ? {
        topic: topicPrefix + transactionTopic(event.tx.channel),
        key: event.tx.customerId,
        value: JSON.stringify(event.tx),
      }
    : {
        topic: topicPrefix + labelsTopic,
        key: event.customerId,
        value: JSON.stringify(event.label),
      };
}
