import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { ROUTING_KEYS, StreamtrainError, tlsVerifyFailure } from '@streamtrain/contracts';

/** Options of {@link connectAmqp}. */
export interface AmqpOptions {
  url: string;
  /** The topic exchange events travel on. */
  exchange: string;
  /** Where rejected or unroutable deliveries end, with their reason. @default `${exchange}.dlx` */
  deadLetterExchange?: string;
  logger: Logger;
  /**
   * What a lost connection does. By default the client reconnects in-process with exponential
   * backoff (from `initialDelayMs`, doubling to `maxDelayMs`), declares the topology again and
   * resumes every consumer; meanwhile {@link AmqpClient.isConnected} is false and publishes are
   * rejected as retriable. `false`: a lost connection is final and `onFatal` is called (for
   * one-off tools that would rather stop).
   */
  reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number };
  /** Called when the connection is lost and `reconnect` is `false`. */
  onFatal?: (error: Error) => void;
  /** Told each time the connection is lost and each time it is back, for metrics. */
  onConnectionChange?: (state: 'lost' | 'restored') => void;
}

/** A message to publish, with a stable id so consumers can drop redeliveries. */
export interface OutgoingEvent {
  routingKey: string;
  messageId: string;
  /** JSON-serialised, unless already bytes. */
  body: unknown;
  headers?: Record<string, string>;
}

/** A delivery as a handler sees it. */
export interface IncomingEvent {
  routingKey: string;
  messageId: string | undefined;
  content: Buffer;
  redelivered: boolean;
  headers: Record<string, unknown>;
}

/**
 * What a handler decides: `ack` (done, or a redelivery of something done), or `dead-letter`
 * (bad input, kept on the dead-letter queue with its reason). A thrown error means "try again":
 * the delivery is requeued after a backoff.
 */
export type Verdict = { action: 'ack' } | { action: 'dead-letter'; code: string; reason: string };

/** Options of {@link AmqpClient.consume}. */
export interface ConsumeOptions {
  queue: string;
  routingKeys: readonly string[];
  /**
   * Declare `queue` exclusive to this connection and deleted with it, instead of as a shared
   * durable quorum queue: every instance then gets its own copy of each event (a fan-out, e.g.
   * every scorer instance loading a new champion). Events published while no instance runs are
   * not kept, so the consumer must read the current state at start. @default false
   */
  exclusive?: boolean;
  /** Unacknowledged deliveries at once. @default 8 */
  prefetch?: number;
  /** Delay before a failed delivery is requeued. @default 1000 */
  retryDelayMs?: number;
  handler: (event: IncomingEvent) => Promise<Verdict>;
  /** Told every verdict and failure, for metrics. */
  onOutcome?: (outcome: 'ack' | 'dead-letter' | 'retry', routingKey: string) => void;
  /**
   * Called once the consumer consumes again after a reconnect. An exclusive queue is deleted
   * with its connection, so what was published meanwhile is gone: read the current state here.
   */
  onResumed?: () => Promise<void>;
}

/** A running consumer. */
export interface ConsumerHandle {
  /** Stops new deliveries and waits for the ones in hand to finish. */
  cancel(): Promise<void>;
}

/** The project's RabbitMQ client: the only place amqplib is used. */
export interface AmqpClient {
  /** Publishes with publisher confirms and `mandatory`; rejects when nacked or unroutable. */
  publish(event: OutgoingEvent): Promise<void>;
  consume(options: ConsumeOptions): Promise<ConsumerHandle>;
  /** True while the connection is open and, after a reconnect, every consumer resumed. */
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * The durable queues of the event flow, named after the exchange so isolated test exchanges get
 * their own. Every service declares all of them at connect, so an event published before its
 * consumer first starts waits in its queue instead of being unroutable.
 */
export function topologyOf(
  exchange: string,
): Record<'pipeline' | 'trainer' | 'modelPublished', { queue: string; routingKeys: string[] }> {
  return {
    pipeline: { queue: `${exchange}.pipeline`, routingKeys: [ROUTING_KEYS.batchArrived] },
    trainer: { queue: `${exchange}.trainer`, routingKeys: [ROUTING_KEYS.featuresReady] },
    modelPublished: { queue: `${exchange}.models`, routingKeys: [ROUTING_KEYS.modelPublished] },
  };
}

// Promotions are few; the models queue keeps the latest ones for whoever reads it (the scorer,
// ops), bounded so an absent reader cannot fill the broker.
const QUEUE_ARGUMENTS: Record<string, Record<string, unknown>> = {
  models: { 'x-max-length': 1_000, 'x-overflow': 'drop-head' },
};

/** Name of the queue that keeps dead-lettered deliveries of `exchange`. */
export function deadLetterQueueName(deadLetterExchange: string): string {
  return `${deadLetterExchange}.queue`;
}

async function assertQueue(channel: Channel, queue: string, dlx: string): Promise<void> {
  const suffix = queue.slice(queue.lastIndexOf('.') + 1);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': dlx,
      'x-queue-type': 'quorum',
      ...(QUEUE_ARGUMENTS[suffix] ?? {}),
    },
  });
}

/** `host:port` of an AMQP URL, for messages (never its credentials). */
export function amqpServerOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return 'AMQP_URL';
  }
}

/** One connection with its publish channel and declared topology. */
interface Session {
  connection: ChannelModel;
  publishChannel: ConfirmChannel;
  /** Set once the connection has closed, for whatever reason. */
  closed: boolean;
}

/** A consumer the client keeps across reconnects. */
interface ManagedConsumer {
  options: ConsumeOptions;
  /** Opens a channel on `session` and consumes on it. */
  attach(session: Session): Promise<void>;
  handle: ConsumerHandle;
}

const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 10_000 };

function brokerUnavailable(message: string, cause?: unknown): StreamtrainError {
  return new StreamtrainError('BROKER_UNAVAILABLE', message, { retriable: true, cause });
}

/** Calls `fn`, ignoring the error amqplib throws when its channel or connection is closed. */
function ignoringClosed(fn: () => unknown): void {
  try {
    const result = fn();
    if (result instanceof Promise) result.catch(() => undefined);
  } catch {
    // The channel is gone; the broker redelivers what was not acknowledged on it.
  }
}

/**
 * Connects, declares the durable topology (topic exchange, dead-letter exchange and its queue)
 * and opens a confirm channel for publishing. A lost connection (a broker restart,
 * `rabbitmqctl stop_app`) is re-established in-process unless `reconnect` is `false`: the
 * topology is declared again and every consumer resumes, while `isConnected()` reports false
 * and publishes are refused as retriable (an outbox relay publishes them after the reconnect).
 * Deliveries in hand when the connection dropped are redelivered by the broker; handlers drop
 * redeliveries by message id.
 */
export async function connectAmqp(options: AmqpOptions): Promise<AmqpClient> {
  const logger = options.logger.child({ component: 'amqp' });
  const dlx = options.deadLetterExchange ?? `${options.exchange}.dlx`;
  const reconnect =
    options.reconnect === false ? undefined : { ...DEFAULT_RECONNECT, ...options.reconnect };

  // `mandatory` makes the broker return a message no queue takes; the confirm follows the
  // return, so the publish is rejected rather than silently dropped.
  const unroutable = new Set<string>();

  const open = async (): Promise<Session> => {
    let connection: ChannelModel;
    try {
      connection = await connect(options.url);
    } catch (error) {
      const tls = tlsVerifyFailure(error);
      if (tls !== undefined) {
        throw new StreamtrainError(
          'AMQP_TLS_FAILED',
          `the certificate of RabbitMQ at ${amqpServerOf(options.url)} is not trusted (${tls}); start ` +
            'the service with NODE_EXTRA_CA_CERTS=<the CA file> naming the CA that signed it ' +
            '(docs/OPERATIONS.md)',
          { retriable: false, cause: error },
        );
      }
      throw brokerUnavailable(`cannot reach RabbitMQ: ${(error as Error).message}`, error);
    }
    const opened: Partial<Session> & { closed: boolean } = { connection, closed: false };
    connection.on('close', () => {
      opened.closed = true;
    });
    connection.on('error', (error: Error) => logger.error({ err: error }, 'connection error'));
    connection.on('blocked', (reason: string) =>
      logger.warn({ reason }, 'broker blocked publishing'),
    );
    connection.on('unblocked', () => logger.info('broker unblocked publishing'));
    try {
      const publishChannel: ConfirmChannel = await connection.createConfirmChannel();
      publishChannel.on('error', (error: Error) =>
        logger.error({ err: error }, 'publish channel error'),
      );
      publishChannel.on('return', (message: ConsumeMessage) => {
        const id = message.properties.messageId as string | undefined;
        if (id !== undefined) unroutable.add(id);
      });
      await publishChannel.assertExchange(options.exchange, 'topic', { durable: true });
      await publishChannel.assertExchange(dlx, 'topic', { durable: true });
      await publishChannel.assertQueue(deadLetterQueueName(dlx), { durable: true });
      await publishChannel.bindQueue(deadLetterQueueName(dlx), dlx, '#');
      for (const { queue, routingKeys } of Object.values(topologyOf(options.exchange))) {
        await assertQueue(publishChannel, queue, dlx);
        for (const key of routingKeys) await publishChannel.bindQueue(queue, options.exchange, key);
      }
      opened.publishChannel = publishChannel;
      return opened as Session;
    } catch (error) {
      ignoringClosed(() => connection.close());
      throw brokerUnavailable(
        `cannot declare the RabbitMQ topology: ${(error as Error).message}`,
        error,
      );
    }
  };

  const publishConfirmed = (
    channel: ConfirmChannel,
    exchange: string,
    event: OutgoingEvent,
  ): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const body = Buffer.isBuffer(event.body)
        ? event.body
        : Buffer.from(JSON.stringify(event.body));
      // Throws (so rejects) when the channel is closed; a pending confirm fails when it closes.
      channel.publish(
        exchange,
        event.routingKey,
        body,
        {
          persistent: true,
          mandatory: true,
          messageId: event.messageId,
          contentType: 'application/json',
          timestamp: Math.floor(Date.now() / 1000),
          headers: event.headers,
        },
        (error: unknown) => {
          if (error) {
            reject(
              new StreamtrainError('AMQP_PUBLISH_NACKED', `broker nacked ${event.messageId}`, {
                retriable: true,
                cause: error,
              }),
            );
          } else if (unroutable.delete(event.messageId)) {
            reject(
              new StreamtrainError(
                'AMQP_PUBLISH_UNROUTABLE',
                `no queue is bound for ${event.routingKey} on ${exchange}`,
                {
                  retriable: true,
                },
              ),
            );
          } else {
            resolve();
          }
        },
      );
    });

  let session: Session | undefined = await open();
  let connected = true;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let lostAt = 0;
  const consumers = new Set<ManagedConsumer>();

  const reconnectLater = (attempt: number): void => {
    if (closing || reconnect === undefined) return;
    const delayMs =
      attempt === 0
        ? 0
        : Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** (attempt - 1));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void reconnectNow(attempt);
    }, delayMs);
  };

  /** Makes `current` the live session: a channel or the connection lost starts a reconnect. */
  const watch = (current: Session): void => {
    const lost = (error?: Error): void => {
      if (session !== current) return;
      session = undefined;
      connected = false;
      if (closing) return;
      const reason = error ?? new Error('connection closed by the broker');
      if (reconnect === undefined) {
        logger.error({ err: reason }, 'connection lost');
        options.onFatal?.(reason);
        return;
      }
      lostAt = Date.now();
      logger.warn({ err: reason }, 'connection lost; reconnecting');
      options.onConnectionChange?.('lost');
      ignoringClosed(() => current.connection.close());
      reconnectLater(0);
    };
    current.connection.on('close', lost);
    // A channel closed by a channel error leaves the connection up but the client unable to
    // publish (or a consumer idle): start over on a fresh connection.
    current.publishChannel.on('close', () => {
      if (!closing) lost(new Error('publish channel closed'));
    });
  };

  const reconnectNow = async (attempt: number): Promise<void> => {
    if (closing) return;
    let next: Session;
    try {
      next = await open();
      for (const consumer of consumers) await consumer.attach(next);
      if (next.closed) throw brokerUnavailable('connection closed while resuming');
    } catch (error) {
      logger.warn({ err: error, attempt: attempt + 1 }, 'reconnect failed; retrying');
      reconnectLater(attempt + 1);
      return;
    }
    if (closing) {
      ignoringClosed(() => next.connection.close());
      return;
    }
    session = next;
    connected = true;
    watch(next);
    logger.info(
      { downMs: Date.now() - lostAt, attempts: attempt + 1, consumers: consumers.size },
      'connection restored; consumers resumed',
    );
    options.onConnectionChange?.('restored');
    for (const consumer of consumers) {
      consumer.options.onResumed?.().catch((error: unknown) => {
        logger.error({ err: error, queue: consumer.options.queue }, 'resume hook failed');
      });
    }
  };

  watch(session);

  const createConsumer = (consumeOptions: ConsumeOptions): ManagedConsumer => {
    const inFlight = new Set<Promise<void>>();
    let cancelled = false;
    // The channel consuming now and its consumer tag; a reconnect replaces both.
    let live: { channel: Channel; consumerTag: string; open: boolean } | undefined;

    const attach = async (current: Session): Promise<void> => {
      const channel: Channel = await current.connection.createChannel();
      const state = { channel, consumerTag: '', open: true };
      channel.on('error', (error: Error) =>
        logger.error({ err: error, queue: consumeOptions.queue }, 'consumer channel error'),
      );
      channel.on('close', () => {
        state.open = false;
        // Closed under a live connection (a channel error): reconnect to consume again.
        if (!cancelled && !closing && session === current && !current.closed) {
          logger.warn({ queue: consumeOptions.queue }, 'consumer channel closed; reconnecting');
          ignoringClosed(() => current.connection.close());
        }
      });
      await channel.prefetch(consumeOptions.prefetch ?? 8);
      if (consumeOptions.exclusive === true) {
        await channel.assertQueue(consumeOptions.queue, {
          exclusive: true,
          autoDelete: true,
          durable: false,
          arguments: { 'x-dead-letter-exchange': dlx },
        });
      } else {
        await assertQueue(channel, consumeOptions.queue, dlx);
      }
      for (const key of consumeOptions.routingKeys) {
        await channel.bindQueue(consumeOptions.queue, options.exchange, key);
      }
      const handle = async (message: ConsumeMessage): Promise<void> => {
        const event: IncomingEvent = {
          routingKey: message.fields.routingKey,
          messageId: message.properties.messageId as string | undefined,
          content: message.content,
          redelivered: message.fields.redelivered,
          headers: message.properties.headers ?? {},
        };
        try {
          const verdict = await consumeOptions.handler(event);
          if (verdict.action === 'dead-letter') {
            // Published to the DLX ourselves (rather than nack) so the reason travels with it.
            await publishConfirmed(current.publishChannel, dlx, {
              routingKey: event.routingKey,
              messageId: event.messageId ?? `unidentified-${Date.now()}`,
              body: { raw: message.content.toString('base64') },
              headers: {
                'x-dlq-code': verdict.code,
                'x-dlq-reason': verdict.reason,
                'x-dlq-source-queue': consumeOptions.queue,
              },
            });
            logger.warn(
              { code: verdict.code, reason: verdict.reason, messageId: event.messageId },
              'event dead-lettered',
            );
          }
          if (!state.open) throw brokerUnavailable('channel closed before the acknowledgement');
          channel.ack(message);
          consumeOptions.onOutcome?.(verdict.action, event.routingKey);
        } catch (error) {
          consumeOptions.onOutcome?.('retry', event.routingKey);
          if (!state.open) {
            // The broker has put it back already; it comes again on the new channel.
            logger.info(
              { messageId: event.messageId },
              'delivery in hand when the channel closed; the broker redelivers it',
            );
            return;
          }
          logger.warn(
            { err: error, messageId: event.messageId },
            'event handling failed; requeueing after backoff',
          );
          await new Promise((resolve) => setTimeout(resolve, consumeOptions.retryDelayMs ?? 1_000));
          if (state.open) ignoringClosed(() => channel.nack(message, false, true));
        }
      };
      const { consumerTag } = await channel.consume(consumeOptions.queue, (message) => {
        if (message === null) {
          // Cancelled by the broker (its queue deleted or moved): consume again on a fresh
          // connection, which declares the queue again.
          logger.warn({ queue: consumeOptions.queue }, 'consumer cancelled by the broker');
          if (!cancelled && !closing && session === current) {
            ignoringClosed(() => current.connection.close());
          }
          return;
        }
        const work = handle(message).finally(() => inFlight.delete(work));
        inFlight.add(work);
      });
      state.consumerTag = consumerTag;
      live = state;
    };

    const managed: ManagedConsumer = {
      options: consumeOptions,
      attach,
      handle: {
        async cancel() {
          if (cancelled) return;
          cancelled = true;
          consumers.delete(managed);
          const current = live;
          if (current?.open === true) {
            await current.channel.cancel(current.consumerTag).catch(() => undefined);
          }
          await Promise.allSettled([...inFlight]);
          if (current?.open === true) await current.channel.close().catch(() => undefined);
        },
      },
    };
    return managed;
  };

  return {
    publish: (event) => {
      const current = session;
      if (current === undefined || !connected) {
        return Promise.reject(
          brokerUnavailable(`RabbitMQ connection lost; not publishing ${event.messageId}`),
        );
      }
      return publishConfirmed(current.publishChannel, options.exchange, event);
    },
    async consume(consumeOptions) {
      const consumer = createConsumer(consumeOptions);
      const current = session;
      // While reconnecting it is kept and starts with the others once the connection is back.
      if (current !== undefined) await consumer.attach(current);
      consumers.add(consumer);
      return consumer.handle;
    },
    isConnected: () => connected,
    async close() {
      closing = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      await Promise.allSettled([...consumers].map((consumer) => consumer.handle.cancel()));
      const current = session;
      session = undefined;
      connected = false;
      if (current !== undefined && !current.closed) await current.connection.close();
    },
  };
}

/**
 * Deletes an exchange, its dead-letter exchange and the topology queues named after it. For
 * test isolation: each test runs on its own exchange and removes it afterwards.
 */
export async function deleteTopology(url: string, exchange: string): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    const dlx = `${exchange}.dlx`;
    for (const { queue } of Object.values(topologyOf(exchange))) await channel.deleteQueue(queue);
    await channel.deleteQueue(deadLetterQueueName(dlx));
    await channel.deleteExchange(exchange);
    await channel.deleteExchange(dlx);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Reads (and acknowledges) up to `max` messages waiting in `queue`, without a consumer. */
export async function drainQueue(
  url: string,
  queue: string,
  max = 1_000,
): Promise<
  { routingKey: string; content: Buffer; headers: Record<string, unknown>; messageId?: string }[]
> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    const messages: {
      routingKey: string;
      content: Buffer;
      headers: Record<string, unknown>;
      messageId?: string;
    }[] = [];
    for (let i = 0; i < max; i += 1) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      messages.push({
        routingKey: message.fields.routingKey,
        content: message.content,
        headers: message.properties.headers ?? {},
        messageId: message.properties.messageId as string | undefined,
      });
    }
    await channel.close();
    return messages;
  } finally {
    await connection.close();
  }
}
