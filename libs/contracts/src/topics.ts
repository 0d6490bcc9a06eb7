import type { Channel } from './transaction';

/** Default Kafka topic and RabbitMQ names (ARCHITECTURE.md); every service lets config override them. */
export const DEFAULT_NAMES = {
  labelsTopic: 'tx.labels',
  deadLetterTopic: 'tx.dlq',
  scoresTopic: 'tx.scores',
  exchange: 'streamtrain.events',
  deadLetterExchange: 'streamtrain.dlx',
} as const;

/** The Kafka topic of a source channel: `tx.<channel>`. */
export function transactionTopic(channel: Channel): string {
  return `tx.${channel}`;
}
