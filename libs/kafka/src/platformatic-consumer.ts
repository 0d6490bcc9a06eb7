import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import type { BaseOptions, Message, MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { backoffMs } from './platformatic-options';
import type {
  BatchControl,
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  KafkaConsumer,
  RunOptions,
} from './types';

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** Tries of one batch before the consumer is restarted from the committed offsets (kafkajs: 8). */
const BATCH_RETRIES = 8;

/** The messages fetched for one partition and not yet handed to the handler. */
interface PartitionQueue {
  topic: string;
  partition: number;
  messages: RawMessage[];
  bytes: number;
  busy: boolean;
}

const bytesOf = (message: RawMessage): number =>
  (message.value?.length ?? 0) + (message.key?.length ?? 0);

/** The group generation the message was fetched in (the library notes it on each message). */
function generationOf(message: RawMessage): number {
  const consumer = message.metadata.consumer as { generationId?: unknown } | undefined;
  return typeof consumer?.generationId === 'number' ? consumer.generationId : Infinity;
}

function consumed(message: RawMessage): ConsumedMessage {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of message.headerEntries) {
    const key = name.toString();
    // The first of repeated headers, as the kafkajs adapter keeps it.
    if (!(key in headers)) headers[key] = value?.toString();
  }
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    offset: message.offset.toString(),
    timestamp: message.timestamp.toString(),
    headers,
    size: message.value?.length ?? 0,
  };
}

/** Options of {@link PlatformaticConsumer}, besides the interface's {@link ConsumerOptions}. */
export interface PlatformaticConsumerDeps {
  base: BaseOptions;
  logger: Logger;
  /** Resolves topic patterns to the topics that match now (kafkajs subscribes the same way). */
  resolveTopics: (topics: readonly (string | RegExp)[]) => Promise<string[]>;
  /** Turns a failed start into the project's error (refused credentials, untrusted CA, …). */
  explain: (error: unknown) => Error & { retriable?: boolean };
}

/**
 * {@link KafkaConsumer} on @platformatic/kafka. The library hands out messages one by one on a
 * stream; this class groups them into per-partition batches, runs at most
 * `partitionsConsumedConcurrently` partitions at once and one batch per partition at a time (in
 * offset order), and bounds what it holds to `maxBytes`, so that the stream stops fetching while
 * the handlers are busy. Offsets are committed only through {@link BatchControl.commit}.
 *
 * What kafkajs does on its own is kept: a batch whose handler throws is retried with backoff,
 * and after {@link BATCH_RETRIES} tries the consumer is restarted from the committed offsets; a
 * consumer that loses its group or its stream is restarted too, forever, unless the error can
 * never heal (credentials, TLS), which goes to `onFatal`.
 */
export class PlatformaticConsumer implements KafkaConsumer {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private runOptions: RunOptions | undefined;
  private topics: string[] = [];
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly inFlight = new Set<Promise<void>>();
  private queuedBytes = 0;
  private generation = -1;
  private joined = false;
  private stopping = false;
  private restarting: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private readonly concurrency: number;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly deps: PlatformaticConsumerDeps,
  ) {
    this.concurrency = options.partitionsConsumedConcurrently ?? 1;
    this.maxBytes = options.maxBytes ?? 10_485_760;
    this.maxBytesPerPartition = options.maxBytesPerPartition ?? 1_048_576;
  }

  async run(options: RunOptions): Promise<void> {
    this.runOptions = options;
    this.topics = await this.deps.resolveTopics(options.topics);
    try {
      await this.start();
    } catch (error) {
      await this.teardown();
      throw this.deps.explain(error);
    }
  }

  isRunning(): boolean {
    return this.joined && this.stream !== undefined && !this.stopping;
  }

  assignment(): Record<string, number[]> {
    const assignment: Record<string, number[]> = {};
    for (const { topic, partitions } of this.consumer?.assignments ?? []) {
      assignment[topic] = [...partitions];
    }
    return assignment;
  }

  /** Stops fetching, lets the batches in hand finish (they see `isStale()`), leaves the group. */
  disconnect(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      await this.restarting?.catch(() => undefined);
      await this.drain();
      await this.teardown();
    })();
    return this.stopped;
  }

  private async start(): Promise<void> {
    const run = this.runOptions as RunOptions;
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...this.deps.base,
      groupId: this.options.groupId,
      autocommit: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 3_000,
      // kafkajs's default; the library's own is 102 s.
      rebalanceTimeout: 60_000,
      minBytes: this.options.minBytes ?? 1,
      maxBytes: this.maxBytes,
      maxBytesPerPartition: this.maxBytesPerPartition,
      maxWaitTime: this.options.maxWaitTimeMs ?? 100,
      // kafkajs's round-robin protocol (name and version): members on either client can share a
      // group, so a service can move from one client to the other one instance at a time.
      protocols: [{ name: 'RoundRobinAssigner', version: 0 }],
    });
    this.consumer = consumer;
    consumer.on('consumer:group:join', (payload) => {
      if (this.consumer !== consumer) return;
      this.generation = payload.generationId ?? this.generation + 1;
      this.joined = true;
      // On a join the stream reads every partition again from its committed offset: what was
      // fetched before and not yet handed out would come twice.
      for (const queue of this.queues.values()) {
        this.queuedBytes -= queue.bytes;
        queue.messages = [];
        queue.bytes = 0;
      }
      this.deps.logger.info(
        { assignment: this.assignment(), groupId: payload.groupId },
        'joined consumer group',
      );
    });
    consumer.on('consumer:group:leave', () => {
      if (this.consumer === consumer) this.joined = false;
    });
    consumer.on('consumer:heartbeat:error', (payload) => {
      this.deps.logger.debug({ err: payload.error }, 'heartbeat failed');
    });
    // Emitted when a rejoin failed after the library's retries: start over on a new member.
    consumer.on('error', (error: Error) => this.restart(error));
    const stream = await consumer.consume({
      topics: this.topics,
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode:
        (run.fromBeginning ?? true)
          ? MessagesStreamFallbackModes.EARLIEST
          : MessagesStreamFallbackModes.LATEST,
      autocommit: false,
    });
    if (this.consumer !== consumer) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    stream.on('readable', () => this.pump());
    stream.on('error', (error: Error) => this.restart(error));
    stream.on('close', () => {
      if (this.stream === stream) this.restart(new Error('the message stream closed'));
    });
    if (this.stopping) await this.teardown();
  }

  /** Reads what the stream holds into the partition queues, up to `maxBytes`, then schedules. */
  private pump(): void {
    const stream = this.stream;
    while (stream !== undefined && !this.stopping && this.queuedBytes < this.maxBytes) {
      const message = stream.read() as RawMessage | null;
      if (message === null) break;
      this.enqueue(message);
    }
    this.schedule();
  }

  private enqueue(message: RawMessage): void {
    const { topic, partition } = message;
    // Fetched before a rebalance, for a partition this member no longer holds: its new owner
    // reads it from the committed offset.
    if (!this.isAssigned(topic, partition) || generationOf(message) < this.generation) return;
    const key = `${topic}:${partition}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = { topic, partition, messages: [], bytes: 0, busy: false };
      this.queues.set(key, queue);
    }
    const bytes = bytesOf(message);
    queue.messages.push(message);
    queue.bytes += bytes;
    this.queuedBytes += bytes;
  }

  private isAssigned(topic: string, partition: number): boolean {
    return (this.consumer?.assignments ?? []).some(
      (assigned) => assigned.topic === topic && assigned.partitions.includes(partition),
    );
  }

  /** Starts batches on idle partitions with messages, oldest queue first, up to the concurrency. */
  private schedule(): void {
    if (this.stopping || this.restarting !== undefined) return;
    for (const [key, queue] of this.queues) {
      if (this.inFlight.size >= this.concurrency) return;
      if (queue.busy || queue.messages.length === 0) continue;
      let bytes = 0;
      let count = 0;
      while (count < queue.messages.length) {
        const next = bytesOf(queue.messages[count] as RawMessage);
        if (count > 0 && bytes + next > this.maxBytesPerPartition) break;
        bytes += next;
        count += 1;
      }
      const messages = queue.messages.splice(0, count);
      queue.bytes -= bytes;
      queue.busy = true;
      // To the back of the line: partitions take turns.
      this.queues.delete(key);
      this.queues.set(key, queue);
      const running = this.handle(queue, messages).finally(() => {
        this.inFlight.delete(running);
        queue.busy = false;
        this.queuedBytes -= bytes;
        this.pump();
      });
      this.inFlight.add(running);
    }
  }

  private async handle(queue: PartitionQueue, messages: RawMessage[]): Promise<void> {
    const run = this.runOptions as RunOptions;
    const generation = this.generation;
    const { topic, partition } = queue;
    // Offsets the handler has marked done; a retry hands over only what follows.
    let doneUpTo = -1n;
    const control: BatchControl = {
      // The library heartbeats on its own timer, whatever the handler does.
      heartbeat: () => Promise.resolve(),
      isStale: () =>
        this.stopping ||
        this.restarting !== undefined ||
        this.generation !== generation ||
        !this.isAssigned(topic, partition),
      markRead: (offset) => {
        if (BigInt(offset) > doneUpTo) doneUpTo = BigInt(offset);
      },
      commit: async (offset) => {
        const wanted = BigInt(offset);
        let message: RawMessage | undefined;
        for (let index = messages.length - 1; index >= 0 && message === undefined; index -= 1) {
          if ((messages[index] as RawMessage).offset === wanted) message = messages[index];
        }
        if (message === undefined) {
          throw new Error(`offset ${offset} is not in the batch of ${topic}:${partition}`);
        }
        if (BigInt(offset) > doneUpTo) doneUpTo = BigInt(offset);
        // A partition moved to another member is its to commit now.
        if (!this.isAssigned(topic, partition)) return;
        await message.commit();
      },
    };
    for (let attempt = 0; ; attempt += 1) {
      const rest = messages.filter((message) => message.offset > doneUpTo);
      if (rest.length === 0) return;
      const batch: ConsumedBatch = { topic, partition, messages: rest.map(consumed) };
      try {
        await run.handler(batch, control);
        return;
      } catch (error) {
        if (control.isStale()) return;
        if (attempt >= BATCH_RETRIES) {
          this.restart(error as Error);
          return;
        }
        const delay = backoffMs(attempt + 1);
        this.deps.logger.error(
          { err: error, topic, partition, attempt: attempt + 1, delayMs: delay },
          'batch handler failed; retrying the batch',
        );
        await sleep(delay);
        if (control.isStale()) return;
      }
    }
  }

  /**
   * Starts the consumer over on a new member, from the committed offsets: after a batch failed
   * all its tries, the stream broke or the group could not be rejoined. An error that retrying
   * cannot heal goes to `onFatal`.
   */
  private restart(error: Error): void {
    if (this.stopping || this.restarting !== undefined) return;
    this.deps.logger.error({ err: error }, 'consumer failed; restarting it');
    this.joined = false;
    this.restarting = (async () => {
      await this.drain();
      await this.teardown();
      for (let attempt = 1; !this.stopping; attempt += 1) {
        try {
          await this.start();
          return;
        } catch (startError) {
          const explained = this.deps.explain(startError);
          await this.teardown();
          if (explained.retriable === false) {
            (this.runOptions as RunOptions).onFatal(explained);
            return;
          }
          this.deps.logger.warn(
            { err: startError, attempt },
            'restarting the consumer failed; trying again',
          );
          await sleep(backoffMs(attempt));
        }
      }
    })().finally(() => {
      this.restarting = undefined;
      this.pump();
    });
  }

  /** Waits for the batches in hand and drops what was fetched but not handed out. */
  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.queues.clear();
    this.queuedBytes = 0;
  }

  /** Closes the stream (its pending commits are flushed) and the consumer (it leaves the group). */
  private async teardown(): Promise<void> {
    const { stream, consumer } = this;
    this.stream = undefined;
    this.consumer = undefined;
    this.joined = false;
    try {
      await stream?.close();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'closing the message stream failed');
    }
    try {
      await consumer?.close(true);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'leaving the consumer group failed');
    }
  }
}
