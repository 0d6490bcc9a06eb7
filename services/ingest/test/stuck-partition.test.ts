import { createMetricsRegistry } from '@streamtrain/observability';
import type { KafkaProducer } from '@streamtrain/kafka';
import { testLogger } from '@streamtrain/testkit';
import { createPool } from '@streamtrain/warehouse';
import { createIngestMetrics } from '../src/adapters/ingest-metrics';
import { createArrivalHandler } from '../src/entry-points/arrival-handler';
import { transactionJson } from './harness';

jest.setTimeout(30_000);

// Issue 13, item 1: the partition stayed stuck for 15 minutes while /readyz answered 200.
describe('a partition whose warehouse writes keep failing', () => {
  it('when the warehouse cannot be reached, then the partition is reported failing until the batch is handed back', async () => {
    // Nothing listens on port 1: every connection is refused, as during a long outage.
    const pool = createPool({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
      schema: 'public',
      logger: testLogger,
    });
    const unused: KafkaProducer = {
      send: () => Promise.reject(new Error('no dead letters expected')),
      disconnect: () => Promise.resolve(),
    };
    const handler = createArrivalHandler({
      pool,
      deadLetterProducer: unused,
      deadLetterTopic: 'dlq',
      labelsTopic: 'labels',
      maxBatchMessages: 100,
      maxFutureSkewMs: 86_400_000,
      metrics: createIngestMetrics(createMetricsRegistry('ingest')),
      logger: testLogger,
      onEventEnqueued: () => undefined,
      writeRetries: 3,
    });
    const seen: string[][] = [];
    const handled = handler.handle(
      {
        topic: 'tx.web',
        partition: 2,
        messages: [
          {
            key: null,
            value: Buffer.from(transactionJson('s-1')),
            offset: '0',
            timestamp: '0',
            headers: {},
            size: 10,
          },
        ],
      },
      {
        heartbeat: () => {
          seen.push(handler.failingPartitions(Date.now()));
          return Promise.resolve();
        },
        isStale: () => false,
        markRead: () => undefined,
        commit: () => Promise.reject(new Error('nothing may be committed')),
      },
    );
    await expect(handled).rejects.toMatchObject({ code: 'WAREHOUSE_UNAVAILABLE' });
    expect(seen.some((partitions) => partitions.includes('tx.web:2'))).toBe(true);
    // Still failing after the handler gave up: kafkajs will redeliver, readiness keeps saying so.
    expect(handler.failingPartitions(Date.now())).toEqual(['tx.web:2']);
    expect(handler.failingPartitions(Date.now() - 60_000)).toEqual([]);
    await pool.end();
  });
});
