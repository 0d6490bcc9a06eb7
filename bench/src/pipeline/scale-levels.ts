import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { computeFeatures, historyRange } from '@streamtrain/features';
import { createSimulation } from '@streamtrain/simulator';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  removeTestExchange,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
} from '@streamtrain/testkit';
import {
  inTransaction,
  migrate,
  readBatchTransactions,
  readHistory,
  readKnownLabels,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import type { BenchContext } from '../harness/bench-context';
import { loadAverage } from '../harness/machine';
import type { PeakMemory } from '../harness/proc-memory';
import { fmt, progress } from '../harness/progress';
import { histogramOf, histogramQuantile, sumOf } from '../harness/prometheus-text';
import type { PromSample } from '../harness/prometheus-text';
import { startServiceProcess } from '../harness/service-process';
import { arrivalBatches } from './landed-data';
import type { SimulatedArrival } from './landed-data';

/** Options of {@link runScaleLevels}. */
export interface ScaleOptions {
  /** Transactions in each measured chunk. */
  readonly chunk: number;
  /** Shares of the default simulation's transactions the warehouse holds when a chunk ends. */
  readonly shares: readonly number[];
  readonly batchSize: number;
  readonly seed: number;
}

/** One measured chunk: the pipeline over `chunk` transactions landed at once. */
export interface ScaleLevel {
  /** Share of the default simulation's transactions in the warehouse once the chunk landed. */
  readonly share: number;
  /** Transactions in the warehouse once the chunk landed. */
  readonly warehouseTransactions: number;
  readonly transactions: number;
  readonly batches: number;
  readonly features: number;
  readonly examples: number;
  /** From the first of the chunk's `batch.arrived` published to its last batch seen stored. */
  readonly seconds: number;
  readonly featuresPerSecond: number;
  readonly passSeconds: { readonly mean: number; readonly p99: number | null };
  /** The longest event-loop delay of the pipeline service while it processed the chunk. */
  readonly eventLoopLagMaxSeconds: number | null;
  /** Feature vectors computed from raw history rows (late transactions): 0 here. */
  readonly fromHistory: number;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  /** Stored vectors of a middle batch against `computeFeatures` over the raw warehouse rows. */
  readonly check: { readonly compared: number; readonly mismatches: number };
}

/** `docs/results/pipeline.json` `results.scale`. */
export interface ScaleResults {
  readonly simulation: {
    readonly customers: number;
    readonly terminals: number;
    readonly days: number;
    readonly transactions: number;
  };
  readonly batchSize: number;
  readonly levels: readonly ScaleLevel[];
  /** The slowest level's features/s over the fastest's (1 is flat). */
  readonly flatness: number | null;
  /** Landing the rest of the history between chunks, and the pipeline over it (not measured). */
  readonly fill: { readonly transactions: number; readonly seconds: number };
  readonly checkpoints: { readonly count: number; readonly meanSeconds: number | null };
  readonly memory: PeakMemory;
}

/** Arrival batches landed per warehouse transaction while filling. */
const FILL_GROUP = 20;

async function landAll(pool: Pool, batches: readonly SimulatedArrival[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    for (const batch of batches) {
      await writeArrivalBatch(client, {
        batchId: batch.batchId,
        transactions: batch.transactions,
        labels: batch.labels,
        offsets: [
          {
            topic: 'bench.tx',
            partition: 0,
            firstOffset: String(batch.firstOffset),
            lastOffset: String(batch.lastOffset),
          },
        ],
      });
    }
  });
}

async function processedCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM pipeline_batches');
  return Number(rows[0]?.n);
}

async function waitProcessed(pool: Pool, batches: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const done = await processedCount(pool);
    if (done >= batches) return;
    if (Date.now() > deadline) throw new Error(`pipeline: ${done}/${batches} batches`);
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      progress(`pipeline scale: ${fmt(done)}/${fmt(batches)} batches done`);
    }
    await sleep(50);
  }
}

function lagMax(samples: readonly PromSample[]): number | null {
  const sample = samples.find((s) => s.name === 'nodejs_eventloop_lag_max_seconds');
  return sample?.value ?? null;
}

/** The stored vectors of `batchId` against `computeFeatures` over the raw warehouse rows. */
async function checkBatch(
  pool: Pool,
  batchId: string,
): Promise<{ compared: number; mismatches: number }> {
  const targets = await readBatchTransactions(pool, batchId);
  const range = historyRange(targets);
  const [history, labels, stored] = await Promise.all([
    readHistory(
      pool,
      [...new Set(targets.map((tx) => tx.customerId))],
      [...new Set(targets.map((tx) => tx.terminalId))],
      range.fromMs,
      range.toMs,
    ),
    readKnownLabels(pool, range.fromMs, range.toMs),
    pool.query<{ transaction_id: string; feature_values: number[] }>(
      'SELECT transaction_id, feature_values FROM features WHERE batch_id = $1',
      [batchId],
    ),
  ]);
  const byId = new Map(stored.rows.map((row) => [row.transaction_id, row.feature_values]));
  let mismatches = 0;
  for (const vector of computeFeatures(targets, history, labels)) {
    const values = byId.get(vector.transactionId);
    if (values === undefined || JSON.stringify(values) !== JSON.stringify(vector.values)) {
      mismatches += 1;
    }
  }
  return { compared: targets.length, mismatches };
}

/**
 * The pipeline service on a warehouse that grows to the whole default simulation (5,000
 * customers, 10,000 terminals, 183 days): the history is landed through the ingest write path
 * and processed as it lands; at each share, `chunk` more transactions are landed at once and the
 * pipeline's time to feature them is measured, from the first event published to the last batch
 * stored, reads and writes included.
 */
export async function runScaleLevels(
  options: ScaleOptions,
  context: BenchContext,
): Promise<ScaleResults> {
  const { cleanup } = context;
  const servers = testServers();
  const simulation = { seed: options.seed };
  const config = createSimulation(simulation).config;
  progress('pipeline scale: counting the default simulation');
  let total = 0;
  for (const batch of arrivalBatches(simulation, options.batchSize)) total += batch.inputs.length;
  const schema = createTestSchema();
  cleanup.add(`drop schema ${schema.schema}`, () => schema.drop());
  const exchange = uniqueExchange();
  cleanup.add(`delete exchange ${exchange}`, () => removeTestExchange(exchange));
  const topics = await createTestTopics(['tx.none', 'tx.labels', 'tx.dlq'], 1);
  cleanup.add('delete pipeline scale topics', () => topics.remove());
  await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
  const common = {
    DATABASE_URL: schema.databaseUrl,
    AMQP_URL: servers.amqpUrl,
    WAREHOUSE_SCHEMA: schema.schema,
    AMQP_EXCHANGE: exchange,
  };
  const pipeline = startServiceProcess({
    name: 'pipeline',
    label: 'pipeline-scale',
    port: await freePort(),
    logDir: context.logDir,
    env: common,
  });
  const stopPipeline = cleanup.add('stop pipeline (scale)', () => pipeline.stop());
  await pipeline.waitReady();
  const relay = startServiceProcess({
    name: 'ingest',
    label: 'ingest-relay-scale',
    port: await freePort(),
    logDir: context.logDir,
    env: {
      ...common,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      INGEST_TOPICS: topics.names['tx.none'] as string,
      INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
      INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
      INGEST_GROUP_ID: uniqueName('bench_relay'),
      INGEST_CREATE_TOPICS: 'false',
    },
  });
  const stopRelay = cleanup.add('stop ingest relay (scale)', () => relay.stop());

  const ends = options.shares.map((share) => Math.round(share * total));
  const levels: ScaleLevel[] = [];
  const batches = arrivalBatches(simulation, options.batchSize);
  let landedTx = 0;
  let landedBatches = 0;
  let fillTx = 0;
  let fillSeconds = 0;
  let pending: SimulatedArrival | undefined;
  const next = (): SimulatedArrival | undefined => {
    if (pending !== undefined) {
      const batch = pending;
      pending = undefined;
      return batch;
    }
    const step = batches.next();
    return step.done === true ? undefined : step.value;
  };
  /** Batches up to `until` transactions landed in all (the batch that crosses it included). */
  const take = (until: number, max: number): SimulatedArrival[] => {
    const taken: SimulatedArrival[] = [];
    let count = landedTx;
    while (count < until && taken.length < max) {
      const batch = next();
      if (batch === undefined) break;
      taken.push(batch);
      count += batch.inputs.length;
    }
    return taken;
  };
  const land = async (group: readonly SimulatedArrival[]): Promise<void> => {
    await landAll(schema.pool, group);
    landedBatches += group.length;
    for (const batch of group) landedTx += batch.inputs.length;
  };

  for (const [index, end] of ends.entries()) {
    const share = options.shares[index] as number;
    const fillStarted = performance.now();
    const fillFrom = landedTx;
    for (;;) {
      const group = take(end - options.chunk, FILL_GROUP);
      if (group.length === 0) break;
      await land(group);
    }
    await waitProcessed(schema.pool, landedBatches, 30 * 60_000);
    fillTx += landedTx - fillFrom;
    fillSeconds += (performance.now() - fillStarted) / 1000;
    progress(
      `pipeline scale: ${fmt(landedTx)} transactions landed and featured; measuring ${fmt(options.chunk)} more`,
    );

    const chunk = take(end, Number.MAX_SAFE_INTEGER);
    const before = await pipeline.metrics();
    const loadAverageBefore = loadAverage();
    await land(chunk);
    await waitProcessed(schema.pool, landedBatches, 30 * 60_000);
    // Seen stored (processed_at is the start of the pass's transaction, not its commit).
    const endMs = Date.now();
    const after = await pipeline.metrics();
    const loadAverageAfter = loadAverage();
    const ids = chunk.map((batch) => batch.batchId);
    const { rows } = await schema.pool.query<{
      first: Date;
      features: string;
      examples: string;
    }>(
      `SELECT (SELECT min(published_at) FROM ingest_outbox WHERE event_id = ANY($1::text[])) AS first,
              sum(feature_count) AS features, sum(example_count) AS examples
       FROM pipeline_batches WHERE batch_id = ANY($1::text[])`,
      [ids],
    );
    const row = rows[0];
    const seconds = (endMs - (row?.first.getTime() ?? endMs)) / 1000;
    const features = Number(row?.features ?? 0);
    const passes = histogramOf(after, 'streamtrain_pipeline_batch_duration_seconds');
    const passesBefore = histogramOf(before, 'streamtrain_pipeline_batch_duration_seconds');
    const passCount = passes.count - passesBefore.count;
    const chunkPasses = {
      buckets: passes.buckets.map((bucket, i) => ({
        le: bucket.le,
        count: bucket.count - (passesBefore.buckets[i]?.count ?? 0),
      })),
      sum: passes.sum - passesBefore.sum,
      count: passCount,
    };
    const check = await checkBatch(schema.pool, ids[Math.floor(ids.length / 2)] as string);
    const level: ScaleLevel = {
      share,
      warehouseTransactions: landedTx,
      transactions: chunk.reduce((sum, batch) => sum + batch.inputs.length, 0),
      batches: chunk.length,
      features,
      examples: Number(row?.examples ?? 0),
      seconds,
      featuresPerSecond: features / seconds,
      passSeconds: {
        mean: passCount === 0 ? 0 : chunkPasses.sum / passCount,
        p99: histogramQuantile(chunkPasses, 0.99),
      },
      eventLoopLagMaxSeconds: lagMax(after),
      fromHistory:
        sumOf(after, 'streamtrain_pipeline_features_from_history_total') -
        sumOf(before, 'streamtrain_pipeline_features_from_history_total'),
      loadAverageBefore,
      loadAverageAfter,
      check,
    };
    levels.push(level);
    progress(
      `pipeline scale: at ${Math.round(share * 100)} % (${fmt(landedTx)} transactions): ` +
        `${fmt(level.featuresPerSecond)} features/s over ${seconds.toFixed(1)} s, ` +
        `check ${check.compared - check.mismatches}/${check.compared} equal, load ${loadAverageAfter.join(' ')}`,
    );
  }
  const samples = await pipeline.metrics();
  const checkpoints = histogramOf(
    samples,
    'streamtrain_pipeline_state_checkpoint_duration_seconds',
  );
  const memory = await pipeline.memory.finish();
  await stopRelay();
  await stopPipeline();
  const rates = levels.map((level) => level.featuresPerSecond);
  return {
    simulation: {
      customers: config.customers,
      terminals: config.terminals,
      days: config.days,
      transactions: total,
    },
    batchSize: options.batchSize,
    levels,
    flatness: rates.length === 0 ? null : Math.min(...rates) / Math.max(...rates),
    fill: { transactions: fillTx, seconds: fillSeconds },
    checkpoints: {
      count: checkpoints.count,
      meanSeconds: checkpoints.count === 0 ? null : checkpoints.sum / checkpoints.count,
    },
    memory,
  };
}
