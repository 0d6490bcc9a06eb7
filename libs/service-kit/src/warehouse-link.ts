import type { AmqpClient } from '@streamtrain/amqp';
import { Counter } from '@streamtrain/observability';
import type { Logger, Registry, ShutdownStep } from '@streamtrain/observability';
import { OutboxRelay, createPool } from '@streamtrain/warehouse';
import type { OutboxTable, Pool, WarehouseOptions } from '@streamtrain/warehouse';

/** The warehouse pool of a service, its idle-connection errors counted on `registry`. */
export function createCountedPool(
  options: Omit<WarehouseOptions, 'onPoolError'>,
  registry: Registry,
): Pool {
  const poolErrors = new Counter({
    name: 'streamtrain_warehouse_pool_errors_total',
    help: 'Errors raised by idle warehouse connections.',
    registers: [registry],
  });
  return createPool({ ...options, onPoolError: () => poolErrors.inc() });
}

/** Options of {@link relayOutbox}. */
export interface RelayOutboxOptions {
  pool: Pool;
  table: OutboxTable;
  amqp: AmqpClient;
  logger: Logger;
  /** Where the relay's counters go; none for one-off tools. */
  registry?: Registry;
}

/**
 * The relay of a service's outbox to RabbitMQ (publisher confirms, `mandatory`), each event
 * published under its outbox id so consumers can drop redeliveries; counted when a registry is
 * given.
 */
export function relayOutbox(options: RelayOutboxOptions): OutboxRelay {
  const registers = options.registry === undefined ? [] : [options.registry];
  const published = new Counter({
    name: 'streamtrain_outbox_published_total',
    help: 'Outbox events published with a broker confirm.',
    registers,
  });
  const errors = new Counter({
    name: 'streamtrain_outbox_errors_total',
    help: 'Outbox relay rounds that failed (retried).',
    registers,
  });
  return new OutboxRelay({
    pool: options.pool,
    table: options.table,
    logger: options.logger,
    publish: (event) =>
      options.amqp.publish({
        routingKey: event.routingKey,
        messageId: event.eventId,
        body: event.payload,
      }),
    onPublished: (count) => published.inc(count),
    onError: () => errors.inc(),
  });
}

/** The shutdown step that stops a relay and publishes what is left, while RabbitMQ is there. */
export function publishPendingStep(
  relay: () => OutboxRelay | undefined,
  amqp: () => AmqpClient | undefined,
): ShutdownStep {
  return {
    name: 'publish pending outbox events',
    run: async () => {
      await relay()?.stop();
      if (amqp()?.isConnected()) await relay()?.drain();
    },
  };
}
