import { StreamtrainError } from '@streamtrain/contracts';
import { retry } from '@streamtrain/observability';
import type { Logger } from '@streamtrain/observability';
import {
  completeRunStep,
  failRunStep,
  finishRun,
  insertRun,
  isRunCancelRequested,
  markRunStarted,
  readCompletedSteps,
  startRunStep,
  tryAcquireSessionLock,
} from '@streamtrain/warehouse';
import type { Pool, RunTrigger } from '@streamtrain/warehouse';
import type { WorkflowDefinition } from './workflow';

/** What a queued job carries. */
export interface RunRequest {
  trigger: RunTrigger;
  params: Record<string, unknown>;
}

/** Options of {@link RunExecutor}. */
export interface RunExecutorOptions {
  pool: Pool;
  /** Prefix of the per-workflow lock names (the warehouse schema: deployments never share a lock). */
  lockScope: string;
  logger: Logger;
  /** First in-process retry delay of a step. @default 500 */
  stepRetryDelayMs?: number;
  onStep?: (
    workflow: string,
    step: string,
    outcome: 'completed' | 'failed',
    seconds: number,
  ) => void;
  onRun?: (workflow: string, status: string) => void;
}

/** How an execution ended. */
export type ExecutionOutcome = 'succeeded' | 'failed' | 'cancelled' | 'already-finished';

/** The lock name of a workflow: one run at a time, whichever instance holds it. */
export function workflowLockName(scope: string, workflow: string): string {
  return `orchestrator:${scope}:workflow:${workflow}`;
}

/**
 * Runs a workflow's steps for one run, resuming after the last completed step. A PostgreSQL
 * session lock per workflow (held on its own connection) keeps one run at a time across
 * instances; it vanishes with a crashed process, so the retried job can resume at once.
 */
export class RunExecutor {
  constructor(private readonly options: RunExecutorOptions) {}

  /**
   * Executes run `runId`. Throws (so the job queue retries later) when another run of the
   * workflow is active or a retriable step error outlived its retries.
   */
  async execute(
    workflow: WorkflowDefinition,
    runId: string,
    request: RunRequest,
  ): Promise<ExecutionOutcome> {
    const { pool } = this.options;
    const lock = await tryAcquireSessionLock(
      pool,
      workflowLockName(this.options.lockScope, workflow.name),
    );
    if (lock === null) {
      throw new StreamtrainError(
        'ORCHESTRATOR_RUN_BUSY',
        `another run of ${workflow.name} is in progress`,
        { retriable: true },
      );
    }
    const logger = this.options.logger.child({ workflow: workflow.name, runId });
    try {
      await insertRun(pool, { runId, workflow: workflow.name, ...request });
      const run = await markRunStarted(pool, runId);
      if (run === null || run.status !== 'running') return 'already-finished';
      let params: unknown;
      try {
        params = workflow.parseParams(run.params);
      } catch (error) {
        await finishRun(pool, runId, { status: 'failed', error: (error as Error).message });
        this.options.onRun?.(workflow.name, 'failed');
        return 'failed';
      }
      const completed = await readCompletedSteps(pool, runId);
      const payloads = new Map<string, unknown>();
      const outputs = new Map<string, unknown>();
      for (const [name, result] of completed) {
        payloads.set(name, result.payload);
        outputs.set(name, result.output);
      }
      logger.info(
        { attempt: run.attempts, resumedAfter: [...completed.keys()] },
        completed.size > 0 ? 'run resumed' : 'run started',
      );
      for (const [ordinal, step] of workflow.steps.entries()) {
        if (completed.has(step.name)) continue;
        if (await isRunCancelRequested(pool, runId)) {
          await finishRun(pool, runId, {
            status: 'cancelled',
            error: `cancelled before ${step.name}`,
          });
          this.options.onRun?.(workflow.name, 'cancelled');
          logger.info({ step: step.name }, 'run cancelled');
          return 'cancelled';
        }
        const context = { runId, workflow: workflow.name, params, payloads, outputs, logger };
        const started = performance.now();
        try {
          await startRunStep(pool, {
            runId,
            step: step.name,
            ordinal,
            input: step.describeInput(context),
          });
          const result = await retry(() => step.run(context), {
            retries: step.retries ?? 3,
            initialDelayMs: this.options.stepRetryDelayMs ?? 500,
            onRetry: (error, attempt, delayMs) =>
              logger.warn(
                { err: error, step: step.name, attempt, delayMs },
                'step failed; retrying',
              ),
          });
          await completeRunStep(pool, {
            runId,
            step: step.name,
            output: result.output,
            payload: result.payload,
          });
          payloads.set(step.name, result.payload);
          outputs.set(step.name, result.output);
          const seconds = (performance.now() - started) / 1000;
          this.options.onStep?.(workflow.name, step.name, 'completed', seconds);
          logger.info({ step: step.name, seconds, output: result.output }, 'step completed');
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          await failRunStep(pool, { runId, step: step.name, error: message });
          await finishRun(pool, runId, { status: 'failed', error: `${step.name}: ${message}` });
          this.options.onStep?.(
            workflow.name,
            step.name,
            'failed',
            (performance.now() - started) / 1000,
          );
          this.options.onRun?.(workflow.name, 'failed');
          logger.error({ err: error, step: step.name }, 'step failed; run failed');
          return 'failed';
        }
      }
      await finishRun(pool, runId, { status: 'succeeded', ...workflow.summarise(outputs) });
      this.options.onRun?.(workflow.name, 'succeeded');
      logger.info('run succeeded');
      return 'succeeded';
    } finally {
      await lock.release();
    }
  }
}
