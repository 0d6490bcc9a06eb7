import type { AmqpClient } from '@streamtrain/amqp';
import { loadBackend } from '@streamtrain/model';
import {
  Health,
  createMetricsRegistry,
  createOpsServer,
  once,
  runShutdownSteps,
} from '@streamtrain/observability';
import type { Logger, Service } from '@streamtrain/observability';
import {
  connectAmqpWhenReachable,
  createCountedPool,
  listenEarly,
  publishPendingStep,
  relayOutbox,
} from '@streamtrain/service-kit';
import { REGISTRY_OUTBOX, migrate, ping } from '@streamtrain/warehouse';
import type { OutboxRelay, Pool } from '@streamtrain/warehouse';
import type { OrchestratorConfig } from './config';
import { JobQueue } from './adapters/job-queue';
import { createOrchestratorMetrics } from './adapters/orchestrator-metrics';
import { registerHttpApi } from './entry-points/http-api';
import { TriggerLoop } from './entry-points/trigger-loop';
import { ModelOperations } from './operations/model-operations';
import { retrainWorkflows } from './workflow/retrain-workflow';
import { RunExecutor } from './workflow/run-executor';
import { RunOperations } from './workflow/run-operations';

/** A running orchestrator. */
export interface OrchestratorService extends Service {
  port(): number;
  pool: Pool;
  /** Runs one round of the data triggers, auto-rollback and reaper now (also on its timer). */
  checkTriggers(): Promise<void>;
}

/**
 * Orchestrated training: workflows as durable pg-boss jobs (one run at a time per workflow,
 * resumed at the last completed step after a crash), cron/manual/data-driven triggers, run
 * history, and the registry operations, over an authenticated HTTP API.
 */
export function createOrchestratorService(
  config: OrchestratorConfig,
  logger: Logger,
  onFatal: (error: Error) => void,
): OrchestratorService {
  const registry = createMetricsRegistry('orchestrator');
  const metrics = createOrchestratorMetrics(registry);
  const health = new Health();
  const http = createOpsServer({ registry, health, logger });
  const pool = createCountedPool(
    {
      databaseUrl: config.DATABASE_URL,
      schema: config.WAREHOUSE_SCHEMA,
      poolSize: config.DATABASE_POOL_SIZE,
      logger,
    },
    registry,
  );
  const queue = new JobQueue({
    databaseUrl: config.DATABASE_URL,
    schema: config.jobsSchema,
    logger: logger.child({ component: 'jobs' }),
    worker: true,
    retryLimit: config.ORCHESTRATOR_RUN_RETRIES,
    retryDelaySeconds: config.ORCHESTRATOR_RUN_RETRY_DELAY_SECONDS,
    expireInSeconds: config.ORCHESTRATOR_RUN_EXPIRE_SECONDS,
    pollingIntervalSeconds: config.ORCHESTRATOR_POLL_SECONDS,
    cronMonitorIntervalSeconds: config.ORCHESTRATOR_CRON_CHECK_SECONDS,
  });
  let amqp: AmqpClient | undefined;
  let relay: OutboxRelay | undefined;
  let triggers: TriggerLoop | undefined;
  let queueStarted = false;
  let operations: { models: ModelOperations; runs: RunOperations } | undefined;
  let listeningPort = 0;
  const wakeRelay = () => relay?.wake();
  const stopping = new AbortController();

  const stop = once(async () => {
    stopping.abort(new Error('orchestrator stopped while starting'));
    health.markShuttingDown();
    const errors = await runShutdownSteps(
      [
        { name: 'stop the trigger loop', run: () => triggers?.stop() },
        {
          name: 'stop taking runs and finish the step in hand',
          run: () => (queueStarted ? queue.stop(config.SHUTDOWN_TIMEOUT_MS / 2) : undefined),
        },
        publishPendingStep(
          () => relay,
          () => amqp,
        ),
        { name: 'close RabbitMQ', run: () => amqp?.close() },
        { name: 'close warehouse pool', run: () => pool.end() },
        { name: 'close HTTP', run: () => http.close() },
      ],
      logger,
    );
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} shutdown step(s) failed`);
  });

  return {
    pool,
    port: () => listeningPort,
    checkTriggers: () => triggers?.tick() ?? Promise.resolve(),
    async start() {
      registerHttpApi(http, {
        token: config.ORCHESTRATOR_API_TOKEN,
        modelName: config.ORCHESTRATOR_MODEL_NAME,
        operations: () => operations,
      });
      const ops = await listenEarly(http, health, {
        port: config.HTTP_PORT,
        host: config.HTTP_HOST,
      });
      listeningPort = ops.port;
      ops.phase('migrating the warehouse');
      await migrate({ databaseUrl: config.DATABASE_URL, schema: config.WAREHOUSE_SCHEMA, logger });
      ops.phase('loading the tfjs backend');
      const { backend } = await loadBackend({
        preferred: config.TFJS_BACKEND,
        logger: logger.child({ component: 'tfjs' }),
      });
      amqp = await connectAmqpWhenReachable(
        { url: config.AMQP_URL, exchange: config.AMQP_EXCHANGE, logger, onFatal },
        { ops, signal: stopping.signal },
      );
      const client = amqp;
      relay = relayOutbox({ pool, table: REGISTRY_OUTBOX, amqp: client, logger, registry });
      relay.start();
      health.register('warehouse', () => ping(pool));
      health.register('rabbitmq', () => client.isConnected());
      const workflows = retrainWorkflows({
        pool,
        modelName: config.ORCHESTRATOR_MODEL_NAME,
        backend,
        wakeRelay,
      });
      ops.phase('starting the job queue (pg-boss)');
      await queue.start(workflows.map((workflow) => workflow.name));
      queueStarted = true;
      const runs = new RunOperations(pool, queue, workflows);
      const models = new ModelOperations(pool, config.ORCHESTRATOR_MODEL_NAME, wakeRelay);
      const executor = new RunExecutor({
        pool,
        lockScope: config.WAREHOUSE_SCHEMA,
        logger: logger.child({ component: 'runs' }),
        onStep: (workflow, step, outcome, seconds) =>
          metrics.stepSeconds.observe({ workflow, step, outcome }, seconds),
        onRun: (workflow, status) => metrics.runs.inc({ workflow, status }),
      });
      for (const workflow of workflows) {
        await queue.work(workflow.name, async (runId, request) => {
          await executor.execute(workflow, runId, request);
        });
      }
      triggers = new TriggerLoop({
        pool,
        operations: runs,
        queue,
        modelName: config.ORCHESTRATOR_MODEL_NAME,
        lockScope: config.WAREHOUSE_SCHEMA,
        logger: logger.child({ component: 'triggers' }),
        intervalMs: config.ORCHESTRATOR_TRIGGER_INTERVAL_MS,
        workflow: config.ORCHESTRATOR_DATA_TRIGGER_WORKFLOW,
        labelCount: config.ORCHESTRATOR_LABEL_TRIGGER_COUNT,
        apThreshold: config.ORCHESTRATOR_AP_TRIGGER_THRESHOLD ?? null,
        rollbackMaxApDrop: config.ORCHESTRATOR_ROLLBACK_MAX_AP_DROP ?? null,
        holdoutSize: config.ORCHESTRATOR_LIVE_HOLDOUT_SIZE,
        onFire: (kind) => metrics.triggers.inc({ kind }),
      });
      triggers.start();
      operations = { models, runs };
      ops.started();
      logger.info(
        { port: listeningPort, workflows: workflows.map((workflow) => workflow.name), backend },
        'orchestrator running',
      );
    },
    stop,
  };
}
