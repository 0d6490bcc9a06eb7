import { createTestSchema, testLogger } from '@streamtrain/testkit';
import type { TestSchema } from '@streamtrain/testkit';
import {
  inTransaction,
  labelCorrectionsIn,
  migrate,
  probeRejectedRows,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import type { ArrivalBatchInput, LabelRecord, TransactionRecord } from '@streamtrain/warehouse';

const tx = (id: string, offset: number, overrides: Partial<TransactionRecord> = {}) =>
  ({
    transactionId: id,
    customerId: 'c1',
    terminalId: 'm1',
    amount: 10,
    eventTime: '2018-04-01T10:00:00.000Z',
    channel: 'web',
    sourceTopic: 'tx.web',
    sourcePartition: 0,
    sourceOffset: String(offset),
    ...overrides,
  }) satisfies TransactionRecord;

const label = (id: string, offset: number, isFraud: boolean, reportedAt: string): LabelRecord => ({
  transactionId: id,
  isFraud,
  reportedAt,
  sourceTopic: 'tx.labels',
  sourcePartition: 0,
  sourceOffset: String(offset),
});

const batch = (
  batchId: string,
  transactions: TransactionRecord[],
  labels: LabelRecord[] = [],
): ArrivalBatchInput => ({
  batchId,
  transactions,
  labels,
  offsets: [{ topic: 'tx.web', partition: 0, firstOffset: '0', lastOffset: '0' }],
});

// Issue 13, items 1 and 7.
describe('ingest write path under bad rows, corrections and conflicts', () => {
  let schema: TestSchema;
  const write = (input: ArrivalBatchInput) =>
    inTransaction(schema.pool, (client) => writeArrivalBatch(client, input));
  const rows = async <T extends object>(sql: string): Promise<T[]> =>
    (await schema.pool.query<T>(sql)).rows;

  beforeEach(async () => {
    schema = createTestSchema();
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
  });

  afterEach(() => schema.drop());

  it('when one row of a batch cannot be stored, then the probe names that row and PostgreSQL’s reason, and writes nothing', async () => {
    const input = batch(
      'b1',
      [tx('a', 0), tx('b', 1, { eventTime: '0000-01-01T00:00:00Z' }), tx('c', 2)],
      [label('a', 3, true, '2018-04-02T00:00:00+18:00')],
    );
    await expect(write(input)).rejects.toThrow(/out of range/);
    const rejected = await inTransaction(schema.pool, (client) => probeRejectedRows(client, input));
    expect(rejected.map(({ kind, index }) => ({ kind, index }))).toEqual([
      { kind: 'transaction', index: 1 },
      { kind: 'label', index: 0 },
    ]);
    for (const row of rejected) expect(row.reason).toMatch(/out of range/);
    expect(await rows('SELECT transaction_id FROM transactions')).toEqual([]);
  });

  it('when a later "not fraud" label corrects a transaction, then the label is revised, recorded and announced in its batch, and a replay changes nothing', async () => {
    const first = await write(
      batch('b1', [tx('a', 0)], [label('a', 1, true, '2018-04-03T00:00:00Z')]),
    );
    expect(first).toMatchObject({ insertedLabels: 1, correctedLabels: 0 });
    const correction = batch('b2', [], [label('a', 2, false, '2018-04-09T00:00:00Z')]);
    const second = await write(correction);
    expect(second).toMatchObject({ insertedLabels: 0, correctedLabels: 1 });
    expect(second.event?.labelCount).toBe(1);
    expect(
      await rows('SELECT is_fraud, revision, batch_id FROM labels WHERE transaction_id = $$a$$'),
    ).toEqual([{ is_fraud: false, revision: 2, batch_id: 'b2' }]);
    const corrections = await labelCorrectionsIn(schema.pool, ['b2']);
    expect(corrections).toEqual([
      expect.objectContaining({ transactionId: 'a', isFraud: false, revision: 2 }),
    ]);

    // A replay of both (a restart from older offsets) and a stale opposite verdict change nothing.
    await write(batch('b1', [tx('a', 0)], [label('a', 1, true, '2018-04-03T00:00:00Z')]));
    const replay = await write(correction);
    expect(replay).toMatchObject({ insertedLabels: 0, correctedLabels: 0, event: null });
    expect(await rows('SELECT is_fraud, revision FROM labels')).toEqual([
      { is_fraud: false, revision: 2 },
    ]);
  });

  it('when a transaction id comes again with a different amount, then the conflict is recorded once and the first version kept', async () => {
    await write(batch('b1', [tx('a', 0, { amount: 10 })]));
    const again = await write(
      batch('b2', [tx('a', 5, { amount: 99 }), tx('b', 6), tx('b', 7, { amount: 3 })]),
    );
    expect(again).toMatchObject({ insertedTransactions: 1, conflicts: 2 });
    expect(
      await rows(
        'SELECT transaction_id, source_offset, existing_amount, incoming_amount FROM transaction_conflicts ORDER BY source_offset',
      ),
    ).toEqual([
      { transaction_id: 'a', source_offset: '5', existing_amount: 10, incoming_amount: 99 },
      { transaction_id: 'b', source_offset: '7', existing_amount: 10, incoming_amount: 3 },
    ]);
    const replay = await write(batch('b2', [tx('a', 5, { amount: 99 })]));
    expect(replay).toMatchObject({ conflicts: 0 });
    expect(await rows('SELECT amount FROM transactions WHERE transaction_id = $$a$$')).toEqual([
      { amount: 10 },
    ]);
  });

  it('when the same transaction is delivered twice unchanged, then it is a duplicate, not a conflict', async () => {
    await write(batch('b1', [tx('a', 0)]));
    expect(await write(batch('b1', [tx('a', 0)]))).toMatchObject({ conflicts: 0 });
    expect(await rows('SELECT * FROM transaction_conflicts')).toEqual([]);
  });
});
