import { FEATURE_SET_VERSION, computeFeatures, featureNames } from '@streamtrain/features';
import { FraudModel, loadBackend } from '@streamtrain/model';
import { ContinuousTrainer, promoteEveryVersion } from '@streamtrain/training';
import type { ModelFactory } from '@streamtrain/training';
import { relayOutbox } from '@streamtrain/service-kit';
import { createEventHarness, testLogger, testServers } from '@streamtrain/testkit';
import type { EventHarness } from '@streamtrain/testkit';
import {
  PostgresTrainerStore,
  REGISTRY_OUTBOX,
  inTransaction,
  readBatchTransactions,
  recordPipelineBatch,
  upsertFeatures,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import { matureExamples } from './mature';
import type { Pool } from '@streamtrain/warehouse';
import { loadOrchestratorConfig } from '../src/config';
import type { OrchestratorConfig } from '../src/config';
import { createOrchestratorService } from '../src/service';
import { retrainWorkflows } from '../src/workflow/retrain-workflow';
import { RunExecutor } from '../src/workflow/run-executor';
import type { OrchestratorService } from '../src/service';

export const DAY = 86_400_000;
export const T0 = Date.parse('2018-04-01T00:00:00Z');
export const TOKEN = 'test-token-0123456789abcdef';

/** Whether synthetic transaction `i` is fraud: large amounts at a few terminals. */
export const isFraud = (i: number): boolean => i % 13 === 0;

/**
 * Lands `days` days of synthetic card traffic as ingest and the pipeline would: one ingest batch
 * per day (with its Kafka offsets), fraud labels reported a day later, features from the one
 * feature definition and matured training examples.
 */
export async function seedWarehouse(
  pool: Pool,
  options: { days: number; perDay: number; fromDay?: number; fraud?: (i: number) => boolean },
): Promise<void> {
  const fraud = options.fraud ?? isFraud;
  const fromDay = options.fromDay ?? 0;
  for (let day = fromDay; day < fromDay + options.days; day += 1) {
    const batchId = `day-${day}`;
    const transactions = Array.from({ length: options.perDay }, (_, n) => {
      const i = day * options.perDay + n;
      return {
        transactionId: `t${i}`,
        customerId: `c${i % 150}`,
        terminalId: `m${i % 60}`,
        amount: fraud(i) ? 300 + (i % 200) : 5 + (i % 70),
        eventTime: new Date(T0 + day * DAY + (n / options.perDay) * DAY).toISOString(),
        channel: 'web' as const,
        sourceTopic: 'tx.web',
        sourcePartition: 0,
        sourceOffset: String(i),
      };
    });
    const labels = transactions
      .filter((_, n) => fraud(day * options.perDay + n))
      .map((tx, n) => ({
        transactionId: tx.transactionId,
        isFraud: true,
        reportedAt: new Date(Date.parse(tx.eventTime) + DAY).toISOString(),
        sourceTopic: 'tx.labels',
        sourcePartition: 0,
        sourceOffset: String(day * options.perDay + n),
      }));
    await inTransaction(pool, async (client) => {
      await writeArrivalBatch(client, {
        batchId,
        transactions,
        labels,
        offsets: [
          {
            topic: 'tx.web',
            partition: 0,
            firstOffset: String(day * options.perDay),
            lastOffset: String((day + 1) * options.perDay - 1),
          },
        ],
      });
    });
  }
  // Features and examples for everything, as the pipeline would have stored them.
  const batches = Array.from({ length: options.days }, (_, d) => `day-${fromDay + d}`);
  await inTransaction(pool, async (client) => {
    const stored = await readBatchTransactions(client, batches);
    const { rows } = await client.query<{ transaction_id: string; reported_at: Date }>(
      'SELECT transaction_id, reported_at FROM labels WHERE is_fraud',
    );
    const known = rows.map((row) => ({
      transactionId: row.transaction_id,
      isFraud: true,
      reportedAtMs: row.reported_at.getTime(),
    }));
    const all = await readBatchTransactions(
      client,
      (await client.query<{ batch_id: string }>('SELECT batch_id FROM ingest_batches')).rows.map(
        (row) => row.batch_id,
      ),
    );
    await upsertFeatures(client, 'seed', FEATURE_SET_VERSION, computeFeatures(stored, all, known));
    const watermarkMs = T0 + (fromDay + options.days) * DAY;
    const exampleCount = await matureExamples(client, {
      exampleSetId: `seed-${fromDay}`,
      watermarkMs,
      matureBeforeMs: watermarkMs - 7 * DAY,
      previousMatureBeforeMs: null,
      batchIds: batches,
    });
    await recordPipelineBatch(client, {
      batchId: `seed-${fromDay}`,
      featureCount: stored.length,
      exampleCount,
      watermarkMs,
    });
  });
  // The trainer accepts the batch: its holdout members (`isHoldout`) are recorded, as they are
  // when the trainer runs; the orchestrator's drift and rollback checks measure on them.
  const store = new PostgresTrainerStore(pool, 'fraud', featureNames().length);
  const trainer = new ContinuousTrainer(store, fraudModels, {
    featureSetVersion: FEATURE_SET_VERSION,
    backend: 'cpu',
    fit: { epochs: 1, batchSize: 256, positiveWeight: 10, shuffleSeed: 42 },
    holdoutSize: 20_000,
    minExamples: Number.MAX_SAFE_INTEGER,
    gate: promoteEveryVersion,
  });
  const exampleSetId = `seed-${fromDay}`;
  const { rows } = await pool.query<{ count: string }>(
    'SELECT count(*) FROM training_examples WHERE example_set_id = $1',
    [exampleSetId],
  );
  await trainer.accept({
    batchId: exampleSetId,
    exampleCount: Number(rows[0]?.count ?? 0),
    watermarkMs: T0 + (fromDay + options.days) * DAY,
  });
}

const fraudModels: ModelFactory = {
  create: () => FraudModel.create(featureNames()),
  fromArtifact: (artifact) => FraudModel.fromArtifact(artifact),
};

/** A harness with the orchestrator's environment; `dispose` also drops pg-boss's schema. */
export async function createOrchestratorHarness(): Promise<
  EventHarness & {
    orchestratorEnv: Record<string, string>;
    config: (extra?: Record<string, string>) => OrchestratorConfig;
  }
> {
  const harness = await createEventHarness();
  const orchestratorEnv = {
    ...harness.env,
    ORCHESTRATOR_API_TOKEN: TOKEN,
    TFJS_BACKEND: 'cpu',
    ORCHESTRATOR_POLL_SECONDS: '0.5',
    ORCHESTRATOR_CRON_CHECK_SECONDS: '1',
    ORCHESTRATOR_RUN_RETRY_DELAY_SECONDS: '1',
    ORCHESTRATOR_TRIGGER_INTERVAL_MS: '3600000',
  };
  return {
    ...harness,
    orchestratorEnv,
    config: (extra = {}) => loadOrchestratorConfig({ ...orchestratorEnv, ...extra }),
    async dispose() {
      await harness.schema.pool.query(
        `DROP SCHEMA IF EXISTS ${harness.schema.schema}_jobs CASCADE`,
      );
      await harness.dispose();
    },
  };
}

/** Starts an orchestrator in this process. */
export async function startOrchestrator(config: OrchestratorConfig): Promise<OrchestratorService> {
  const service = createOrchestratorService(config, testLogger, (error) => {
    throw error;
  });
  await service.start();
  return service;
}

/** Calls the orchestrator's API with the token. */
export async function api<T>(
  service: OrchestratorService,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${service.port()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** The test servers, re-exported for tests that spawn processes. */
export { testServers };

/**
 * Runs one workflow run to its end in this process, through the product's executor and steps
 * (no job queue): for tests that need registry versions made the orchestrated way.
 */
export async function runInProcess(
  harness: EventHarness,
  workflow: 'retrain' | 'retrain-warm',
  runId: string,
  params: Record<string, unknown> = {},
): Promise<string> {
  const pool = harness.schema.pool;
  const relay = relayOutbox({
    pool,
    table: REGISTRY_OUTBOX,
    amqp: harness.amqp,
    logger: testLogger,
  });
  relay.start();
  const { backend } = await loadBackend({ preferred: 'cpu', logger: testLogger });
  const definition = retrainWorkflows({
    pool,
    modelName: 'fraud',
    backend,
    wakeRelay: () => relay.wake(),
  }).find((candidate) => candidate.name === workflow);
  const executor = new RunExecutor({ pool, lockScope: 'test', logger: testLogger });
  const outcome = await executor
    .execute(definition!, runId, {
      trigger: { kind: 'manual', key: null, by: 'test', reason: 'fixture' },
      params,
    })
    .finally(() => relay.stop());
  const { rows } = await pool.query<{ version_id: string | null; error: string | null }>(
    'SELECT version_id, error FROM orchestrator_runs WHERE run_id = $1',
    [runId],
  );
  if (rows[0]?.version_id == null) throw new Error(`run ${runId} ${outcome}: ${rows[0]?.error}`);
  return rows[0].version_id;
}
