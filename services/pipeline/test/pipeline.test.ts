import { deadLetterQueueName, drainQueue, topologyOf } from '@streamtrain/amqp';
import type { AmqpClient } from '@streamtrain/amqp';
import { FeaturesReadyV1 } from '@streamtrain/contracts';
import type { BatchArrived } from '@streamtrain/contracts';
import { computeFeatures } from '@streamtrain/features';
import { createEventHarness, testLogger, testServers, waitFor } from '@streamtrain/testkit';
import type { EventHarness, TestSchema } from '@streamtrain/testkit';
import { inTransaction, readBatchTransactions, writeArrivalBatch } from '@streamtrain/warehouse';
import type { TransactionRecord } from '@streamtrain/warehouse';
import { loadPipelineConfig } from '../src/config';
import { createPipelineService } from '../src/service';
import type { EventService } from '@streamtrain/service-kit';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

function record(i: number, dayOffset: number): TransactionRecord {
  return {
    transactionId: `p${i}`,
    customerId: `c${i % 5}`,
    terminalId: `m${i % 3}`,
    amount: 10 + i,
    eventTime: new Date(T0 + dayOffset * DAY + i * 60_000).toISOString(),
    channel: 'web',
    sourceTopic: 'tx.web',
    sourcePartition: 0,
    sourceOffset: String(i),
  };
}

describe('pipeline service', () => {
  let schema: TestSchema;
  let exchange: string;
  let service: EventService;
  let amqp: AmqpClient;

  let harness: EventHarness;
  let config: ReturnType<typeof loadPipelineConfig>;

  beforeEach(async () => {
    harness = await createEventHarness();
    ({ schema, exchange, amqp } = harness);
    config = loadPipelineConfig({
      ...harness.env,
      PIPELINE_MATURITY_DAYS: '2',
      PIPELINE_STATE_CHECKPOINT_SECONDS: '0',
    });
    service = startService(config);
    await service.start();
  });

  const startService = (config: ReturnType<typeof loadPipelineConfig>): EventService =>
    createPipelineService(config, testLogger, (error) => {
      throw error;
    });

  afterEach(async () => {
    await service.stop();
    await harness.dispose();
  });

  /** Lands a batch the way ingest does and returns its event. */
  async function land(
    batchId: string,
    transactions: TransactionRecord[],
    labels: { id: string; day: number }[] = [],
  ) {
    const result = await inTransaction(schema.pool, (client) =>
      writeArrivalBatch(client, {
        batchId,
        transactions,
        labels: labels.map((label, i) => ({
          transactionId: label.id,
          isFraud: true,
          reportedAt: new Date(T0 + label.day * DAY).toISOString(),
          sourceTopic: 'tx.labels',
          sourcePartition: 0,
          sourceOffset: String(i),
        })),
        offsets: [{ topic: 'tx.web', partition: 0, firstOffset: '0', lastOffset: '0' }],
      }),
    );
    return result.event as BatchArrived;
  }

  const publish = (event: BatchArrived) =>
    amqp.publish({ routingKey: 'batch.arrived', messageId: event.batchId, body: event });

  const count = (sql: string) => harness.count(sql);

  it('when a batch arrives, then its features equal the shared feature code over the warehouse, and features.ready is announced', async () => {
    const early = await land(
      'b1',
      Array.from({ length: 20 }, (_, i) => record(i, 0)),
    );
    await publish(early);
    await waitFor(
      () => count('pipeline_batches'),
      (n) => n === 1,
    );
    const late = await land(
      'b2',
      Array.from({ length: 20 }, (_, i) => record(100 + i, 5)),
      [{ id: 'p3', day: 1 }],
    );
    await publish(late);
    await waitFor(
      () => count('pipeline_batches'),
      (n) => n === 2,
    );

    const all = [
      ...(await readBatchTransactions(schema.pool, 'b1')),
      ...(await readBatchTransactions(schema.pool, 'b2')),
    ];
    const expected = computeFeatures(all, all, [
      { transactionId: 'p3', isFraud: true, reportedAtMs: T0 + DAY },
    ]);
    const stored = await schema.pool.query<{ transaction_id: string; feature_values: number[] }>(
      'SELECT transaction_id, feature_values FROM features',
    );
    const byId = new Map(stored.rows.map((row) => [row.transaction_id, row.feature_values]));
    expect(byId.size).toBe(40);
    for (const vector of expected) expect(byId.get(vector.transactionId)).toEqual(vector.values);

    // Watermark = day 5 + 2 days maturity: b1 (day 0) is mature; p3 is its fraud example.
    const examples = await schema.pool.query<{ transaction_id: string; label: number }>(
      'SELECT transaction_id, label FROM training_examples',
    );
    expect(examples.rows).toHaveLength(20);
    expect(examples.rows.filter((row) => row.label === 1).map((row) => row.transaction_id)).toEqual(
      ['p3'],
    );

    const ready = (await drainQueue(testServers().amqpUrl, topologyOf(exchange).trainer.queue)).map(
      (message) => FeaturesReadyV1.parse(JSON.parse(message.content.toString())),
    );
    expect(ready.map((event) => event.batchId).sort()).toEqual(['b1', 'b2']);
    expect(ready.find((event) => event.batchId === 'b2')?.exampleCount).toBe(20);
  });

  it('when the pipeline restarts, from its checkpoint or (that lost) from the raw warehouse, then the features it stores still equal the shared feature code over the warehouse', async () => {
    const days = [0, 1, 2].map((day) =>
      Array.from({ length: 20 }, (_, i) => record(day * 100 + i, day)),
    );
    const processed = (n: number) =>
      waitFor(
        () => count('pipeline_batches'),
        (done) => done === n,
      );
    await publish(await land('b1', days[0] as TransactionRecord[]));
    await processed(1);
    const checkpoint = () =>
      schema.pool.query<{ writer_id: string | null; cursor_seq: string | null }>(
        'SELECT writer_id, cursor_seq FROM pipeline_feature_checkpoint',
      );
    const first = (await checkpoint()).rows[0];
    expect(first?.writer_id).not.toBeNull();
    expect(await count('pipeline_feature_segments')).toBeGreaterThan(0);

    // Restarted: it loads the checkpoint.
    await service.stop();
    service = startService(config);
    await service.start();
    await publish(await land('b2', days[1] as TransactionRecord[], [{ id: 'p3', day: 1 }]));
    await processed(2);
    const second = (await checkpoint()).rows[0];
    expect(second?.writer_id).not.toBe(first?.writer_id);
    expect(Number(second?.cursor_seq)).toBeGreaterThan(Number(first?.cursor_seq));

    // Restarted with the checkpoint gone: it rebuilds the state from the raw rows.
    await service.stop();
    await schema.pool.query('UPDATE pipeline_feature_checkpoint SET writer_id = NULL');
    await schema.pool.query('DELETE FROM pipeline_feature_segments');
    service = startService(config);
    await service.start();
    await publish(await land('b3', days[2] as TransactionRecord[]));
    await processed(3);

    const all = [
      ...(await readBatchTransactions(schema.pool, 'b1')),
      ...(await readBatchTransactions(schema.pool, 'b2')),
      ...(await readBatchTransactions(schema.pool, 'b3')),
    ];
    const expected = computeFeatures(all, all, [
      { transactionId: 'p3', isFraud: true, reportedAtMs: T0 + DAY },
    ]);
    const stored = await schema.pool.query<{ transaction_id: string; feature_values: number[] }>(
      'SELECT transaction_id, feature_values FROM features',
    );
    const byId = new Map(stored.rows.map((row) => [row.transaction_id, row.feature_values]));
    expect(byId.size).toBe(60);
    for (const vector of expected) expect(byId.get(vector.transactionId)).toEqual(vector.values);
  });

  it('when a batch event is redelivered, then nothing is computed or announced twice', async () => {
    const event = await land(
      'b1',
      Array.from({ length: 5 }, (_, i) => record(i, 0)),
    );
    await publish(event);
    await waitFor(
      () => count('pipeline_batches'),
      (n) => n === 1,
    );
    await amqp.publish({ routingKey: 'batch.arrived', messageId: 'again', body: event });
    const metrics = await waitFor(
      () => fetch(`http://127.0.0.1:${service.port()}/metrics`).then((response) => response.text()),
      (text) => /streamtrain_pipeline_duplicate_batches_total\S* 1/.test(text),
    );
    expect(metrics).toMatch(/streamtrain_pipeline_batches_total\S* 1/);
    expect(await count('pipeline_outbox')).toBe(1);
  });

  it('when an event does not match its contract, then it is dead-lettered with the reason', async () => {
    await amqp.publish({ routingKey: 'batch.arrived', messageId: 'bad', body: { batchId: 42 } });
    const dead = await waitFor(
      () => drainQueue(testServers().amqpUrl, deadLetterQueueName(`${exchange}.dlx`)),
      (messages) => messages.length > 0,
    );
    expect(dead[0]?.headers['x-dlq-code']).toBe('CONTRACT_SCHEMA_MISMATCH');
    expect(String(dead[0]?.headers['x-dlq-reason'])).toMatch(/batchId/);
  });
});
