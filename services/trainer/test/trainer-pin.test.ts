import { drainQueue, topologyOf } from '@streamtrain/amqp';
import type { AmqpClient } from '@streamtrain/amqp';
import type { EventService } from '@streamtrain/service-kit';
import { createEventHarness, testLogger, testServers, waitFor } from '@streamtrain/testkit';
import type { EventHarness, TestSchema } from '@streamtrain/testkit';
import { pinModel } from '@streamtrain/warehouse';
import { seedBatch } from './seed-batch';
import { loadTrainerConfig } from '../src/config';
import { createTrainerService } from '../src/service';

const TRAINER_TOKEN = 'trainer-token-0123456789abcdef';

jest.setTimeout(90_000);

describe('trainer under a pin', () => {
  let schema: TestSchema;
  let exchange: string;
  let service: EventService;
  let amqp: AmqpClient;

  let harness: EventHarness;

  beforeEach(async () => {
    harness = await createEventHarness();
    ({ schema, exchange, amqp } = harness);
    const config = loadTrainerConfig({
      ...harness.env,
      TRAINER_API_TOKEN: TRAINER_TOKEN,
      TRAINER_MIN_EXAMPLES: '100',
      TRAINER_GATE_MIN_EXAMPLES: '50',
      TRAINER_GATE_MIN_POSITIVES: '2',
      TFJS_BACKEND: 'cpu',
    });
    service = createTrainerService(config, testLogger, (error) => {
      throw error;
    });
    await service.start();
  });

  afterEach(async () => {
    await service.stop();
    await harness.dispose();
  });

  /** Lands 600 transactions (every 12th a large fraud), their features and matured examples, as ingest and pipeline would. */

  it('when the model is pinned, then the trainer registers versions but keeps the champion and announces nothing', async () => {
    await pinModel(schema.pool, { modelName: 'fraud', actor: 'alice', reason: 'incident' });
    await amqp.publish({
      routingKey: 'features.ready',
      messageId: 'r1',
      body: await seedBatch(schema.pool, 'batch-1', 0),
    });
    const result = await waitFor(
      () =>
        schema.pool.query<{ status: string; gate_reason: string }>(
          'SELECT status, gate_reason FROM model_versions',
        ),
      (r) => r.rows.length === 1,
    );
    expect(result.rows[0]?.status).toBe('rejected');
    expect(result.rows[0]?.gate_reason).toMatch(/promotion frozen by alice's pin/);
    expect(await harness.count(`model_aliases WHERE alias = 'champion'`)).toBe(0);
    expect(await harness.count('trainer_outbox')).toBe(0);
    expect(
      await drainQueue(testServers().amqpUrl, topologyOf(exchange).modelPublished.queue),
    ).toHaveLength(0);
  });
});
