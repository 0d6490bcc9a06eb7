import { AssignerProtocol, ConfigResourceTypes, ConfigSource, Kafka } from 'kafkajs';
import type { Admin, Consumer, KafkaConfig, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { toBuffer } from './bytes';
import { isUnknownTopic, retryWhileTopicUnknown } from './kafka-errors';
import { partitionLag } from './lag';
import { pinoLogCreator } from './log-bridge';
import { explainConnectError, kafkajsSasl, kafkajsSsl } from './security';
import type {
  BatchControl,
  ConsumedMessage,
  KafkaAdmin,
  KafkaClient,
  KafkaClientOptions,
  KafkaConsumer,
  KafkaProducer,
  PartitionLag,
} from './types';

function wrapProducer(producer: Producer): KafkaProducer {
  return {
    async send(topic, messages) {
      if (messages.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: messages.map((message) => ({
          key: toBuffer(message.key),
          value: toBuffer(message.value),
          headers: message.headers,
          partition: message.partition,
        })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}

function headersOf(
  raw: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    headers[name] = first === undefined ? undefined : first.toString();
  }
  return headers;
}

function wrapConsumer(consumer: Consumer, logger: Logger, concurrency: number): KafkaConsumer {
  let running = false;
  let stopping = false;
  let assignment: Record<string, number[]> = {};
  // Revoked partitions: a batch in hand for one of them must not be committed or finished.
  const generation = { value: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    generation.value += 1;
    assignment = event.payload.memberAssignment;
    running = true;
    logger.info({ assignment, groupId: event.payload.groupId }, 'joined consumer group');
  });
  consumer.on(consumer.events.STOP, () => {
    running = false;
  });
  return {
    async run(options) {
      await consumer.connect();
      await consumer.subscribe({
        topics: [...options.topics],
        fromBeginning: options.fromBeginning ?? true,
      });
      consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload;
        logger.error({ err: error, restart }, 'consumer crashed');
        if (!restart) options.onFatal(error);
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: async (payload) => {
          // kafkajs's payload functions are closures; kept on `payload` for the unbound-method rule.
          const { batch } = payload;
          const joinedAt = generation.value;
          const messages: ConsumedMessage[] = batch.messages.map((message) => ({
            key: message.key,
            value: message.value,
            offset: message.offset,
            timestamp: message.timestamp,
            headers: headersOf(message.headers),
            size: message.value?.length ?? 0,
          }));
          const control: BatchControl = {
            heartbeat: () => payload.heartbeat(),
            isStale: () =>
              stopping ||
              !payload.isRunning() ||
              payload.isStale() ||
              generation.value !== joinedAt,
            markRead: (offset) => payload.resolveOffset(offset),
            async commit(offset) {
              payload.resolveOffset(offset);
              await payload.commitOffsetsIfNecessary({
                topics: [
                  {
                    topic: batch.topic,
                    partitions: [
                      { partition: batch.partition, offset: (BigInt(offset) + 1n).toString() },
                    ],
                  },
                ],
              });
            },
          };
          await options.handler(
            { topic: batch.topic, partition: batch.partition, messages },
            control,
          );
          // "Resolve to move on": the next fetch starts after the batch, committed or not (kafkajs
          // would fetch the unresolved rest again, at once and forever).
          const last = messages[messages.length - 1];
          if (last !== undefined && !control.isStale()) payload.resolveOffset(last.offset);
        },
      });
    },
    async disconnect() {
      stopping = true;
      await consumer.disconnect();
      running = false;
    },
    isRunning: () => running,
    assignment: () => assignment,
  };
}

function wrapAdmin(admin: Admin): KafkaAdmin {
  return {
    async ensureTopics(topics) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((spec) => !existing.has(spec.topic));
      if (missing.length === 0) return;
      const created = admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions ?? 4,
          replicationFactor: 1,
          configEntries: Object.entries(spec.configEntries ?? {}).map(([name, value]) => ({
            name,
            value,
          })),
        })),
      });
      await created.catch(async (error: unknown) => {
        // Created, but kafkajs gave up waiting for the leaders as soon as the broker answered
        // "unknown topic" (its metadata cache lags the controller on a busy machine): wait on.
        if (!isUnknownTopic(error)) throw error;
        const names = missing.map((spec) => spec.topic);
        await retryWhileTopicUnknown(async () => {
          const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
          const leaderless = described.filter(
            (topic) => topic.partitions.length === 0 || topic.partitions.some((p) => p.leader < 0),
          );
          if (leaderless.length > 0) {
            throw Object.assign(
              new Error(`no leader yet: ${leaderless.map((t) => t.name).join(', ')}`),
              {
                type: 'LEADER_NOT_AVAILABLE',
              },
            );
          }
        });
      });
    },
    async deleteTopics(topics) {
      if (topics.length === 0) return;
      // A topic created a moment ago may not have reached the broker's metadata yet.
      await retryWhileTopicUnknown(() => admin.deleteTopics({ topics: [...topics] }));
    },
    listTopics: () => admin.listTopics(),
    async groupLag(groupId, topics) {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      const lags: PartitionLag[] = [];
      for (const { topic, partitions } of committed) {
        const latest = new Map(
          (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]),
        );
        for (const { partition, offset } of partitions) {
          const committedOffset = offset === '-1' ? null : offset;
          lags.push(partitionLag(topic, partition, latest.get(partition) ?? '0', committedOffset));
        }
      }
      return lags;
    },
    async latestOffsets(topic) {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        offset: p.high,
      }));
    },
    async partitionOffsets(topic) {
      return (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        earliest: p.low,
        latest: p.high,
      }));
    },
    async committedOffsets(groupId) {
      const committed = await admin.fetchOffsets({ groupId });
      return committed.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => ({
          topic,
          partition,
          offset: offset === '-1' ? null : offset,
        })),
      );
    },
    async describeGroups(groupIds) {
      if (groupIds.length === 0) return [];
      const { groups } = await admin.describeGroups([...groupIds]);
      return groups.map((group) => ({
        groupId: group.groupId,
        state: group.state,
        protocolType: group.protocolType,
        members: group.members.map((member) => {
          let assignment: Record<string, number[]> = {};
          if (group.protocolType === 'consumer' && member.memberAssignment.length > 0) {
            assignment =
              AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
          }
          return {
            memberId: member.memberId,
            clientId: member.clientId,
            clientHost: member.clientHost,
            assignment,
          };
        }),
      }));
    },
    async maxMessageBytes(topics) {
      if (topics.length === 0) return {};
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((topic) => ({
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configNames: ['max.message.bytes'],
        })),
      });
      const limits: Record<string, number> = {};
      for (const resource of described.resources) {
        const entry = resource.configEntries.find(
          (config) => config.configName === 'max.message.bytes',
        );
        if (entry !== undefined) limits[resource.resourceName] = Number(entry.configValue);
      }
      return limits;
    },
    async setMaxMessageBytes(topic, bytes) {
      // Incremental alter is not in kafkajs 2.2; AlterConfigs replaces the topic's overrides, so
      // the others are read first and written back.
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      const overrides = (described.resources[0]?.configEntries ?? [])
        .filter((config) => config.configSource === ConfigSource.TOPIC_CONFIG)
        .filter((config) => config.configName !== 'max.message.bytes')
        .map((config) => ({ name: config.configName, value: config.configValue }));
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [...overrides, { name: 'max.message.bytes', value: String(bytes) }],
          },
        ],
      });
    },
    disconnect: () => admin.disconnect(),
  };
}

/** The {@link KafkaClient} on kafkajs. Nothing connects until a producer, consumer or admin is asked for. */
export function createKafkajsClient(options: KafkaClientOptions): KafkaClient {
  const logger = options.logger.child({ component: 'kafka', kafkaClient: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    // One log bridge, so the probe's failures and the clients' share one unreachable report.
    logCreator: pinoLogCreator(logger),
    retry: { initialRetryTime: 300, retries: 8 },
    ...(options.ssl === undefined ? {} : { ssl: kafkajsSsl(options.ssl) }),
    ...(options.sasl === undefined ? {} : { sasl: kafkajsSasl(options.sasl) }),
  };
  const kafka = new Kafka(config);
  // kafkajs connects a cluster with the client's retry settings, not an admin's: the probe needs
  // a client of its own.
  let probing: Kafka | undefined;
  // A connection failure says which brokers were tried and, for refused credentials or an
  // untrusted certificate, what to fix (not retriable: retrying cannot help).
  const connectOrExplain = async (connect: () => Promise<void>): Promise<void> => {
    try {
      await connect();
    } catch (error) {
      throw explainConnectError(error, options);
    }
  };
  return {
    async producer(producerOptions = {}) {
      const producer = kafka.producer({
        idempotent: producerOptions.idempotent ?? false,
        allowAutoTopicCreation: false,
        maxInFlightRequests: producerOptions.idempotent ? 1 : undefined,
      });
      await connectOrExplain(() => producer.connect());
      return wrapProducer(producer);
    },
    consumer(consumerOptions) {
      const consumer = kafka.consumer({
        groupId: consumerOptions.groupId,
        maxBytesPerPartition: consumerOptions.maxBytesPerPartition ?? 1_048_576,
        maxBytes: consumerOptions.maxBytes ?? 10_485_760,
        minBytes: consumerOptions.minBytes ?? 1,
        maxWaitTimeInMs: consumerOptions.maxWaitTimeMs ?? 100,
        sessionTimeout: consumerOptions.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: consumerOptions.heartbeatIntervalMs ?? 3_000,
        allowAutoTopicCreation: false,
      });
      return wrapConsumer(consumer, logger, consumerOptions.partitionsConsumedConcurrently ?? 1);
    },
    async admin() {
      const admin = kafka.admin();
      await connectOrExplain(() => admin.connect());
      return wrapAdmin(admin);
    },
    async probe() {
      probing ??= new Kafka({ ...config, retry: { retries: 0 } });
      const admin = probing.admin();
      try {
        await connectOrExplain(() => admin.connect());
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}
