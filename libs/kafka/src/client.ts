import { DEFAULT_KAFKA_CLIENT } from '@streamtrain/config';
import { createKafkajsClient } from './kafkajs-client';
import { createPlatformaticClient } from './platformatic-client';
import type { KafkaClient, KafkaClientOptions } from './types';

/**
 * Creates the project's Kafka client on the library `options.client` names (kafkajs or
 * @platformatic/kafka; both keep the interface's guarantees). Nothing connects until a producer,
 * consumer or admin is asked for.
 */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const client = options.client ?? DEFAULT_KAFKA_CLIENT;
  return client === 'platformatic'
    ? createPlatformaticClient(options)
    : createKafkajsClient(options);
}
