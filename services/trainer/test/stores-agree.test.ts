import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { gateCandidate, loadBackend } from '@streamtrain/model';
import { InMemoryPipelineStore, runPipelinePass } from '@streamtrain/pipeline';
import type { PipelineStore } from '@streamtrain/pipeline';
import { createTestSchema, testLogger } from '@streamtrain/testkit';
import type { TestSchema } from '@streamtrain/testkit';
import { ContinuousTrainer, InMemoryTrainerStore, metricsGate } from '@streamtrain/training';
import type { ReadyBatch, TrainerStore } from '@streamtrain/training';
import {
  PostgresPipelineStore,
  PostgresTrainerStore,
  inTransaction,
  migrate,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import { fraudModelFactory } from '../src/adapters/fraud-model-factory';

jest.setTimeout(180_000);

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');
const DAYS = 24;
const PER_DAY = 120;

/** One landed day: its transactions and the labels reported that day. */
interface LandedDay {
  batchId: string;
  transactions: FeatureInput[];
  labels: KnownLabel[];
}

/** A small stream: 40 cards, 25 terminals; every 23rd transaction a fraud, reported 1–5 days on. */
function stream(): LandedDay[] {
  const days: LandedDay[] = Array.from({ length: DAYS + 6 }, (_, d) => ({
    batchId: `day-${String(d).padStart(2, '0')}`,
    transactions: [],
    labels: [],
  }));
  for (let i = 0; i < DAYS * PER_DAY; i += 1) {
    const atMs = T0 + Math.floor((i * DAY) / PER_DAY);
    const fraud = i % 23 === 0;
    const day = days[Math.floor((atMs - T0) / DAY)] as LandedDay;
    day.transactions.push({
      transactionId: `s${i}`,
      customerId: `c${(i * 7) % 40}`,
      terminalId: `m${i % 25}`,
      amount: fraud ? 300 + (i % 97) : 5 + (i % 61),
      eventTimeMs: atMs,
    });
    if (fraud) {
      const reportedAtMs = atMs + (1 + (i % 5)) * DAY;
      const reportDay = days[Math.floor((reportedAtMs - T0) / DAY)] as LandedDay;
      reportDay.labels.push({ transactionId: `s${i}`, isFraud: true, reportedAtMs });
    }
  }
  return days;
}

/** Runs the stream through the pipeline pass and the trainer on one pair of stores. */
async function replay(
  pipeline: PipelineStore,
  trainerStore: TrainerStore,
  land: (day: LandedDay) => Promise<void>,
  readyOf: (batchId: string) => Promise<ReadyBatch>,
  backend: string,
): Promise<void> {
  const trainer = new ContinuousTrainer(trainerStore, fraudModelFactory(42), {
    featureSetVersion: FEATURE_SET_VERSION,
    backend,
    fit: { epochs: 2, batchSize: 64, positiveWeight: 10, shuffleSeed: 42 },
    holdoutSize: 400,
    minExamples: 300,
    gate: metricsGate((candidate, champion) =>
      gateCandidate(candidate, champion, { minExamples: 50, minPositives: 2, maxApDrop: 0.01 }),
    ),
    now: () => T0,
  });
  for (const day of stream()) {
    await land(day);
    await runPipelinePass(pipeline, [day.batchId], { maturityMs: 7 * DAY, now: () => T0 });
    await trainer.accept(await readyOf(day.batchId));
    await trainer.trainIfDue();
  }
}

describe('the in-memory and the PostgreSQL stores', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = createTestSchema();
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('when the same stream is replayed through both, then they hold the same examples, holdout and versions', async () => {
    const { backend } = await loadBackend({ preferred: 'cpu', logger: testLogger });
    const width = featureNames().length;

    const memory = new InMemoryPipelineStore();
    const memoryTrainer = new InMemoryTrainerStore('fraud', memory);
    await replay(
      memory,
      memoryTrainer,
      (day) => Promise.resolve(memory.land(day.batchId, day.transactions, day.labels)),
      (batchId) => {
        const event = memory.announcements().find((ready) => ready.batchId === batchId);
        return Promise.resolve({
          batchId,
          exampleCount: event?.exampleCount ?? 0,
          watermarkMs: event?.watermark == null ? null : Date.parse(event.watermark),
        });
      },
      backend,
    );

    const pool = schema.pool;
    const warehouseTrainer = new PostgresTrainerStore(pool, 'fraud', width);
    let offset = 0;
    await replay(
      new PostgresPipelineStore(pool),
      warehouseTrainer,
      (day) =>
        inTransaction(pool, async (client) => {
          await writeArrivalBatch(client, {
            batchId: day.batchId,
            transactions: day.transactions.map((tx) => ({
              transactionId: tx.transactionId,
              customerId: tx.customerId,
              terminalId: tx.terminalId,
              amount: tx.amount,
              eventTime: new Date(tx.eventTimeMs).toISOString(),
              channel: 'web',
              sourceTopic: 'tx.web',
              sourcePartition: 0,
              sourceOffset: String((offset += 1)),
            })),
            labels: day.labels.map((label) => ({
              transactionId: label.transactionId,
              isFraud: label.isFraud,
              reportedAt: new Date(label.reportedAtMs).toISOString(),
              sourceTopic: 'tx.labels',
              sourcePartition: 0,
              sourceOffset: String((offset += 1)),
            })),
            offsets: [],
          });
        }).then(() => undefined),
      async (batchId) => {
        const { rows } = await pool.query<{
          payload: { exampleCount: number; watermark: string | null };
        }>('SELECT payload FROM pipeline_outbox WHERE event_id = $1', [`features:${batchId}`]);
        const payload = rows[0]?.payload;
        return {
          batchId,
          exampleCount: payload?.exampleCount ?? 0,
          watermarkMs: payload?.watermark == null ? null : Date.parse(payload.watermark),
        };
      },
      backend,
    );

    // The same examples, with the same labels, in the same example sets.
    const { rows: examples } = await pool.query<{
      transaction_id: string;
      event_time: Date;
      label: number;
      example_set_id: string;
    }>(
      `SELECT transaction_id, event_time, label, example_set_id FROM training_examples
       ORDER BY event_time, transaction_id COLLATE "C"`,
    );
    const inMemory = memory.allExamples();
    expect(inMemory.length).toBeGreaterThan(1000);
    expect(
      examples.map((row) => ({
        transactionId: row.transaction_id,
        eventTimeMs: row.event_time.getTime(),
        label: row.label,
        exampleSetId: row.example_set_id,
      })),
    ).toEqual(inMemory);

    // The same feature vectors (the model reads them as float32).
    const { rows: features } = await pool.query<{
      transaction_id: string;
      feature_values: number[];
    }>('SELECT transaction_id, feature_values FROM features');
    for (const row of features) {
      expect(memory.featuresOf(row.transaction_id)).toEqual(Float32Array.from(row.feature_values));
    }

    // The same holdout members.
    const { rows: holdout } = await pool.query<{ transaction_id: string }>(
      'SELECT transaction_id FROM trainer_holdout ORDER BY event_time, transaction_id COLLATE "C"',
    );
    expect(holdout.map((row) => row.transaction_id)).toEqual(
      memoryTrainer.holdoutMembers().map((ref) => ref.transactionId),
    );
    expect(holdout.length).toBeGreaterThan(200);

    // The same versions: ids, parents, gate decisions, holdout metrics and lineage.
    const { rows: versions } = await pool.query<{
      version_id: string;
      version: number;
      parent_version_id: string | null;
      status: string;
      gate_reason: string;
      metrics: unknown;
      lineage: unknown;
      trained_samples: number;
    }>('SELECT * FROM model_versions ORDER BY version');
    const remembered = memoryTrainer.versions();
    expect(remembered.length).toBeGreaterThanOrEqual(3);
    expect(
      versions.map((row) => ({
        versionId: row.version_id,
        version: row.version,
        parentVersionId: row.parent_version_id,
        status: row.status,
        gateReason: row.gate_reason,
        metrics: row.metrics,
        lineage: row.lineage,
        trainedSamples: row.trained_samples,
      })),
    ).toEqual(
      remembered.map((version) => ({
        versionId: version.versionId,
        version: version.version,
        parentVersionId: version.parentVersionId,
        status: version.status,
        gateReason: version.gateReason,
        metrics: version.metrics,
        lineage: version.lineage,
        trainedSamples: version.trainedSamples,
      })),
    );
  });
});
