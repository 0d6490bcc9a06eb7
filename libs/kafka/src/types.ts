import type { Logger } from 'pino';
import type { KafkaClientName, KafkaSasl, KafkaTls } from '@streamtrain/config';

/** A message to produce. */
export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
  partition?: number;
}

/** A message as consumed. Offsets are strings: Kafka offsets exceed 2^53. */
export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  /** Broker timestamp (ms since epoch, as a string), the producer's or the log-append time. */
  timestamp: string;
  headers: Record<string, string | undefined>;
  /** Size of the value in bytes. */
  size: number;
}

/** A run of consecutive messages of one topic partition. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
}

/** What a batch handler may do besides returning. */
export interface BatchControl {
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** True once the partition was revoked (rebalance) or the consumer is stopping: drop the rest. */
  isStale(): boolean;
  /**
   * Marks everything up to and including `offset` as processed and commits it. Call it only after
   * the effect of those messages is durable (e.g. after the warehouse commit).
   */
  commit(offset: string): Promise<void>;
  /**
   * Marks everything up to and including `offset` as read without committing it, so the next
   * fetch moves on: for readers that keep no position in Kafka (the console's dead-letter view).
   */
  markRead(offset: string): void;
}

/** Handles one batch. Resolve to move on; throw to have the batch redelivered after a backoff. */
export type BatchHandler = (batch: ConsumedBatch, control: BatchControl) => Promise<void>;

/** Options of `createKafkaClient`. */
export interface KafkaClientOptions {
  brokers: readonly string[];
  /** The client library behind the interface. @default DEFAULT_KAFKA_CLIENT ('kafkajs') */
  client?: KafkaClientName;
  clientId: string;
  logger: Logger;
  /** Connection timeout. @default 5000 */
  connectionTimeoutMs?: number;
  /** TLS; absent means plaintext. `{}` trusts the system's CAs and sends no client certificate. */
  ssl?: KafkaTls;
  /** SASL authentication; absent means none. */
  sasl?: KafkaSasl;
}

/** Options of {@link KafkaClient.producer}. */
export interface ProducerOptions {
  /**
   * The idempotent producer (exactly-once per partition on retries). kafkajs marks it
   * experimental; downstream writes are idempotent by id anyway. @default false
   */
  idempotent?: boolean;
}

/** A connected producer. Every send waits for all in-sync replicas (acks = all). */
export interface KafkaProducer {
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Options of {@link KafkaClient.consumer}. */
export interface ConsumerOptions {
  groupId: string;
  /** Bytes fetched per partition per request: bounds a batch and the memory it holds. @default 1048576 */
  maxBytesPerPartition?: number;
  /** Bytes per fetch over all partitions. @default 10485760 */
  maxBytes?: number;
  /** Bytes the broker waits to gather before answering a fetch. @default 1 */
  minBytes?: number;
  /** Longest the broker waits for `minBytes` (the linger of a batch). @default 100 */
  maxWaitTimeMs?: number;
  /** Partitions handled at once. @default 1 */
  partitionsConsumedConcurrently?: number;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** @default 3000 */
  heartbeatIntervalMs?: number;
}

/** Options of {@link KafkaConsumer.run}. */
export interface RunOptions {
  topics: readonly (string | RegExp)[];
  /** Where a group without committed offsets starts. @default true */
  fromBeginning?: boolean;
  handler: BatchHandler;
  /**
   * Called when the client gives up restarting the consumer after a crash. The service should
   * stop so its supervisor restarts the process.
   */
  onFatal: (error: Error) => void;
}

/** A consumer in a group; offsets are committed only through {@link BatchControl.commit}. */
export interface KafkaConsumer {
  run(options: RunOptions): Promise<void>;
  /** Stops fetching, lets the batch in hand finish, leaves the group. */
  disconnect(): Promise<void>;
  /** True once the consumer has joined its group and holds an assignment. */
  isRunning(): boolean;
  /** Partitions currently assigned, per topic. */
  assignment(): Record<string, number[]>;
}

/** Topic to create, if absent. */
export interface TopicSpec {
  topic: string;
  partitions?: number;
  configEntries?: Record<string, string>;
}

/** Offsets of a partition, for lag. */
export interface PartitionLag {
  topic: string;
  partition: number;
  latestOffset: string;
  committedOffset: string | null;
  lag: string;
}

/** The earliest and latest offset of a partition. */
export interface PartitionOffsets {
  partition: number;
  earliest: string;
  latest: string;
}

/** A committed offset of a consumer group. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** `null` when the group has committed nothing on this partition. */
  offset: string | null;
}

/** A member of a consumer group and the partitions it holds. */
export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: Record<string, number[]>;
}

/** A consumer group's state (`Stable`, `Empty`, `Dead`, …) and members. */
export interface GroupDescription {
  groupId: string;
  state: string;
  /** `''` for a group that only commits offsets and never joins (a "simple" consumer). */
  protocolType: string;
  members: GroupMember[];
}

/** Administrative operations. */
export interface KafkaAdmin {
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Committed offset and lag of `groupId` on every partition of `topics`. */
  groupLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]>;
  /** Latest offset of each partition of `topic`. */
  latestOffsets(topic: string): Promise<{ partition: number; offset: string }[]>;
  /** Earliest and latest offset of each partition of `topic`. */
  partitionOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Every offset `groupId` has committed, on every topic it committed to. */
  committedOffsets(groupId: string): Promise<CommittedOffset[]>;
  /** State and members (with their assignments) of each group. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /** The `max.message.bytes` of each topic (the broker's default when not set on the topic). */
  maxMessageBytes(topics: readonly string[]): Promise<Record<string, number>>;
  /** Sets a topic's `max.message.bytes` (other topic settings are left as they are). */
  setMaxMessageBytes(topic: string, bytes: number): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The project's Kafka client: the only place a Kafka library is used (kafkajs or
 * @platformatic/kafka, see docs/DEPENDENCIES.md).
 */
export interface KafkaClient {
  producer(options?: ProducerOptions): Promise<KafkaProducer>;
  consumer(options: ConsumerOptions): KafkaConsumer;
  admin(): Promise<KafkaAdmin>;
  /**
   * One attempt, without the client's retries, to reach a broker and authenticate: resolves when
   * it worked, rejects with the explained error (`BROKER_UNAVAILABLE`, `KAFKA_AUTH_FAILED`,
   * `KAFKA_TLS_FAILED`). An unreachable broker is logged by the same one-warning rule as every
   * other connect. For a caller that does its own waiting, such as a starting service
   * (service-kit's `connectKafkaWhenReachable`); `producer()` and `admin()` retry for about a
   * minute and then give up.
   */
  probe(): Promise<void>;
}
