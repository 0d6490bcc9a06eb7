import { topologyOf } from '@streamtrain/amqp';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import { Registry } from '@streamtrain/observability';
import { createEventService } from '@streamtrain/service-kit';
import {
  createTestSchema,
  startOwnRabbitMq,
  testLogger,
  uniqueExchange,
  waitFor,
} from '@streamtrain/testkit';
import type { OwnRabbitMq, TestSchema } from '@streamtrain/testkit';
import { enqueueOutbox, inTransaction } from '@streamtrain/warehouse';

// Issue 13: a RabbitMQ restart ended every event service (exit for the supervisor). Now the
// service stays up, answers /readyz 503 naming RabbitMQ, and consumes and relays again after.
describe('event service across a RabbitMQ restart', () => {
  let node: OwnRabbitMq;
  let db: TestSchema;

  beforeAll(async () => {
    node = await startOwnRabbitMq();
    db = createTestSchema();
  }, 180_000);

  afterAll(async () => {
    await db?.drop();
    await node?.remove();
  }, 60_000);

  it('when RabbitMQ stops and starts, then the service does not exit, is unready meanwhile, and relays and consumes everything after', async () => {
    const onFatal = jest.fn();
    const exchange = uniqueExchange();
    const received: string[] = [];
    const service = createEventService({
      name: 'restart_test',
      logger: testLogger,
      registry: new Registry(),
      onFatal,
      databaseUrl: db.databaseUrl,
      schema: db.schema,
      poolSize: 4,
      amqpUrl: node.url,
      exchange,
      prefetch: 8,
      httpPort: 0,
      httpHost: '127.0.0.1',
      outboxTable: 'pipeline_outbox',
      consume: () => {
        const { queue, routingKeys } = topologyOf(exchange).trainer;
        return Promise.resolve({
          queue,
          routingKeys,
          handler: (event) => {
            received.push(event.messageId ?? '');
            return Promise.resolve({ action: 'ack' as const });
          },
        });
      },
    });
    await service.start();
    const readyz = async (): Promise<{ status: number; body: string }> => {
      const response = await fetch(`http://127.0.0.1:${service.port()}/readyz`);
      return { status: response.status, body: await response.text() };
    };
    const enqueue = (id: string) =>
      inTransaction(db.pool, (client) =>
        enqueueOutbox(client, 'pipeline_outbox', {
          eventId: id,
          routingKey: ROUTING_KEYS.featuresReady,
          payload: { id },
        }),
      );
    try {
      await enqueue('before');
      await waitFor(
        () => received,
        (ids) => ids.includes('before'),
        { description: 'the event before the restart' },
      );
      expect((await readyz()).status).toBe(200);

      await node.stopApp();
      const unready = await waitFor(readyz, (answer) => answer.status === 503, {
        description: '/readyz 503 while RabbitMQ is down',
      });
      expect(JSON.parse(unready.body)).toMatchObject({ checks: { rabbitmq: { ok: false } } });
      await enqueue('during');

      await node.startApp();
      await waitFor(readyz, (answer) => answer.status === 200, {
        timeoutMs: 60_000,
        description: '/readyz 200 after the restart',
      });
      await enqueue('after');
      await waitFor(
        () => received,
        (ids) => ids.includes('during') && ids.includes('after'),
        { timeoutMs: 30_000, description: 'the events enqueued during and after the restart' },
      );
      expect(onFatal).not.toHaveBeenCalled();
      for (const id of ['before', 'during', 'after']) {
        expect(received.filter((seen) => seen === id)).toHaveLength(1);
      }
    } finally {
      await service.stop();
    }
  }, 180_000);
});
