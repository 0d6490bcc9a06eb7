import { setTimeout as sleep } from 'node:timers/promises';
import { inTransaction, migrate, writeArrivalBatch } from '@streamtrain/warehouse';
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
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import type { PeakMemory } from '../harness/proc-memory';
import { fmt, progress } from '../harness/progress';
import { histogramOf, histogramQuantile } from '../harness/prometheus-text';
import { cpuSnapshot, cpuUsage, serverClassifier } from '../harness/cpu-usage';
import type { CpuUsage } from '../harness/cpu-usage';
import { startServiceProcess } from '../harness/service-process';
import { ratio } from '../harness/stats';
import { SMALL_POPULATION, simulateArrivals } from './landed-data';
import { prepareFeatureCalls, timeFeatureCalls } from './reference-features';
import { runScaleLevels } from './scale-levels';
import type { ScaleOptions, ScaleResults } from './scale-levels';

/** Options of {@link runPipelineBenchmark}. */
export interface PipelineBenchOptions {
  readonly transactions: number;
  readonly batchSize: number;
  readonly seed: number;
  /** The run on a warehouse growing to the whole default simulation; null to skip it. */
  readonly scale: ScaleOptions | null;
}

/** `docs/results/pipeline.json` `results`. */
export interface PipelineResults {
  readonly transactions: number;
  readonly labels: number;
  readonly batches: number;
  readonly simulatedDays: number;
  /** Landing the batches through `writeArrivalBatch` (setup, not part of the figure). */
  readonly landing: { readonly seconds: number; readonly txPerSecond: number };
  /** The pipeline service as a process, from the first `batch.arrived` published to the last batch stored. */
  readonly service: {
    readonly features: number;
    readonly seconds: number;
    readonly featuresPerSecond: number;
    readonly batchSeconds: { mean: number; p50: number | null; p99: number | null };
    readonly memory: PeakMemory;
    /** Cores used by each process group while the batches were processed. */
    readonly machineCpu: CpuUsage;
  };
  /** `computeFeatures` alone, in-process, on the same batches, history and labels. */
  readonly reference: {
    readonly seconds: number;
    readonly featuresPerSecond: number;
    /** History rows handed to `computeFeatures`, summed over batches. */
    readonly historyRows: number;
  };
  readonly ratio: number | null;
  /** Stored vectors compared with the reference's: the two computed the same thing. */
  readonly check: { readonly compared: number; readonly mismatches: number };
  /** The pipeline on a warehouse holding 10, 50 and 100 % of the default simulation. */
  readonly scale?: ScaleResults;
}

/**
 * Benchmark 2. Lands N simulated transactions (and their labels) through the warehouse write path
 * in arrival batches, runs the pipeline service as a process and lets an ingest process relay the
 * batch.arrived events from the outbox, as in production; times until every batch's features are
 * stored. Reference: `computeFeatures` in-process on the same batches.
 */
export async function runPipelineBenchmark(
  options: PipelineBenchOptions,
  context: BenchContext,
): Promise<BenchOutcome<PipelineResults>> {
  const { cleanup } = context;
  const servers = testServers();
  progress(`pipeline: simulating ${fmt(options.transactions)} transactions`);
  const data = simulateArrivals(options.seed, options.transactions, options.batchSize);
  const schema = createTestSchema();
  cleanup.add(`drop schema ${schema.schema}`, () => schema.drop());
  const exchange = uniqueExchange();
  cleanup.add(`delete exchange ${exchange}`, () => removeTestExchange(exchange));
  const topics = await createTestTopics(['tx.none', 'tx.labels', 'tx.dlq'], 1);
  cleanup.add('delete pipeline topics', () => topics.remove());
  try {
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
    progress(`pipeline: landing ${data.batches.length} batches through writeArrivalBatch`);
    const landingStarted = performance.now();
    for (const batch of data.batches) {
      await inTransaction(schema.pool, (client) =>
        writeArrivalBatch(client, {
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
        }),
      );
    }
    const landingSeconds = (performance.now() - landingStarted) / 1000;

    progress('pipeline: reference: computeFeatures in-process on the same batches');
    const calls = prepareFeatureCalls(data);
    // One untimed pass warms V8 up, as the service's first batches do.
    timeFeatureCalls(calls.slice(0, 3));
    const reference = timeFeatureCalls(calls);
    progress(
      `pipeline: reference ${fmt(data.inputs.length / reference.seconds)} features/s ` +
        `(${reference.seconds.toFixed(2)} s of compute)`,
    );

    const common = {
      DATABASE_URL: schema.databaseUrl,
      AMQP_URL: servers.amqpUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      AMQP_EXCHANGE: exchange,
    };
    const pipeline = startServiceProcess({
      name: 'pipeline',
      port: await freePort(),
      logDir: context.logDir,
      env: common,
    });
    const stopPipeline = cleanup.add('stop pipeline', () => pipeline.stop());
    await pipeline.waitReady();
    progress('pipeline: service ready; an ingest process relays the batch.arrived events');
    const classify = serverClassifier(new Map([[pipeline.pid, 'pipeline service']]));
    const cpuBefore = await cpuSnapshot(classify);
    // Ingest is the outbox's relay in production: started on empty topics, it publishes every
    // pending batch.arrived at once and then idles.
    const relay = startServiceProcess({
      name: 'ingest',
      label: 'ingest-relay',
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
    const stopRelay = cleanup.add('stop ingest relay', () => relay.stop());
    const ownPids = new Map([
      [pipeline.pid, 'pipeline service'],
      [relay.pid, 'ingest (relay only)'],
    ]);
    const expectedBatches = data.batches.length;
    const deadline = Date.now() + Math.max(300_000, options.transactions * 5);
    let done = 0;
    let lastReport = Date.now();
    for (;;) {
      const { rows } = await schema.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM pipeline_batches',
      );
      done = Number(rows[0]?.n);
      if (done >= expectedBatches) break;
      if (Date.now() > deadline) throw new Error(`pipeline: ${done}/${expectedBatches} batches`);
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        progress(`pipeline: ${done}/${expectedBatches} batches done`);
      }
      await sleep(50);
    }
    const endAtMs = Date.now();
    const machineCpu = cpuUsage(cpuBefore, await cpuSnapshot(serverClassifier(ownPids)));
    const samples = await pipeline.metrics();
    const memory = await pipeline.memory.finish();
    await stopRelay();
    await stopPipeline();
    const { rows } = await schema.pool.query<{ first: Date; features: string }>(
      `SELECT (SELECT min(published_at) FROM ingest_outbox) AS first,
              (SELECT count(*) FROM features) AS features`,
    );
    const firstPublishedMs = rows[0]?.first.getTime() ?? relay.spawnedAtMs;
    const features = Number(rows[0]?.features);
    const seconds = (endAtMs - firstPublishedMs) / 1000;
    const featuresPerSecond = features / seconds;
    const referencePerSecond = data.inputs.length / reference.seconds;

    // The stored vectors of a middle batch against the reference's.
    const probe = data.batches[Math.floor(data.batches.length / 2)];
    let compared = 0;
    let mismatches = 0;
    if (probe !== undefined) {
      const stored = await schema.pool.query<{ transaction_id: string; feature_values: number[] }>(
        'SELECT transaction_id, feature_values FROM features WHERE batch_id = $1',
        [probe.batchId],
      );
      for (const row of stored.rows) {
        compared += 1;
        const expected = reference.vectors.get(row.transaction_id)?.values;
        const same =
          expected !== undefined &&
          expected.length === row.feature_values.length &&
          expected.every((value, i) => Math.abs(value - (row.feature_values[i] as number)) < 1e-9);
        if (!same) mismatches += 1;
      }
    }
    const batchSeconds = histogramOf(samples, 'streamtrain_pipeline_batch_duration_seconds');
    const scale = options.scale === null ? undefined : await runScaleLevels(options.scale, context);
    progress(
      `pipeline: service ${fmt(featuresPerSecond)} features/s over ${seconds.toFixed(1)} s, ` +
        `${(featuresPerSecond / referencePerSecond).toFixed(3)} of computeFeatures alone`,
    );
    return {
      config: {
        transactions: options.transactions,
        batchSize: options.batchSize,
        seed: options.seed,
        population: SMALL_POPULATION,
        pipelineSettings:
          'defaults (AMQP_PREFETCH 32, PIPELINE_MATURITY_DAYS 7, PIPELINE_STATE_SLACK_DAYS 2, PIPELINE_STATE_CHECKPOINT_SECONDS 60, DATABASE_POOL_SIZE 8)',
        ...(options.scale === null ? {} : { scale: options.scale }),
      },
      results: {
        transactions: data.inputs.length,
        labels: data.labels.length,
        batches: data.batches.length,
        simulatedDays: Math.round(
          ((data.inputs[data.inputs.length - 1]?.eventTimeMs ?? 0) -
            (data.inputs[0]?.eventTimeMs ?? 0)) /
            86_400_000,
        ),
        landing: { seconds: landingSeconds, txPerSecond: data.inputs.length / landingSeconds },
        service: {
          features,
          seconds,
          featuresPerSecond,
          batchSeconds: {
            mean: batchSeconds.count === 0 ? 0 : batchSeconds.sum / batchSeconds.count,
            p50: histogramQuantile(batchSeconds, 0.5),
            p99: histogramQuantile(batchSeconds, 0.99),
          },
          memory,
          machineCpu,
        },
        reference: {
          seconds: reference.seconds,
          featuresPerSecond: referencePerSecond,
          historyRows: reference.historyRows,
        },
        ratio: ratio(featuresPerSecond, referencePerSecond),
        check: { compared, mismatches },
        ...(scale === undefined ? {} : { scale }),
      },
    };
  } finally {
    // Stops the processes before the schema, exchange and topics they use go.
    await cleanup.runAll();
  }
}
