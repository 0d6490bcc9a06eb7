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
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: string;
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
