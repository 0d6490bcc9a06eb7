import { createTestSchema, testLogger } from '@streamtrain/testkit';
import type { TestSchema } from '@streamtrain/testkit';
import { inTransaction, migrate, writeArrivalBatch } from '@streamtrain/warehouse';
import type { TransactionRecord } from '@streamtrain/warehouse';

const record = (id: string, offset: number, amount = 10): TransactionRecord => ({
  transactionId: id,
  customerId: 'c1',
  terminalId: 'm1',
  amount,
  eventTime: '2018-04-01T10:00:00.000Z',
  channel: 'web',
  sourceTopic: 'tx.web',
  sourcePartition: 0,
  sourceOffset: String(offset),
});

describe('writeArrivalBatch', () => {
  let schema: TestSchema;

  beforeEach(async () => {
    schema = createTestSchema();
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
  });

  afterEach(() => schema.drop());

  it('when a batch carries the same transaction twice, then it is written once, from its first occurrence', async () => {
    const result = await inTransaction(schema.pool, (client) =>
      writeArrivalBatch(client, {
        batchId: 'b1',
        transactions: [record('a', 0, 1), record('a', 1, 2), record('b', 2)],
        labels: [],
        offsets: [{ topic: 'tx.web', partition: 0, firstOffset: '0', lastOffset: '2' }],
      }),
    );
    expect(result.insertedTransactions).toBe(2);
    expect(result.event?.transactionCount).toBe(2);
    const rows = await schema.pool.query<{ amount: number; source_offset: string }>(
      "SELECT amount, source_offset FROM transactions WHERE transaction_id = 'a'",
    );
    expect(rows.rows).toEqual([{ amount: 1, source_offset: '0' }]);
  });

  it('when nothing in a batch is new, then no batch and no event are written', async () => {
    const input = {
      batchId: 'b1',
      transactions: [record('a', 0)],
      labels: [],
      offsets: [{ topic: 'tx.web', partition: 0, firstOffset: '0', lastOffset: '0' }],
    };
    await inTransaction(schema.pool, (client) => writeArrivalBatch(client, input));
    const again = await inTransaction(schema.pool, (client) =>
      writeArrivalBatch(client, { ...input, batchId: 'b2' }),
    );
    expect(again).toMatchObject({ insertedTransactions: 0, insertedLabels: 0, event: null });
    const batches = await schema.pool.query('SELECT batch_id FROM ingest_batches');
    expect(batches.rows).toEqual([{ batch_id: 'b1' }]);
  });
});
