import { Admin, compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka';
import type { BaseOptions, MessageToProduce, Partitioner } from '@platformatic/kafka';
import { toBuffer } from './bytes';
import { wrapPlatformaticAdmin } from './platformatic-admin';
import { PlatformaticConsumer } from './platformatic-consumer';
import { platformaticBaseOptions, reportUnreachable } from './platformatic-options';
import { explainConnectError } from './security';
import type { KafkaClient, KafkaClientOptions, KafkaProducer, OutgoingMessage } from './types';
import { createUnreachableReport } from './unreachable-report';

type Bytes = Buffer;

/**
 * kafkajs's (and the Java client's) partitioner: a keyed message goes to
 * `murmur2(key) & 0x7fffffff` modulo the partition count, so a key stays on its partition
 * whichever client wrote it; a message without a key goes round robin. The library's own default
 * hashes differently (`>>> 0`) and sends every keyless message to partition 0.
 */
export function kafkajsCompatiblePartitioner(): Partitioner<Bytes, Bytes, Bytes, Bytes> {
  const next = new Map<string, number>();
  return (message, key) => {
    if (Buffer.isBuffer(key)) return compatibilityPartitioner(message, key);
    const partition = next.get(message.topic) ?? 0;
    next.set(message.topic, (partition + 1) % 0x7fffffff);
    return partition;
  };
}

function toRecord(
  topic: string,
  message: OutgoingMessage,
): MessageToProduce<Bytes, Bytes, Bytes, Bytes> {
  const headers = new Map<Bytes, Bytes>();
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers.set(Buffer.from(name), Buffer.from(value));
  }
  const key = toBuffer(message.key);
  const value = toBuffer(message.value);
  return {
    topic,
    ...(key === null ? {} : { key }),
    ...(value === null ? {} : { value }),
    headers,
    ...(message.partition === undefined ? {} : { partition: message.partition }),
  };
}

/** The {@link KafkaClient} on @platformatic/kafka. Nothing connects until a producer, consumer or admin is asked for. */
export function createPlatformaticClient(options: KafkaClientOptions): KafkaClient {
  const logger = options.logger.child({ component: 'kafka', kafkaClient: 'platformatic' });
  const report = createUnreachableReport(logger);
  const base: BaseOptions = platformaticBaseOptions(options, logger, report);
  const explain = (error: unknown): ReturnType<typeof explainConnectError> =>
    explainConnectError(error, options);
  // The library connects on first use; asking for the brokers' metadata here makes a wrong
  // address, password or CA fail where kafkajs's `connect()` does, with the same explanation.
  const connected = async <Client extends { metadata: Admin['metadata']; close(): Promise<void> }>(
    client: Client,
  ): Promise<Client> => {
    try {
      await client.metadata({ topics: [], forceUpdate: true });
      return client;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw explain(error);
    }
  };
  return {
    async producer(producerOptions = {}) {
      const producer = await connected(
        new Producer<Bytes, Bytes, Bytes, Bytes>({
          ...base,
          idempotent: producerOptions.idempotent ?? false,
          acks: ProduceAcks.ALL,
          autocreateTopics: false,
          partitioner: kafkajsCompatiblePartitioner(),
        }),
      );
      const wrapped: KafkaProducer = {
        async send(topic, messages) {
          if (messages.length === 0) return;
          await producer.send({
            messages: messages.map((message) => toRecord(topic, message)),
            acks: ProduceAcks.ALL,
          });
        },
        disconnect: () => producer.close(),
      };
      return wrapped;
    },
    consumer(consumerOptions) {
      return new PlatformaticConsumer(consumerOptions, {
        base,
        logger,
        explain,
        async resolveTopics(topics) {
          if (topics.every((topic) => typeof topic === 'string')) return [...topics] as string[];
          const admin = await connected(new Admin(base));
          try {
            const all = await admin.listTopics();
            return [
              ...new Set(
                topics.flatMap((topic) =>
                  typeof topic === 'string' ? [topic] : all.filter((name) => topic.test(name)),
                ),
              ),
            ];
          } finally {
            await admin.close();
          }
        },
      });
    },
    async admin() {
      return wrapPlatformaticAdmin(await connected(new Admin(base)));
    },
    async probe() {
      const admin = new Admin({ ...base, retries: 0 });
      try {
        await admin.metadata({ topics: [], forceUpdate: true });
      } catch (error) {
        // Without retries the library's retry hook never runs: report the failed connect here.
        reportUnreachable(error, report, logger);
        throw explain(error);
      } finally {
        await admin.close().catch(() => undefined);
      }
    },
  };
}
