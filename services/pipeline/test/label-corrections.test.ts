import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { createTestSchema, testLogger } from '@streamtrain/testkit';
import type { TestSchema } from '@streamtrain/testkit';
import {
  PostgresPipelineStore,
  inTransaction,
  migrate,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import { InMemoryPipelineStore } from '../src/adapters/in-memory-pipeline-store';
import { runPipelinePass } from '../src/domain/pipeline-pass';
import type { PassOutcome } from '../src/domain/pipeline-pass';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');
const MATURITY = 7 * DAY;

const tx = (i: number, atMs: number): FeatureInput => ({
  transactionId: `t${i}`,
  customerId: `c${i % 3}`,
  terminalId: `m${i % 2}`,
  amount: 10 + i,
  eventTimeMs: atMs,
});
const verdict = (id: string, isFraud: boolean, atMs: number): KnownLabel => ({
  transactionId: id,
  isFraud,
  reportedAtMs: atMs,
});

/** Two fraud examples, then a reversed chargeback, its redelivery and a fraud verdict again. */
const BATCHES: { batchId: string; transactions: FeatureInput[]; labels: KnownLabel[] }[] = [
  {
    batchId: 'b1',
    transactions: [tx(1, T0), tx(2, T0 + 3_600_000), tx(3, T0 + 7_200_000)],
    labels: [],
  },
  {
    batchId: 'b2',
    transactions: [],
    labels: [verdict('t1', true, T0 + DAY), verdict('t2', true, T0 + DAY)],
  },
  { batchId: 'b3', transactions: [tx(4, T0 + 8 * DAY)], labels: [] },
  { batchId: 'b4', transactions: [], labels: [verdict('t1', false, T0 + 9 * DAY)] },
  { batchId: 'b5', transactions: [], labels: [verdict('t1', false, T0 + 9 * DAY)] },
  { batchId: 'b6', transactions: [], labels: [verdict('t1', true, T0 + 10 * DAY)] },
];

// Issue 13 item 7: a later "not fraud" label for the same transaction (a reversed chargeback)
// was dropped without a trace by the pipeline, and the in-memory store kept the first verdict.
describe('label corrections through the pipeline, on the PostgreSQL and the in-memory store', () => {
  let schema: TestSchema;

  beforeEach(async () => {
    schema = createTestSchema();
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
  });

  afterEach(() => schema.drop());

  it('when a later "not fraud" label reverses an example that matured as fraud, then it is re-labelled genuine in the reversal’s example set and counted, a redelivery changes nothing, and both stores agree', async () => {
    const store = new PostgresPipelineStore(schema.pool);
    const memory = new InMemoryPipelineStore();
    const outcomes: PassOutcome[] = [];
    let offset = 0;
    for (const batch of BATCHES) {
      await inTransaction(schema.pool, (client) =>
        writeArrivalBatch(client, {
          batchId: batch.batchId,
          transactions: batch.transactions.map((row) => ({
            transactionId: row.transactionId,
            customerId: row.customerId,
            terminalId: row.terminalId,
            amount: row.amount,
            eventTime: new Date(row.eventTimeMs).toISOString(),
            channel: 'web',
            sourceTopic: 'tx.web',
            sourcePartition: 0,
            sourceOffset: String((offset += 1)),
          })),
          labels: batch.labels.map((label) => ({
            transactionId: label.transactionId,
            isFraud: label.isFraud,
            reportedAt: new Date(label.reportedAtMs).toISOString(),
            sourceTopic: 'tx.labels',
            sourcePartition: 0,
            sourceOffset: String((offset += 1)),
          })),
          offsets: [],
        }),
      );
      outcomes.push(await runPipelinePass(store, [batch.batchId], { maturityMs: MATURITY }));
      memory.land(batch.batchId, batch.transactions, batch.labels);
      await runPipelinePass(memory, [batch.batchId], { maturityMs: MATURITY });
    }
    expect(outcomes.map((outcome) => outcome.corrections)).toEqual([
      { toFraud: 0, toGenuine: 0 },
      { toFraud: 0, toGenuine: 0 },
      { toFraud: 0, toGenuine: 0 },
      { toFraud: 0, toGenuine: 1 },
      { toFraud: 0, toGenuine: 0 },
      { toFraud: 1, toGenuine: 0 },
    ]);
    const examplesAfter = async (): Promise<{ id: string; label: number; set: string }[]> =>
      (
        await schema.pool.query<{ id: string; label: number; set: string }>(
          `SELECT transaction_id AS id, label, example_set_id AS set FROM training_examples
           ORDER BY event_time, transaction_id`,
        )
      ).rows;
    expect(await examplesAfter()).toEqual([
      { id: 't1', label: 1, set: 'b6' },
      { id: 't2', label: 1, set: 'b2' },
      { id: 't3', label: 0, set: 'b3' },
    ]);
    expect(
      memory
        .allExamples()
        .map((e) => ({ id: e.transactionId, label: e.label, set: e.exampleSetId })),
    ).toEqual(await examplesAfter());
    const { rows: pipelineBatches } = await schema.pool.query<{
      batch_id: string;
      example_count: number;
    }>('SELECT batch_id, example_count FROM pipeline_batches ORDER BY batch_id');
    expect(pipelineBatches.find((row) => row.batch_id === 'b4')?.example_count).toBe(1);
  });
});
