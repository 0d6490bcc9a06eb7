import { connectAmqp, topologyOf } from '@streamtrain/amqp';
import type { AmqpClient, IncomingEvent } from '@streamtrain/amqp';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import { startOwnRabbitMq, testLogger, uniqueExchange, waitFor } from '@streamtrain/testkit';
import type { OwnRabbitMq } from '@streamtrain/testkit';

// A RabbitMQ node of this test's own (never the shared one on 5672), stopped and started with
// `rabbitmqctl stop_app` / `start_app` as in the fault suite (issue 13).
describe('AMQP client across a RabbitMQ restart', () => {
  let node: OwnRabbitMq;
  let client: AmqpClient | undefined;

  beforeAll(async () => {
    node = await startOwnRabbitMq();
  }, 180_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await node?.remove();
  }, 60_000);

  it('when the node restarts, then the client reconnects in-process, consumers resume and nothing is lost', async () => {
    const exchange = uniqueExchange();
    const onFatal = jest.fn();
    const changes: string[] = [];
    client = await connectAmqp({
      url: node.url,
      exchange,
      logger: testLogger,
      onFatal,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      onConnectionChange: (state) => changes.push(state),
    });
    const seen: IncomingEvent[] = [];
    let releaseSlow: () => void = () => undefined;
    const slowHeld = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const resumed = jest.fn(() => Promise.resolve());
    const { queue, routingKeys } = topologyOf(exchange).pipeline;
    await client.consume({
      queue,
      routingKeys,
      prefetch: 4,
      onResumed: resumed,
      handler: async (event) => {
        seen.push(event);
        if (event.messageId === 'slow' && !event.redelivered) await slowHeld;
        return { action: 'ack' };
      },
    });
    const publish = (id: string) =>
      client!.publish({ routingKey: ROUTING_KEYS.batchArrived, messageId: id, body: { id } });

    await publish('before-1');
    await publish('slow');
    await waitFor(
      () => seen.map((event) => event.messageId),
      (ids) => ids.includes('before-1') && ids.includes('slow'),
      { description: 'the first deliveries' },
    );

    // The node stops while `slow` is in hand.
    await node.stopApp();
    await waitFor(
      () => client!.isConnected(),
      (connected) => !connected,
      { description: 'the client to see the connection lost' },
    );
    await expect(publish('during')).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
      retriable: true,
    });
    releaseSlow();

    await node.startApp();
    await waitFor(
      () => client!.isConnected(),
      (connected) => connected,
      { timeoutMs: 60_000, description: 'the client to reconnect' },
    );
    await publish('during');
    await publish('after-1');
    const ids = await waitFor(
      () => seen.map((event) => event.messageId),
      (received) => received.includes('during') && received.includes('after-1'),
      { timeoutMs: 30_000, description: 'deliveries after the reconnect' },
    );

    // The delivery in hand came again (redelivered), everything else once.
    expect(ids.filter((id) => id === 'slow')).toHaveLength(2);
    expect(seen.find((event) => event.messageId === 'slow' && event.redelivered)).toBeDefined();
    for (const id of ['before-1', 'during', 'after-1']) {
      expect(ids.filter((seenId) => seenId === id)).toHaveLength(1);
    }
    expect(onFatal).not.toHaveBeenCalled();
    expect(changes).toEqual(['lost', 'restored']);
    expect(resumed).toHaveBeenCalledTimes(1);
  }, 180_000);
});
