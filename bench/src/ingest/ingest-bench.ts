import { migrate } from '@streamtrain/warehouse';
import { createTestSchema, createTestTopics, testLogger } from '@streamtrain/testkit';
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import { fmt, progress } from '../harness/progress';
import { ratio } from '../harness/stats';
import { bareConsume } from './bare-consumer';
import type { BareConsumeResult } from './bare-consumer';
import { bareCopy, copyTextChunks } from './bare-copy';
import type { CopyResult } from './bare-copy';
import { fillTopic } from './fill-topic';
import type { FilledTopic } from './fill-topic';
import {
  measureDecode,
  measureJsonParse,
  measureRecordBuilding,
  measureWarehouseWrite,
} from './ingest-breakdown';
import type { RecordBuilding, StepRate } from './ingest-breakdown';
import { INGEST_DEFAULTS, runIngestService } from './ingest-run';
import type { IngestRun } from './ingest-run';
import { simulatedTransactions } from './simulated-transactions';

/** The targets for the ingest service. */
export const INGEST_TARGETS = Object.freeze({ txPerSecond: 50_000, shareOfBareConsumer: 0.5 });

/** Settings tried besides the defaults; each runs over the whole topic like the default. */
export const INGEST_VARIANTS: readonly {
  readonly label: string;
  readonly overrides: Readonly<Record<string, string>>;
}[] = [
  {
    label: 'previous defaults: 1 MiB fetches, 5k-message writes, 2 partitions at once',
    overrides: {
      INGEST_PARTITIONS_CONCURRENCY: '2',
      INGEST_FETCH_MAX_BYTES_PER_PARTITION: '1048576',
      INGEST_BATCH_MAX_MESSAGES: '5000',
    },
  },
  { label: 'pool of 4', overrides: { DATABASE_POOL_SIZE: '4' } },
];

/** Options of {@link runIngestBenchmark}. */
export interface IngestBenchOptions {
  readonly messages: number;
  readonly seed: number;
  /** Try {@link INGEST_VARIANTS} too. */
  readonly variants: boolean;
  /** One more default run under `node --cpu-prof`, summarised by category. */
  readonly profile: boolean;
  /** Messages the in-process decode and record steps are timed on (the write step takes all). */
  readonly breakdownMessages: number;
}

/** `docs/results/ingest.json` `results`. */
export interface IngestResults {
  readonly messages: number;
  readonly meanMessageBytes: number;
  readonly fill: FilledTopic;
  /** (a) the reference: bare kafkajs `eachBatch` + `JSON.parse`. */
  readonly bareConsumer: BareConsumeResult;
  /** (b) the reference: bare COPY of the same rows. `indexed` is the one the ratio uses. */
  readonly bareCopy: { readonly indexed: CopyResult; readonly heap: CopyResult };
  /** (c) the ingest service with its defaults. */
  readonly service: IngestRun;
  readonly ratios: {
    readonly serviceToBareConsumer: number | null;
    readonly serviceToBareCopy: number | null;
  };
  readonly targets: typeof INGEST_TARGETS & {
    readonly metTxPerSecond: boolean;
    readonly metShareOfBareConsumer: boolean;
  };
  /** The default run first, then each variant, then the default again. */
  readonly variants: readonly (IngestRun & { readonly ratioToBareConsumer: number | null })[];
  readonly bestVariant: string;
  /** Where the time goes. */
  readonly breakdown: {
    readonly decode: StepRate;
    readonly jsonParse: StepRate;
    readonly recordBuilding: RecordBuilding;
    readonly warehouseWrite: StepRate & { readonly batchSize: number };
    readonly profiledRun?: IngestRun;
  };
}

/**
 * Benchmark 1. Fills a fresh 4-partition topic with simulated transactions, then measures on
 * that topic, in one run: the bare consumer (a), a bare COPY of the same rows (b), and the ingest
 * service as a process (c), with its defaults and the variants; then where its time goes.
 */
export async function runIngestBenchmark(
  options: IngestBenchOptions,
  context: BenchContext,
): Promise<BenchOutcome<IngestResults>> {
  const { cleanup } = context;
  const { messages, seed } = options;
  const topics = await createTestTopics(['tx.bench', 'tx.labels', 'tx.dlq'], 4);
  const removeTopics = cleanup.add('delete ingest topics', () => topics.remove());
  const topic = topics.names['tx.bench'] as string;
  const timeoutMs = Math.max(180_000, (messages / 2_000) * 1_000);
  try {
    progress(
      `ingest: producing ${fmt(messages)} simulated transactions to ${topic} (4 partitions)`,
    );
    const fill = await fillTopic(topics.kafka, topic, simulatedTransactions(seed, messages));
    progress(
      `ingest: topic filled in ${fill.seconds.toFixed(1)} s (${fmt(fill.messages / fill.seconds)} msgs/s, ` +
        `${(fill.bytes / fill.messages).toFixed(0)} bytes each)`,
    );

    progress('ingest: (a) bare kafkajs eachBatch consumer + JSON.parse');
    const bare = await bareConsume(topics.kafka, topic, messages, timeoutMs);
    progress(`ingest: (a) ${fmt(bare.messagesPerSecond)} msgs/s over ${bare.seconds.toFixed(1)} s`);

    progress('ingest: (b) bare COPY FROM STDIN of the same rows');
    const schema = createTestSchema();
    const dropSchema = cleanup.add(`drop schema ${schema.schema}`, () => schema.drop());
    let copyIndexed: CopyResult;
    let copyHeap: CopyResult;
    let decode: StepRate;
    let jsonParse: StepRate;
    let recordBuilding: RecordBuilding;
    let warehouseWrite: StepRate;
    const breakdownMessages = Math.min(messages, options.breakdownMessages);
    const writeBatch = Number(INGEST_DEFAULTS.INGEST_BATCH_MAX_MESSAGES);
    try {
      await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
      const chunks = copyTextChunks(simulatedTransactions(seed, messages), topic);
      copyIndexed = await bareCopy(schema.pool, 'copy_indexed', chunks, messages, true);
      progress(
        `ingest: (b) ${fmt(copyIndexed.rowsPerSecond)} rows/s into a table with the indexes of transactions`,
      );
      copyHeap = await bareCopy(schema.pool, 'copy_heap', chunks, messages, false);
      progress(`ingest: (b) ${fmt(copyHeap.rowsPerSecond)} rows/s into a bare heap`);

      progress(`ingest: in-process steps on ${fmt(breakdownMessages)} messages`);
      decode = measureDecode(simulatedTransactions(seed, breakdownMessages));
      jsonParse = measureJsonParse(simulatedTransactions(seed, breakdownMessages));
      recordBuilding = measureRecordBuilding(simulatedTransactions(seed, breakdownMessages));
      // The write step runs over every message, like (b) and (c): index size changes its cost.
      warehouseWrite = await measureWarehouseWrite(
        schema.pool,
        simulatedTransactions(seed, messages),
        writeBatch,
        topic,
      );
      progress(
        `ingest: decode ${fmt(decode.perSecond)}/s (JSON.parse alone ${fmt(jsonParse.perSecond)}/s), ` +
          `records ${recordBuilding.spread.microsEach.toFixed(2)} µs each with a spread, ` +
          `${recordBuilding.literal.microsEach.toFixed(2)} µs written out; ` +
          `warehouse write ${fmt(warehouseWrite.perSecond)}/s on one connection`,
      );
    } finally {
      await dropSchema();
    }

    const runs: IngestRun[] = [];
    // The default runs first and again after the variants: the two bound the run-to-run noise
    // of a shared machine.
    const plans = [
      { label: 'default', overrides: {} },
      ...(options.variants ? [...INGEST_VARIANTS, { label: 'default, again', overrides: {} }] : []),
    ];
    for (const plan of plans) {
      progress(`ingest: (c) service, ${plan.label} ${JSON.stringify(plan.overrides)}`);
      const run = await runIngestService({
        ...plan,
        topic,
        labelsTopic: topics.names['tx.labels'] as string,
        deadLetterTopic: topics.names['tx.dlq'] as string,
        expected: messages,
        logDir: context.logDir,
        cleanup,
        timeoutMs,
      });
      runs.push(run);
      progress(
        `ingest: (c) ${plan.label}: ${fmt(run.txPerSecond)} tx/s from the first row ` +
          `(${run.seconds.toFixed(1)} s; ${fmt(run.txPerSecondFromStart)} tx/s from process start), ` +
          `${(run.txPerSecond / bare.messagesPerSecond).toFixed(2)} of (a), ` +
          `${(run.txPerSecond / copyIndexed.rowsPerSecond).toFixed(2)} of (b)`,
      );
    }
    let profiledRun: IngestRun | undefined;
    if (options.profile) {
      progress('ingest: default settings once more under node --cpu-prof');
      profiledRun = await runIngestService({
        label: 'default, --cpu-prof',
        overrides: {},
        topic,
        labelsTopic: topics.names['tx.labels'] as string,
        deadLetterTopic: topics.names['tx.dlq'] as string,
        expected: messages,
        logDir: context.logDir,
        cleanup,
        timeoutMs,
        cpuProfile: true,
      });
      const top = profiledRun.cpu?.categories
        .slice(0, 4)
        .map((c) => `${c.category} ${(c.share * 100).toFixed(0)}%`)
        .join(', ');
      progress(`ingest: main thread busy time: ${top ?? 'n/a'}`);
    }

    const service = runs[0] as IngestRun;
    const best = runs.reduce((a, b) => (b.txPerSecond > a.txPerSecond ? b : a));
    const toBare = ratio(service.txPerSecond, bare.messagesPerSecond);
    return {
      config: {
        messages,
        seed,
        topicPartitions: 4,
        simulation: 'handbook population (5,000 customers, 10,000 terminals), transactions only',
        bareConsumerSettings:
          'ingest defaults: 1 MiB/partition, 8 MiB/fetch, min 128 KiB, wait 500 ms, 2 partitions at once',
        ingestDefaults: INGEST_DEFAULTS,
        breakdownMessages,
      },
      results: {
        messages,
        meanMessageBytes: fill.bytes / fill.messages,
        fill,
        bareConsumer: bare,
        bareCopy: { indexed: copyIndexed, heap: copyHeap },
        service,
        ratios: {
          serviceToBareConsumer: toBare,
          serviceToBareCopy: ratio(service.txPerSecond, copyIndexed.rowsPerSecond),
        },
        targets: {
          ...INGEST_TARGETS,
          metTxPerSecond: service.txPerSecond >= INGEST_TARGETS.txPerSecond,
          metShareOfBareConsumer: (toBare ?? 0) >= INGEST_TARGETS.shareOfBareConsumer,
        },
        variants: runs.map((run) => ({
          ...run,
          ratioToBareConsumer: ratio(run.txPerSecond, bare.messagesPerSecond),
        })),
        bestVariant: best.label,
        breakdown: {
          decode,
          jsonParse,
          recordBuilding,
          warehouseWrite: { ...warehouseWrite, batchSize: writeBatch },
          ...(profiledRun === undefined ? {} : { profiledRun }),
        },
      },
    };
  } finally {
    await removeTopics();
  }
}
