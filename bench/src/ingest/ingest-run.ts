import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createTestSchema,
  freePort,
  removeTestExchange,
  testServers,
  uniqueExchange,
  uniqueName,
} from '@streamtrain/testkit';
import type { Cleanup } from '../harness/cleanup';
import { readCpuProfile, summarizeCpuProfile } from '../harness/cpu-profile';
import { cpuSnapshot, cpuUsage, serverClassifier } from '../harness/cpu-usage';
import type { CpuSnapshot, CpuUsage } from '../harness/cpu-usage';
import type { CpuBreakdown } from '../harness/cpu-profile';
import type { PeakMemory } from '../harness/proc-memory';
import { fmt, progress } from '../harness/progress';
import { histogramOf, histogramQuantile, sumOf } from '../harness/prometheus-text';
import type { PromSample } from '../harness/prometheus-text';
import { startServiceProcess } from '../harness/service-process';

/** The ingest defaults the variants change (services/ingest/src/config.ts, libs/config). */
export const INGEST_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  INGEST_BATCH_MAX_MESSAGES: '20000',
  INGEST_PARTITIONS_CONCURRENCY: '4',
  INGEST_FETCH_MAX_BYTES_PER_PARTITION: '4194304',
  DATABASE_POOL_SIZE: '8',
});

/** Options of {@link runIngestService}. */
export interface IngestRunOptions {
  readonly label: string;
  /** Environment on top of the defaults. */
  readonly overrides: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly labelsTopic: string;
  readonly deadLetterTopic: string;
  readonly expected: number;
  /** Malformed messages in the topic: the run also waits for their dead letters. @default 0 */
  readonly expectedDeadLetters?: number;
  readonly logDir: string;
  readonly cleanup: Cleanup;
  readonly timeoutMs: number;
  /** Runs the service under `node --cpu-prof` and summarises where its main thread went. */
  readonly cpuProfile?: boolean;
}

/** One end-to-end run of the ingest service over the whole topic. */
export interface IngestRun {
  readonly label: string;
  /** The run's consumer group (its committed offsets tell what it finished). */
  readonly groupId: string;
  /** The settings of the run: the defaults with the overrides applied. */
  readonly settings: Readonly<Record<string, string>>;
  readonly overrides: Readonly<Record<string, string>>;
  readonly transactions: number;
  /** From the first landed row (its write transaction's start) until all rows and events are out. */
  readonly seconds: number;
  readonly txPerSecond: number;
  /** From spawning the process (Node start, migrations, group join) to the same end. */
  readonly secondsFromStart: number;
  readonly txPerSecondFromStart: number;
  /** Spawn to the first landed row. */
  readonly startupSeconds: number;
  readonly batches: number;
  readonly meanBatchMessages: number;
  /** `streamtrain_ingest_batch_duration_seconds`: validate, write, commit one batch. */
  readonly batchSeconds: { mean: number; p50: number | null; p99: number | null };
  /** Sum of batch handler time over `concurrency × seconds`: how busy the handler slots were. */
  readonly handlerBusyShare: number;
  readonly deadLetters: number;
  readonly memory: PeakMemory;
  /** Cores used by each process group from the first rows landed to the end (the whole machine's). */
  readonly machineCpu: CpuUsage | null;
  /** Where the ingest main thread's time went (only the `--cpu-prof` run). */
  readonly cpu?: CpuBreakdown;
}

function settingsOf(overrides: Readonly<Record<string, string>>): Record<string, string> {
  return { ...INGEST_DEFAULTS, ...overrides };
}

interface Progress {
  landed: number;
  batches: number;
  published: number;
  deadLetters: number;
}

function progressOf(samples: readonly PromSample[]): Progress {
  return {
    landed: sumOf(samples, 'streamtrain_ingest_messages_total', { outcome: 'landed' }),
    deadLetters: sumOf(samples, 'streamtrain_ingest_messages_total', { outcome: 'dead_lettered' }),
    batches: sumOf(samples, 'streamtrain_ingest_batches_total'),
    published: sumOf(samples, 'streamtrain_outbox_published_total'),
  };
}

/**
 * Runs `node services/ingest/dist/main.js` on its own schema, exchange and consumer group over the
 * pre-filled topic, and times it until every transaction is in the warehouse and every arrival
 * event is published. Completion is watched on `/metrics` every 50 ms and confirmed in the
 * warehouse (`ingest_outbox` has no unpublished row).
 */
export async function runIngestService(options: IngestRunOptions): Promise<IngestRun> {
  const servers = testServers();
  const schema = createTestSchema();
  const dropSchema = options.cleanup.add(`drop schema ${schema.schema}`, () => schema.drop());
  const exchange = uniqueExchange();
  const removeExchange = options.cleanup.add(`delete exchange ${exchange}`, () =>
    removeTestExchange(exchange),
  );
  const settings = settingsOf(options.overrides);
  const groupId = uniqueName('bench_ingest');
  const expectedDeadLetters = options.expectedDeadLetters ?? 0;
  const profileDir = options.cpuProfile
    ? await mkdtemp(path.join(tmpdir(), 'streamtrain-cpuprof-'))
    : undefined;
  const service = startServiceProcess({
    name: 'ingest',
    label: `ingest-${options.label.replace(/\W+/g, '-')}`,
    port: await freePort(),
    logDir: options.logDir,
    nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    env: {
      DATABASE_URL: schema.databaseUrl,
      AMQP_URL: servers.amqpUrl,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      WAREHOUSE_SCHEMA: schema.schema,
      AMQP_EXCHANGE: exchange,
      INGEST_TOPICS: options.topic,
      INGEST_LABELS_TOPIC: options.labelsTopic,
      INGEST_DEAD_LETTER_TOPIC: options.deadLetterTopic,
      INGEST_GROUP_ID: groupId,
      INGEST_CREATE_TOPICS: 'false',
      ...settings,
    },
  });
  const stopService = options.cleanup.add(`stop ${options.label} ingest`, () => service.stop());
  try {
    const deadline = Date.now() + options.timeoutMs;
    let current: Progress = { landed: 0, batches: 0, published: 0, deadLetters: 0 };
    let lastReport = Date.now();
    const classify = serverClassifier(new Map([[service.pid, 'ingest service']]));
    let cpuBefore: CpuSnapshot | undefined;
    let exitCode: number | null | undefined;
    void service.exited.then((code) => {
      exitCode = code;
    });
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`ingest exited with ${exitCode}; see ${service.logFile}`);
      }
      try {
        current = progressOf(await service.metrics());
      } catch {
        // Not listening yet: the HTTP server starts once the consumer runs.
      }
      if (
        current.landed >= options.expected &&
        current.deadLetters >= expectedDeadLetters &&
        current.published >= current.batches
      )
        break;
      if (cpuBefore === undefined && current.landed > 0) cpuBefore = await cpuSnapshot(classify);
      if (Date.now() > deadline) {
        throw new Error(
          `ingest ${options.label}: ${current.landed}/${options.expected} landed after ${options.timeoutMs} ms`,
        );
      }
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        progress(
          `ingest ${options.label}: landed ${fmt(current.landed)}/${fmt(options.expected)}, ` +
            `${fmt(current.published)}/${fmt(current.batches)} events published`,
        );
      }
      await sleep(50);
    }
    let endAtMs = Date.now();
    const cpuAfter = await cpuSnapshot(classify);
    const samples = await service.metrics();
    const memory = await service.memory.finish();
    // Confirmed in the warehouse; the metrics are only the fast signal.
    const check = async (): Promise<{ rows: number; unpublished: number; first: Date | null }> => {
      const { rows } = await schema.pool.query<{
        rows: string;
        unpublished: string;
        first: Date | null;
      }>(
        `SELECT (SELECT count(*) FROM transactions) AS rows,
                (SELECT count(*) FROM ingest_outbox WHERE published_at IS NULL) AS unpublished,
                (SELECT min(ingested_at) FROM transactions) AS first`,
      );
      const row = rows[0];
      return {
        rows: Number(row?.rows),
        unpublished: Number(row?.unpublished),
        first: row?.first ?? null,
      };
    };
    let landed = await check();
    while (landed.rows < options.expected || landed.unpublished > 0) {
      if (Date.now() > deadline) {
        throw new Error(`ingest ${options.label}: warehouse has ${JSON.stringify(landed)}`);
      }
      await sleep(50);
      landed = await check();
      endAtMs = Date.now();
    }
    await stopService();
    const firstRowAtMs = landed.first?.getTime() ?? service.spawnedAtMs;
    const seconds = (endAtMs - firstRowAtMs) / 1000;
    const secondsFromStart = (endAtMs - service.spawnedAtMs) / 1000;
    const batchSeconds = histogramOf(samples, 'streamtrain_ingest_batch_duration_seconds');
    const batchMessages = histogramOf(samples, 'streamtrain_ingest_batch_messages');
    const concurrency = Number(settings.INGEST_PARTITIONS_CONCURRENCY);
    let cpu: CpuBreakdown | undefined;
    if (profileDir !== undefined) {
      cpu = summarizeCpuProfile(await readCpuProfile(profileDir), {
        window: /services\/ingest\/dist\/entry-points\/arrival-handler/,
      });
    }
    return {
      label: options.label,
      groupId,
      settings,
      overrides: options.overrides,
      transactions: landed.rows,
      seconds,
      txPerSecond: landed.rows / seconds,
      secondsFromStart,
      txPerSecondFromStart: landed.rows / secondsFromStart,
      startupSeconds: (firstRowAtMs - service.spawnedAtMs) / 1000,
      batches: batchSeconds.count,
      meanBatchMessages: batchMessages.count === 0 ? 0 : batchMessages.sum / batchMessages.count,
      batchSeconds: {
        mean: batchSeconds.count === 0 ? 0 : batchSeconds.sum / batchSeconds.count,
        p50: histogramQuantile(batchSeconds, 0.5),
        p99: histogramQuantile(batchSeconds, 0.99),
      },
      handlerBusyShare: batchSeconds.sum / (concurrency * seconds),
      deadLetters: current.deadLetters,
      memory,
      machineCpu: cpuBefore === undefined ? null : cpuUsage(cpuBefore, cpuAfter),
      ...(cpu === undefined ? {} : { cpu }),
    };
  } finally {
    await stopService();
    await removeExchange();
    await dropSchema();
    if (profileDir !== undefined) await rm(profileDir, { recursive: true, force: true });
  }
}
