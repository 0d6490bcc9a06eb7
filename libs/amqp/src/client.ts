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
  /** Called when the connection is lost: the service stops and its supervisor restarts it. */
  onFatal: (error: Error) => void;
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
  /** True while the connection is open. */
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
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return 'AMQP_URL';
  }
}

/**
 * Connects, declares the durable topology (topic exchange, dead-letter exchange and its queue)
 * and opens a confirm channel for publishing.
 */
export async function connectAmqp(options: AmqpOptions): Promise<AmqpClient> {
  const logger = options.logger.child({ component: 'amqp' });
  const dlx = options.deadLetterExchange ?? `${options.exchange}.dlx`;
  let connection: ChannelModel;
  try {
    connection = await connect(options.url);
  } catch (error) {
    const tls = tlsVerifyFailure(error);
    if (tls !== undefined) {
      throw new StreamtrainError(
        'AMQP_TLS_FAILED',
        `the certificate of RabbitMQ at ${serverOf(options.url)} is not trusted (${tls}); start ` +
          'the service with NODE_EXTRA_CA_CERTS=<the CA file> naming the CA that signed it ' +
          '(docs/OPERATIONS.md)',
        { retriable: false, cause: error },
      );
    }
    throw new StreamtrainError(
      'BROKER_UNAVAILABLE',
      `cannot reach RabbitMQ: ${(error as Error).message}`,
      {
        retriable: true,
        cause: error,
      },
    );
  }
  let closing = false;
  let connected = true;
  connection.on('error', (error: Error) => logger.error({ err: error }, 'connection error'));
  connection.on('close', (error?: Error) => {
    connected = false;
    if (closing) return;
    const reason = error ?? new Error('connection closed by the broker');
    logger.error({ err: reason }, 'connection lost');
    options.onFatal(reason);
  });
  connection.on('blocked', (reason: string) =>
    logger.warn({ reason }, 'broker blocked publishing'),
  );
  connection.on('unblocked', () => logger.info('broker unblocked publishing'));

  const publishChannel: ConfirmChannel = await connection.createConfirmChannel();
  publishChannel.on('error', (error: Error) =>
    logger.error({ err: error }, 'publish channel error'),
  );
  await publishChannel.assertExchange(options.exchange, 'topic', { durable: true });
  await publishChannel.assertExchange(dlx, 'topic', { durable: true });
  await publishChannel.assertQueue(deadLetterQueueName(dlx), { durable: true });
  await publishChannel.bindQueue(deadLetterQueueName(dlx), dlx, '#');
  for (const { queue, routingKeys } of Object.values(topologyOf(options.exchange))) {
    await assertQueue(publishChannel, queue, dlx);
    for (const key of routingKeys) await publishChannel.bindQueue(queue, options.exchange, key);
  }

  // `mandatory` makes the broker return a message no queue takes; the confirm follows the
  // return, so the publish is rejected rather than silently dropped.
  const unroutable = new Set<string>();
  publishChannel.on('return', (message: ConsumeMessage) => {
    const id = message.properties.messageId as string | undefined;
    if (id !== undefined) unroutable.add(id);
  });

  const publishConfirmed = (
    channel: ConfirmChannel,
    exchange: string,
    event: OutgoingEvent,
  ): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const body = Buffer.isBuffer(event.body)
        ? event.body
        : Buffer.from(JSON.stringify(event.body));
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

  const consumers = new Set<ConsumerHandle>();

  return {
    publish: (event) => publishConfirmed(publishChannel, options.exchange, event),
    async consume(consumeOptions) {
      const channel: Channel = await connection.createChannel();
      channel.on('error', (error: Error) =>
        logger.error({ err: error, queue: consumeOptions.queue }, 'consumer channel error'),
      );
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
      const inFlight = new Set<Promise<void>>();
      let cancelled = false;
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
            await publishConfirmed(publishChannel, dlx, {
              routingKey: event.routingKey,
              messageId: event.messageId ?? `unidentified-${Date.now()}`,
              body: JSON.parse(
                JSON.stringify({ raw: message.content.toString('base64') }),
              ) as unknown,
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
          channel.ack(message);
          consumeOptions.onOutcome?.(verdict.action, event.routingKey);
        } catch (error) {
          consumeOptions.onOutcome?.('retry', event.routingKey);
          logger.warn(
            { err: error, messageId: event.messageId },
            'event handling failed; requeueing after backoff',
          );
          await new Promise((resolve) => setTimeout(resolve, consumeOptions.retryDelayMs ?? 1_000));
          if (!cancelled || connected) channel.nack(message, false, true);
        }
      };
      const { consumerTag } = await channel.consume(consumeOptions.queue, (message) => {
        if (message === null) {
          logger.warn({ queue: consumeOptions.queue }, 'consumer cancelled by the broker');
          return;
        }
        const work = handle(message).finally(() => inFlight.delete(work));
        inFlight.add(work);
      });
      const consumer: ConsumerHandle = {
        async cancel() {
          if (cancelled) return;
          cancelled = true;
          consumers.delete(consumer);
          if (connected) await channel.cancel(consumerTag);
          await Promise.allSettled([...inFlight]);
          if (connected) await channel.close();
        },
      };
      consumers.add(consumer);
      return consumer;
    },
    isConnected: () => connected,
    async close() {
      closing = true;
      await Promise.allSettled([...consumers].map((consumer) => consumer.cancel()));
      if (connected) await connection.close();
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
