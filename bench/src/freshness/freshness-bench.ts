import { setTimeout as sleep } from 'node:timers/promises';
import { createSimulation, publishEvents } from '@streamtrain/simulator';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  removeTestExchange,
  testServers,
  uniqueExchange,
  uniqueName,
} from '@streamtrain/testkit';
import type { Pool } from '@streamtrain/warehouse';
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import type { PeakMemory } from '../harness/proc-memory';
import { fmt, progress } from '../harness/progress';
import { cpuSnapshot, cpuUsage, serverClassifier } from '../harness/cpu-usage';
import type { CpuUsage } from '../harness/cpu-usage';
import { startServiceProcess } from '../harness/service-process';
import type { ServiceName, ServiceProcess } from '../harness/service-process';
import { distribution } from '../harness/stats';
import type { Distribution } from '../harness/stats';
import { ProduceLog } from './produce-log';

/** Options of {@link runFreshnessBenchmark}. */
export interface FreshnessBenchOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly seed: number;
  /** Longest wait, after the feed stops, for the loop to finish what was produced. */
  readonly drainSeconds: number;
}

/** `docs/results/freshness.json` `results`. */
export interface FreshnessResults {
  readonly produced: {
    readonly transactions: number;
    readonly labels: number;
    readonly seconds: number;
    readonly eventsPerSecond: number;
  };
  /** (a) a transaction in Kafka → its features stored (`features.computed_at`), in seconds. */
  readonly txToFeatures: Distribution & { readonly missing: number };
  /** (b) a label in Kafka → the first model version trained on it (`model_versions.created_at`). */
  readonly labelToModel: Distribution & {
    /** Labels of holdout transactions (1 in 5 by hash): evaluated on, never trained on. */
    readonly holdout: number;
    /** Labels not trained on by the end of the drain. */
    readonly notTrained: number;
  };
  /** Part of (b): a label in Kafka → its training example stored by the pipeline. */
  readonly labelToExample: Distribution;
  /** Whether the pipeline kept up with the feed. */
  readonly backlog: {
    readonly ingestBatchesPerSecond: number;
    readonly pipelineBatchesPerSecond: number;
    /** Transactions produced, and with features stored, when the feed stopped. */
    readonly producedAtFeedEnd: number;
    readonly featuresAtFeedEnd: number;
    /** From the feed's end to the last features stored. */
    readonly lastFeaturesAfterFeedSeconds: number | null;
  };
  readonly modelVersions: number;
  readonly drained: boolean;
  readonly drainSeconds: number;
  /** Peak memory of each service process over the run. */
  readonly memory: Readonly<Record<ServiceName, PeakMemory>>;
  /** Cores used by each process group while the feed ran. */
  readonly machineCpu: CpuUsage;
}

/** The population `make demo` streams: about 1,900 transactions a simulated day. */
export const DEMO_POPULATION = Object.freeze({ customers: 1_000, terminals: 2_000 });
const TRANSACTIONS_PER_DAY_AT_LEAST = 1_500;

const SERVICES: readonly ServiceName[] = ['ingest', 'pipeline', 'trainer'];
const CHANNEL_TOPICS = ['tx.mobile', 'tx.web', 'tx.pos'] as const;

interface LoopCounts {
  transactions: number;
  labels: number;
  features: number;
  ingestBatches: number;
  pipelineBatches: number;
  trainerBatches: number;
  pending: number;
  versions: number;
}

async function loopCounts(pool: Pool): Promise<LoopCounts> {
  const { rows } = await pool.query<Record<keyof LoopCounts, string>>(
    `SELECT (SELECT count(*) FROM transactions) AS transactions,
            (SELECT count(*) FROM labels) AS labels,
            (SELECT count(*) FROM features) AS features,
            (SELECT count(*) FROM ingest_batches) AS "ingestBatches",
            (SELECT count(*) FROM pipeline_batches) AS "pipelineBatches",
            (SELECT count(*) FROM trainer_batches) AS "trainerBatches",
            (SELECT count(*) FROM trainer_batches WHERE outcome = 'pending') AS pending,
            (SELECT count(*) FROM model_versions) AS versions`,
  );
  const row = rows[0];
  return Object.fromEntries(
    Object.entries(row ?? {}).map(([key, value]) => [key, Number(value)]),
  ) as unknown as LoopCounts;
}

function describe(counts: LoopCounts): string {
  return (
    `landed ${fmt(counts.transactions)} tx + ${fmt(counts.labels)} labels, ` +
    `features ${fmt(counts.features)}, batches ${counts.ingestBatches}/${counts.pipelineBatches}/` +
    `${counts.trainerBatches} (${counts.pending} pending), ${counts.versions} model versions`
  );
}

function seconds(values: readonly number[]): Distribution {
  return distribution(values.map((ms) => ms / 1000));
}

/**
 * Benchmark 4. The whole loop (ingest, pipeline, trainer as processes, default settings, fresh
 * topics, schema and exchange), fed by the simulator at a fixed rate. The wall time each
 * transaction and label reached Kafka is kept in memory and, afterwards, set against what the
 * warehouse recorded: when the features were stored, and when the first model version trained
 * on each label was registered.
 */
export async function runFreshnessBenchmark(
  options: FreshnessBenchOptions,
  context: BenchContext,
): Promise<BenchOutcome<FreshnessResults>> {
  const { cleanup } = context;
  const servers = testServers();
  const topics = await createTestTopics([...CHANNEL_TOPICS, 'tx.labels', 'tx.dlq'], 4);
  cleanup.add('delete freshness topics', () => topics.remove());
  const schema = createTestSchema();
  cleanup.add(`drop schema ${schema.schema}`, () => schema.drop());
  const exchange = uniqueExchange();
  cleanup.add(`delete exchange ${exchange}`, () => removeTestExchange(exchange));
  const labelsTopic = topics.names['tx.labels'] as string;
  const topicPrefix = labelsTopic.slice(0, -'tx.labels'.length);
  try {
    const common = {
      DATABASE_URL: schema.databaseUrl,
      AMQP_URL: servers.amqpUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      AMQP_EXCHANGE: exchange,
    };
    const env: Record<ServiceName, Record<string, string>> = {
      ingest: {
        ...common,
        KAFKA_BROKERS: servers.kafkaBrokers.join(','),
        INGEST_TOPICS: CHANNEL_TOPICS.map((base) => topics.names[base] as string).join(','),
        INGEST_LABELS_TOPIC: labelsTopic,
        INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
        INGEST_GROUP_ID: uniqueName('bench_fresh'),
        INGEST_CREATE_TOPICS: 'false',
      },
      pipeline: common,
      trainer: { ...common, TRAINER_API_TOKEN: 'bench-trainer-token-0123456789' },
    };
    const processes = {} as Record<ServiceName, ServiceProcess>;
    for (const name of SERVICES) {
      const service = startServiceProcess({
        name,
        port: await freePort(),
        logDir: context.logDir,
        label: `${name}-freshness`,
        env: env[name],
      });
      processes[name] = service;
      cleanup.add(`stop ${name}`, () => service.stop());
    }
    // Stopped in reverse order of the flow.
    await Promise.all(SERVICES.map((name) => processes[name].waitReady()));
    progress(
      `freshness: ingest, pipeline and trainer ready; feeding ${fmt(options.rate)} events/s for ${options.seconds} s`,
    );

    const limit = options.rate * options.seconds;
    const simulation = createSimulation({
      seed: options.seed,
      ...DEMO_POPULATION,
      days: Math.ceil(limit / TRANSACTIONS_PER_DAY_AT_LEAST) + 2,
    });
    const classify = serverClassifier(
      new Map(SERVICES.map((name) => [processes[name].pid, `${name} service`])),
    );
    const producer = await topics.kafka.producer();
    cleanup.add('disconnect producer', () => producer.disconnect());
    const log = new ProduceLog();
    const cpuBefore = await cpuSnapshot(classify);
    const feedStarted = performance.now();
    const reporter = setInterval(() => {
      void loopCounts(schema.pool).then(
        (counts) =>
          progress(
            `freshness: produced ${fmt(log.transactions.size)} tx + ${fmt(log.labels.size)} labels; ${describe(counts)}`,
          ),
        () => undefined,
      );
    }, 10_000);
    let feedSeconds: number;
    try {
      await publishEvents(simulation.events(), {
        send: log.sender(producer, labelsTopic),
        ratePerSecond: options.rate,
        limit,
        topicPrefix,
        labelsTopic: 'tx.labels',
      });
      feedSeconds = (performance.now() - feedStarted) / 1000;
      const feedEndMs = Date.now();
      const machineCpu = cpuUsage(cpuBefore, await cpuSnapshot(classify));
      const atFeedEnd = await loopCounts(schema.pool);
      const producedAtFeedEnd = log.transactions.size;
      progress(
        `freshness: feed done in ${feedSeconds.toFixed(1)} s; waiting up to ${options.drainSeconds} s for the loop to finish it`,
      );
      const drainStarted = performance.now();
      const drainDeadline = Date.now() + options.drainSeconds * 1000;
      let drained = false;
      for (;;) {
        const counts = await loopCounts(schema.pool);
        drained =
          counts.transactions >= log.transactions.size &&
          counts.labels >= log.labels.size &&
          counts.pipelineBatches >= counts.ingestBatches &&
          // Every features.ready seen by the trainer. Batches still pending hold fewer examples
          // than a training step (TRAINER_MIN_EXAMPLES); their labels count as not trained.
          counts.trainerBatches >= counts.pipelineBatches;
        if (drained || Date.now() > drainDeadline) break;
        await sleep(500);
      }
      const drainSeconds = (performance.now() - drainStarted) / 1000;
      clearInterval(reporter);
      progress(
        `freshness: ${drained ? 'drained' : 'drain timed out'} after ${drainSeconds.toFixed(1)} s`,
      );

      const memory = {} as Record<ServiceName, PeakMemory>;
      for (const name of SERVICES) memory[name] = await processes[name].memory.finish();
      for (const name of [...SERVICES].reverse()) await processes[name].stop();

      const features = await schema.pool.query<{ transaction_id: string; computed_at: Date }>(
        'SELECT transaction_id, computed_at FROM features',
      );
      const featureLatencies: number[] = [];
      const featured = new Set<string>();
      let lastFeaturesMs: number | null = null;
      for (const row of features.rows) {
        lastFeaturesMs = Math.max(lastFeaturesMs ?? 0, row.computed_at.getTime());
        const producedAt = log.transactions.get(row.transaction_id);
        if (producedAt === undefined) continue;
        featured.add(row.transaction_id);
        featureLatencies.push(row.computed_at.getTime() - producedAt);
      }
      const labelled = await schema.pool.query<{
        transaction_id: string;
        holdout: boolean;
        example_at: Date | null;
        model_at: Date | null;
      }>(
        `SELECT l.transaction_id,
                abs(hashtext(l.transaction_id)) % 5 = 0 AS holdout,
                pb.processed_at AS example_at,
                mv.created_at AS model_at
         FROM labels l
         LEFT JOIN training_examples te ON te.transaction_id = l.transaction_id
         LEFT JOIN pipeline_batches pb ON pb.batch_id = te.example_set_id
         LEFT JOIN trainer_batches tb ON tb.batch_id = te.example_set_id
         LEFT JOIN model_versions mv ON mv.version_id = tb.version_id`,
      );
      const modelLatencies: number[] = [];
      const exampleLatencies: number[] = [];
      let holdout = 0;
      let notTrained = 0;
      for (const row of labelled.rows) {
        const producedAt = log.labels.get(row.transaction_id);
        if (producedAt === undefined) continue;
        if (row.example_at !== null) exampleLatencies.push(row.example_at.getTime() - producedAt);
        if (row.holdout) holdout += 1;
        else if (row.model_at === null) notTrained += 1;
        else modelLatencies.push(row.model_at.getTime() - producedAt);
      }
      const versions = await loopCounts(schema.pool);
      const txToFeatures = {
        ...seconds(featureLatencies),
        missing: log.transactions.size - featured.size,
      };
      const labelToModel = { ...seconds(modelLatencies), holdout, notTrained };
      progress(
        `freshness: tx → features p50 ${txToFeatures.p50?.toFixed(2)} s, p99 ${txToFeatures.p99?.toFixed(2)} s; ` +
          `label → model p50 ${labelToModel.p50?.toFixed(1)} s, p99 ${labelToModel.p99?.toFixed(1)} s`,
      );
      return {
        config: {
          ratePerSecond: options.rate,
          feedSeconds: options.seconds,
          seed: options.seed,
          drainSeconds: options.drainSeconds,
          simulation: `the demo's population, ${DEMO_POPULATION.customers.toLocaleString('en-US')} customers and ${DEMO_POPULATION.terminals.toLocaleString('en-US')} terminals (about 1,900 transactions a simulated day); the default label delay, uniform over 1 to 7 simulated days`,
          serviceSettings:
            'defaults: ingest linger 500 ms, pipeline maturity 7 days, TRAINER_MIN_EXAMPLES 2000, TRAINER_MAX_WAIT_MS 30000',
        },
        results: {
          produced: {
            transactions: log.transactions.size,
            labels: log.labels.size,
            seconds: feedSeconds,
            eventsPerSecond: (log.transactions.size + log.labels.size) / feedSeconds,
          },
          txToFeatures,
          labelToModel,
          labelToExample: seconds(exampleLatencies),
          backlog: {
            ingestBatchesPerSecond: atFeedEnd.ingestBatches / feedSeconds,
            pipelineBatchesPerSecond: atFeedEnd.pipelineBatches / feedSeconds,
            producedAtFeedEnd,
            featuresAtFeedEnd: atFeedEnd.features,
            lastFeaturesAfterFeedSeconds:
              lastFeaturesMs === null ? null : (lastFeaturesMs - feedEndMs) / 1000,
          },
          modelVersions: versions.versions,
          drained,
          drainSeconds,
          memory,
          machineCpu,
        },
      };
    } finally {
      clearInterval(reporter);
    }
  } finally {
    await cleanup.runAll();
  }
}
