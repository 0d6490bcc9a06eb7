import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaAdmin, KafkaProducer } from '@streamtrain/kafka';
import { createPool, migrate } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { deleteTopology } from '@streamtrain/amqp';
import { freePort, testLogger, testServers, uniqueName } from '@streamtrain/testkit';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import { REPO_ROOT, startService, stopService, waitUntilReady } from '../stack';
import type { RunningService, ServiceName, StackOptions } from '../stack';

/**
 * The services the suite runs and faults: the training loop. The scorer is not in the suite yet, so
 * its checker has no scores to read back (docs/RELIABILITY.md).
 */
const SERVICES = ['ingest', 'pipeline', 'trainer'] as const satisfies readonly ServiceName[];
import { startOwnPostgres } from './own-postgres';
import type { OwnPostgres } from './own-postgres';
import { buildSchedule } from './schedule';
import type { FaultKind, ScheduledFault } from './schedule';
import { BAD_INPUT_CLASSES, startWorkload, transactionIdOf } from './workload';
import type { BadInputClass } from './workload';

/** Options of {@link runFaultSuite}. */
export interface FaultSuiteOptions {
  seed: number;
  perKind: number;
  kinds: readonly FaultKind[];
  /** Valid transactions per second. */
  ratePerSecond: number;
  /** Longest wait for the loop to catch up after one fault. @default 120000 */
  recoveryBoundMs?: number;
  /** Kafka bootstrap brokers (e.g. a broker of the suite's own for `kafka-restart`). @default the test servers' */
  kafkaBrokers?: readonly string[];
  /** Port of the suite's own PostgreSQL cluster. @default 5439 */
  postgresPort?: number;
  /** Shell command that restarts the Kafka broker (only for the `kafka-restart` kind). */
  kafkaRestartCommand?: string;
  /** Shell command that restarts RabbitMQ (only for the `rabbitmq-restart` kind). */
  rabbitmqRestartCommand?: string;
  /** RabbitMQ of the run (e.g. a node of the suite's own for `rabbitmq-restart`). @default the test servers' */
  amqpUrl?: string;
  /** Restarts RabbitMQ for `rabbitmq-restart`; preferred to `rabbitmqRestartCommand`. */
  restartRabbitMq?: () => Promise<void>;
  log?: (line: string) => void;
  /** Aborting stops injecting; the suite then checks what it has and cleans up. */
  signal?: AbortSignal;
}

/** What happened to one fault. */
export interface FaultOutcome {
  kind: FaultKind;
  target: string;
  recovered: boolean;
  /** From injection until every transaction produced before it had landed with features and every service was ready. */
  recoveryMs: number;
  /** For a process fault: from injection until the hit service answered `/readyz` 200 again. */
  readyMs: number | null;
  /** Services that exited without being told to during this fault (an unhandled crash or a supervised exit). */
  unexpectedExits: string[];
}

/** The checker's verdict on the whole run. */
export interface FaultSuiteReport {
  seed: number;
  faults: FaultOutcome[];
  produced: number;
  landed: number;
  withFeatures: number;
  lost: number;
  /** Effects applied twice: example sets in two model versions' lineage, batches trained twice. */
  duplicated: number;
  batches: { ingest: number; pipeline: number; trainerEvents: number; trainer: number };
  labels: {
    produced: number;
    stored: number;
    matured: number;
    appliedAsFraud: number;
    missing: number;
  };
  modelHistory: { versions: number; unbroken: boolean; problems: string[] };
  badInput: { sent: Record<BadInputClass, number>; deadLettered: number };
  unexpectedExits: number;
  durationMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0]?.n ?? 0);
}

/** A supervisor of the services: restarts one that exited without being told to, and says so. */
class Supervisor {
  readonly running = new Map<ServiceName, RunningService>();
  private readonly expected = new Set<ServiceName>();
  readonly exits: { service: ServiceName; code: number | null; at: number }[] = [];
  private stopped = false;

  constructor(private readonly options: StackOptions) {}

  start(name: ServiceName): RunningService {
    const service = startService(name, this.options);
    this.running.set(name, service);
    void service.exited.then((code) => {
      if (this.running.get(name) !== service || this.stopped) return;
      if (this.expected.has(name)) return;
      this.exits.push({ service: name, code, at: Date.now() });
      // As Kubernetes would: restart after a moment.
      setTimeout(() => {
        if (!this.stopped && this.running.get(name) === service) this.start(name);
      }, 500);
    });
    return service;
  }

  async kill(name: ServiceName, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const service = this.running.get(name);
    if (service === undefined) return;
    this.expected.add(name);
    try {
      if (signal === 'SIGTERM') await stopService(service, 30_000);
      else {
        service.process.kill('SIGKILL');
        await service.exited;
      }
    } finally {
      this.expected.delete(name);
    }
    this.start(name);
  }

  async isReady(name: ServiceName): Promise<boolean> {
    const service = this.running.get(name);
    if (service === undefined) return false;
    try {
      return (await fetch(`http://127.0.0.1:${service.port}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }

  async allReady(): Promise<boolean> {
    const answers = await Promise.all(
      [...this.running.values()].map(async (service) => {
        try {
          return (await fetch(`http://127.0.0.1:${service.port}/readyz`)).status === 200;
        } catch {
          return false;
        }
      }),
    );
    return answers.every(Boolean);
  }

  async stopAll(): Promise<(number | null)[]> {
    this.stopped = true;
    const codes: (number | null)[] = [];
    for (const name of [...SERVICES].reverse()) {
      const service = this.running.get(name);
      if (service !== undefined) codes.push(await stopService(service));
    }
    return codes;
  }
}

/**
 * Starts the whole loop as processes against its own PostgreSQL cluster and unique topics and
 * exchange on the shared Kafka and RabbitMQ, streams a steady workload with bad input mixed in,
 * injects the scheduled faults one after another (each once the loop has caught up with the
 * previous one), then reads everything back.
 */
export async function runFaultSuite(options: FaultSuiteOptions): Promise<FaultSuiteReport> {
  const log = options.log ?? (() => undefined);
  const began = Date.now();
  const servers = {
    ...testServers(),
    ...(options.kafkaBrokers === undefined ? {} : { kafkaBrokers: [...options.kafkaBrokers] }),
    ...(options.amqpUrl === undefined ? {} : { amqpUrl: options.amqpUrl }),
  };
  const postgres: OwnPostgres = startOwnPostgres(options.postgresPort ?? 5439);
  const run = uniqueName('faults');
  const schema = run;
  const exchange = run.replace('_', '.');
  const topics = {
    web: `${run}.tx.web`,
    labels: `${run}.tx.labels`,
    dlq: `${run}.tx.dlq`,
  };
  const kafka = createKafkaClient({
    brokers: servers.kafkaBrokers,
    clientId: 'faults',
    logger: testLogger,
  });
  let admin: KafkaAdmin | undefined;
  let producer: KafkaProducer | undefined;
  let supervisor: Supervisor | undefined;
  const pool = createPool({
    databaseUrl: postgres.databaseUrl,
    schema,
    logger: testLogger,
    poolSize: 2,
  });
  try {
    admin = await kafka.admin();
    await admin.ensureTopics([
      { topic: topics.web, partitions: 4, configEntries: { 'max.message.bytes': '2000000' } },
      { topic: topics.labels, partitions: 4 },
    ]);
    await migrate({ databaseUrl: postgres.databaseUrl, schema, logger: testLogger });
    producer = await kafka.producer();
    const stack: StackOptions = {
      env: {
        AMQP_URL: servers.amqpUrl,
        AMQP_EXCHANGE: exchange,
        DATABASE_URL: postgres.databaseUrl,
        WAREHOUSE_SCHEMA: schema,
        KAFKA_BROKERS: servers.kafkaBrokers.join(','),
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '20000',
      },
      serviceEnv: {
        ingest: {
          INGEST_TOPICS: topics.web,
          INGEST_LABELS_TOPIC: topics.labels,
          INGEST_DEAD_LETTER_TOPIC: topics.dlq,
          INGEST_GROUP_ID: `${run}-ingest`,
          INGEST_LINGER_MS: '200',
          INGEST_STUCK_AFTER_MS: '30000',
        },
        pipeline: { PIPELINE_MATURITY_DAYS: '1' },
        trainer: {
          TRAINER_API_TOKEN: 'faults-trainer-token-0123456789',
          TRAINER_MIN_EXAMPLES: '1000',
          TRAINER_GATE_MIN_EXAMPLES: '50',
          TRAINER_GATE_MIN_POSITIVES: '1',
          TRAINER_HOLDOUT_SIZE: '2000',
          TRAINER_EPOCHS: '1',
        },
      },
      ports: { ingest: await freePort(), pipeline: await freePort(), trainer: await freePort() },
      logDir: path.join(REPO_ROOT, '.local', 'faults', run),
    };
    log(`run ${run}: logs in ${stack.logDir}; PostgreSQL on ${postgres.databaseUrl}`);
    const activeSupervisor = new Supervisor(stack);
    supervisor = activeSupervisor;
    for (const name of SERVICES) activeSupervisor.start(name);
    await Promise.all(
      [...activeSupervisor.running.values()].map((service) => waitUntilReady(service, 90_000)),
    );
    const workload = startWorkload({
      producer,
      transactionsTopic: topics.web,
      labelsTopic: topics.labels,
      prefix: run,
      ratePerSecond: options.ratePerSecond,
    });
    const upTo = (n: number): string => transactionIdOf(run, n);
    const caughtUp = async (producedBefore: number): Promise<boolean> => {
      if (producedBefore === 0) return activeSupervisor.allReady();
      const withFeatures = await count(
        pool,
        'features WHERE transaction_id >= $1 AND transaction_id <= $2',
        [upTo(0), upTo(producedBefore - 1)],
      ).catch(() => -1);
      return withFeatures === producedBefore && (await activeSupervisor.allReady());
    };
    const schedule = buildSchedule(options.kinds, options.perKind, options.seed);
    const outcomes: FaultOutcome[] = [];
    await sleep(3_000);
    for (const [index, fault] of schedule.entries()) {
      if (options.signal?.aborted === true) break;
      await sleep(fault.delayMs);
      const producedBefore = workload.produced();
      const exitsBefore = activeSupervisor.exits.length;
      const injectedAt = Date.now();
      await inject(fault, activeSupervisor, postgres, options);
      let recovered = false;
      const hit: ServiceName = fault.kind === 'sigstop' ? 'ingest' : fault.target;
      let readyMs: number | null = null;
      while (Date.now() - injectedAt < (options.recoveryBoundMs ?? 120_000)) {
        if (isProcessFault(fault.kind) && readyMs === null && (await activeSupervisor.isReady(hit)))
          readyMs = Date.now() - injectedAt;
        if (await caughtUp(producedBefore)) {
          // Every service was ready for the check that just passed.
          if (isProcessFault(fault.kind) && readyMs === null) readyMs = Date.now() - injectedAt;
          recovered = true;
          break;
        }
        await sleep(200);
      }
      const outcome: FaultOutcome = {
        kind: fault.kind,
        target: hit,
        recovered,
        readyMs,
        recoveryMs: Date.now() - injectedAt,
        unexpectedExits: activeSupervisor.exits
          .slice(exitsBefore)
          .map((exit) => `${exit.service}:${exit.code}`),
      };
      outcomes.push(outcome);
      log(
        `fault ${index + 1}/${schedule.length} ${fault.kind}${isProcessFault(fault.kind) ? `(${hit}, ready in ${readyMs ?? '-'} ms)` : ''}: ${recovered ? 'recovered' : 'NOT recovered'} in ${outcome.recoveryMs} ms${outcome.unexpectedExits.length > 0 ? `; exits ${outcome.unexpectedExits.join(',')}` : ''}`,
      );
    }
    await workload.stop();
    const produced = workload.produced();
    log(
      `workload stopped: ${produced} transactions, ${workload.labelled()} labels, ${workload.errors()} failed sends retried`,
    );
    // The end: everything produced lands, every batch is processed, the trainer has caught up.
    const settle = Date.now();
    while (Date.now() - settle < 180_000 && options.signal?.aborted !== true) {
      const ingestBatches = await count(pool, 'ingest_batches');
      const pipelineBatches = await count(pool, 'pipeline_batches');
      const events = await count(pool, 'pipeline_outbox');
      const trained = await count(pool, 'trainer_batches');
      if ((await caughtUp(produced)) && ingestBatches === pipelineBatches && events === trained)
        break;
      await sleep(500);
    }
    const sent = workload.badSent();
    const totalBad = Object.values(sent).reduce((sum, n) => sum + n, 0);
    const deadLettered =
      totalBad === 0 ? 0 : await distinctDeadLetters(kafka, topics.dlq, totalBad);
    const report = await check(pool, run, produced, workload.labelled());
    return {
      seed: options.seed,
      faults: outcomes,
      ...report,
      badInput: { sent, deadLettered },
      unexpectedExits: activeSupervisor.exits.length,
      durationMs: Date.now() - began,
    };
  } finally {
    await supervisor?.stopAll();
    await producer?.disconnect().catch(() => undefined);
    await admin?.deleteTopics([topics.web, topics.labels, topics.dlq]).catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await deleteTopology(servers.amqpUrl, exchange).catch(() => undefined);
    await pool.end().catch(() => undefined);
    postgres.remove();
  }
}

/**
 * Reads the dead-letter topic until it holds `expected` distinct source positions (a dead letter
 * is sent at least once: a restart may send one again) or a minute has passed.
 */
async function distinctDeadLetters(
  kafka: ReturnType<typeof createKafkaClient>,
  topic: string,
  expected: number,
): Promise<number> {
  const positions = new Set<string>();
  const consumer = kafka.consumer({ groupId: uniqueName('faults-dlq'), maxWaitTimeMs: 100 });
  await consumer.run({
    topics: [topic],
    fromBeginning: true,
    onFatal: () => undefined,
    handler: async (batch, control) => {
      for (const message of batch.messages) {
        positions.add(
          `${message.headers[DEAD_LETTER_HEADERS.sourceTopic]}/${message.headers[DEAD_LETTER_HEADERS.sourcePartition]}/${message.headers[DEAD_LETTER_HEADERS.sourceOffset]}`,
        );
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await control.commit(last.offset);
    },
  });
  const deadline = Date.now() + 60_000;
  while (positions.size < expected && Date.now() < deadline) await sleep(250);
  await consumer.disconnect();
  return positions.size;
}

function isProcessFault(kind: FaultKind): boolean {
  return kind === 'sigkill' || kind === 'sigterm' || kind === 'sigstop';
}

async function inject(
  fault: ScheduledFault,
  supervisor: Supervisor,
  postgres: OwnPostgres,
  options: FaultSuiteOptions,
): Promise<void> {
  switch (fault.kind) {
    case 'sigkill':
      return supervisor.kill(fault.target, 'SIGKILL');
    case 'sigterm':
      return supervisor.kill(fault.target, 'SIGTERM');
    case 'sigstop': {
      // Frozen past the consumer session (6 s): the group rebalances without it, then it returns.
      const service = supervisor.running.get('ingest');
      service?.process.kill('SIGSTOP');
      await sleep(8_000);
      service?.process.kill('SIGCONT');
      return;
    }
    case 'pg-terminate': {
      const admin = createPool({
        databaseUrl: postgres.databaseUrl,
        schema: 'public',
        logger: testLogger,
        poolSize: 1,
      });
      try {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = ANY($1::text[]) AND pid <> pg_backend_pid()`,
          [[...SERVICES]],
        );
      } finally {
        await admin.end();
      }
      return;
    }
    case 'pg-restart':
      postgres.restart();
      return;
    case 'kafka-restart':
      if (options.kafkaRestartCommand === undefined)
        throw new Error('kafka-restart needs a restart command');
      execFileSync('bash', ['-c', options.kafkaRestartCommand], { stdio: 'ignore' });
      return;
    case 'rabbitmq-restart':
      if (options.restartRabbitMq !== undefined) {
        await options.restartRabbitMq();
        return;
      }
      if (options.rabbitmqRestartCommand === undefined)
        throw new Error('rabbitmq-restart needs a restart command');
      execFileSync('bash', ['-c', options.rabbitmqRestartCommand], { stdio: 'ignore' });
      return;
  }
}

/** Reads the warehouse back: every id once with features, every batch once, labels, model history. */
async function check(
  pool: Pool,
  run: string,
  produced: number,
  labelled: number,
): Promise<
  Omit<FaultSuiteReport, 'seed' | 'faults' | 'badInput' | 'unexpectedExits' | 'durationMs'>
> {
  const range = [transactionIdOf(run, 0), transactionIdOf(run, Math.max(0, produced - 1))];
  const inRange = 'transaction_id >= $1 AND transaction_id <= $2';
  const landed = await count(pool, `transactions WHERE ${inRange}`, range);
  const withFeatures = await count(pool, `features WHERE ${inRange}`, range);
  const storedLabels = await count(pool, `labels WHERE ${inRange}`, range);
  const appliedAsFraud = await count(
    pool,
    `training_examples e JOIN labels l USING (transaction_id) WHERE e.label = 1 AND e.${inRange}`,
    range,
  );
  const labelledMatured = await count(
    pool,
    `training_examples e JOIN labels l USING (transaction_id) WHERE e.${inRange}`,
    range,
  );
  // Every transaction older than the maturity horizon must be an example.
  const notMatured = await count(
    pool,
    `transactions t, pipeline_state s WHERE t.${inRange} AND t.event_time <= s.matured_until
     AND NOT EXISTS (SELECT 1 FROM training_examples e WHERE e.transaction_id = t.transaction_id)`,
    range,
  );
  const { rows: versions } = await pool.query<{
    version_id: string;
    version: number;
    parent_version_id: string | null;
    lineage: { exampleSetIds?: string[] };
  }>('SELECT version_id, version, parent_version_id, lineage FROM model_versions ORDER BY version');
  const problems: string[] = [];
  const ids = new Set<string>();
  const setUses = new Map<string, number>();
  versions.forEach((version, index) => {
    if (version.version !== index + 1)
      problems.push(`version ${version.version} at position ${index + 1}`);
    if (version.parent_version_id !== null && !ids.has(version.parent_version_id))
      problems.push(
        `${version.version_id}: parent ${version.parent_version_id} is not an earlier version`,
      );
    ids.add(version.version_id);
    for (const set of version.lineage.exampleSetIds ?? [])
      setUses.set(set, (setUses.get(set) ?? 0) + 1);
  });
  const setsTrainedTwice = [...setUses.values()].filter((uses) => uses > 1).length;
  const trainedTwice = await count(
    pool,
    '(SELECT batch_id FROM trainer_batches GROUP BY batch_id HAVING count(*) > 1) twice',
  );
  return {
    produced,
    landed,
    withFeatures,
    lost: produced - Math.min(landed, withFeatures) + notMatured,
    duplicated: setsTrainedTwice + trainedTwice + Math.max(0, landed - produced),
    batches: {
      ingest: await count(pool, 'ingest_batches'),
      pipeline: await count(pool, 'pipeline_batches'),
      trainerEvents: await count(pool, 'pipeline_outbox'),
      trainer: await count(pool, 'trainer_batches'),
    },
    labels: {
      produced: labelled,
      stored: storedLabels,
      matured: labelledMatured,
      appliedAsFraud,
      missing: labelled - storedLabels + (labelledMatured - appliedAsFraud),
    },
    modelHistory: { versions: versions.length, unbroken: problems.length === 0, problems },
  };
}

/** Percentile of `values` (nearest rank). */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** The report as Markdown: one row per fault kind, then the checker's totals. */
export function formatReport(report: FaultSuiteReport, command: string): string {
  const kinds = [...new Set(report.faults.map((fault) => fault.kind))];
  const rows = kinds.map((kind) => {
    const of = report.faults.filter((fault) => fault.kind === kind);
    const times = of.filter((fault) => fault.recovered).map((fault) => fault.recoveryMs / 1000);
    return `| ${kind} | ${of.length} | ${of.filter((fault) => fault.recovered).length} | ${of.reduce((sum, fault) => sum + fault.unexpectedExits.length, 0)} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} |`;
  });
  const readiness = ['sigkill', 'sigterm'].flatMap((kind) =>
    ['ingest', 'pipeline', 'trainer'].map((target) => {
      const times = report.faults
        .filter((fault) => fault.kind === kind && fault.target === target && fault.readyMs !== null)
        .map((fault) => (fault.readyMs as number) / 1000);
      return times.length === 0
        ? null
        : `| ${kind} ${target} | ${times.length} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`;
    }),
  );
  const badTotal = Object.values(report.badInput.sent).reduce((sum, n) => sum + n, 0);
  return [
    `Command: \`${command}\` (seed ${report.seed}, ${(report.durationMs / 60_000).toFixed(1)} min)`,
    '',
    '| fault kind | injected | recovered | unexpected exits | recovery p50 (s) | recovery p99 (s) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Back to ready (`/readyz` 200) after the restart, from the signal:',
    '',
    '| fault, service | n | p50 (s) | p99 (s) | max (s) |',
    '| --- | --- | --- | --- | --- |',
    ...readiness.filter((row): row is string => row !== null),
    '',
    `| checked | result |`,
    '| --- | --- |',
    `| transactions produced (acknowledged by Kafka) | ${report.produced} |`,
    `| landed / with features | ${report.landed} / ${report.withFeatures} |`,
    `| lost | ${report.lost} |`,
    `| duplicated (effects applied twice) | ${report.duplicated} |`,
    `| batches: ingest / pipeline / features.ready / trainer | ${report.batches.ingest} / ${report.batches.pipeline} / ${report.batches.trainerEvents} / ${report.batches.trainer} |`,
    `| labels produced / stored / matured as examples / applied as fraud / missing | ${report.labels.produced} / ${report.labels.stored} / ${report.labels.matured} / ${report.labels.appliedAsFraud} / ${report.labels.missing} |`,
    `| model versions, history unbroken | ${report.modelHistory.versions}, ${report.modelHistory.unbroken ? 'yes' : `no: ${report.modelHistory.problems.join('; ')}`} |`,
    `| bad input sent / dead-lettered (distinct source offsets) | ${badTotal} / ${report.badInput.deadLettered} (${BAD_INPUT_CLASSES.length} classes; sent counts only what Kafka acknowledged) |`,
    `| unexpected exits (restarted by the suite's supervisor) | ${report.unexpectedExits} |`,
  ].join('\n');
}
