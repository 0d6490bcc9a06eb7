import PgBoss from 'pg-boss';
import type { Logger } from '@streamtrain/observability';
import type { RunRequest } from '../workflow/run-executor';

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  databaseUrl: string;
  /** Schema of pg-boss's own tables. */
  schema: string;
  logger: Logger;
  /** Whether this process evaluates cron schedules and runs maintenance (workers do; the CLI does not). */
  worker: boolean;
  /** Job attempts after the first, e.g. after a crash. @default 5 */
  retryLimit?: number;
  /** Seconds before the first job retry, doubling after. @default 5 */
  retryDelaySeconds?: number;
  /** A run still active after this long is given up by pg-boss. @default 14400 */
  expireInSeconds?: number;
  /** How often an idle worker looks for a job. @default 2 */
  pollingIntervalSeconds?: number;
  /** How often schedules are checked. @default 30 */
  cronMonitorIntervalSeconds?: number;
  /** How often pg-boss expires stale jobs. @default 60 */
  maintenanceIntervalSeconds?: number;
}

/** A stored cron schedule. */
export interface ScheduleRecord {
  workflow: string;
  cron: string;
  timezone: string;
  createdOn: string;
  updatedOn: string;
}

/**
 * Jobs and schedules on PostgreSQL through pg-boss: one queue per workflow with the `stately`
 * policy (at most one run queued and one active: a second trigger while one waits is dropped),
 * retries with backoff, cron schedules stored in the database.
 */
export class JobQueue {
  private readonly boss: PgBoss;

  constructor(private readonly options: JobQueueOptions) {
    this.boss = new PgBoss({
      connectionString: options.databaseUrl,
      schema: options.schema,
      max: 4,
      application_name: 'orchestrator-jobs',
      schedule: options.worker,
      supervise: options.worker,
      cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds ?? 30,
      cronWorkerIntervalSeconds: Math.min(options.cronMonitorIntervalSeconds ?? 30, 5),
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    });
    this.boss.on('error', (error) =>
      options.logger.error({ err: error, component: 'pg-boss' }, 'job queue error'),
    );
  }

  /** Connects, installs or migrates pg-boss's schema and creates the workflows' queues. */
  async start(workflows: readonly string[]): Promise<void> {
    await this.boss.start();
    for (const name of workflows) {
      const queue = {
        name,
        policy: 'stately' as const,
        retryLimit: this.options.retryLimit ?? 5,
        retryDelay: this.options.retryDelaySeconds ?? 5,
        retryBackoff: true,
        expireInSeconds: this.options.expireInSeconds ?? 14_400,
      };
      await this.ensureQueue(name, queue);
    }
  }

  /**
   * Creates the queue, or updates its options. Instances starting together race to create it:
   * the loser fails (a unique violation, or a deadlock on pg-boss's tables) and tries again,
   * finding the winner's queue once that transaction commits.
   */
  private async ensureQueue(
    name: string,
    queue: Parameters<PgBoss['createQueue']>[1],
    attempts = 5,
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        if ((await this.boss.getQueue(name)) === null) await this.boss.createQueue(name, queue);
        else await this.boss.updateQueue(name, queue);
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Queues a run; null when one is already queued (the trigger is absorbed by it). */
  async enqueue(workflow: string, request: RunRequest): Promise<string | null> {
    return this.boss.send(workflow, request as unknown as object);
  }

  /** Takes runs of `workflow` one at a time. */
  async work(
    workflow: string,
    handler: (runId: string, request: RunRequest) => Promise<void>,
  ): Promise<void> {
    await this.boss.work<RunRequest>(
      workflow,
      { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
      async (jobs) => {
        for (const job of jobs) await handler(job.id, job.data);
      },
    );
  }

  /** Hands an active job back for a retry (its worker died). */
  async retryLost(workflow: string, runId: string): Promise<void> {
    await this.boss.fail(workflow, runId, { reason: 'worker lost' });
  }

  /** The job's state in pg-boss, or null when unknown. */
  async jobState(workflow: string, runId: string): Promise<string | null> {
    const job = await this.boss.getJobById(workflow, runId);
    return job?.state ?? null;
  }

  /** Creates or replaces `workflow`'s cron schedule. */
  async setSchedule(workflow: string, cron: string, timezone: string): Promise<void> {
    const request: RunRequest = {
      trigger: { kind: 'cron', key: null, by: 'schedule', reason: `cron ${cron} (${timezone})` },
      params: {},
    };
    await this.boss.schedule(workflow, cron, request, { tz: timezone });
  }

  /** Removes `workflow`'s schedule. */
  async removeSchedule(workflow: string): Promise<void> {
    await this.boss.unschedule(workflow);
  }

  /** Every stored schedule. */
  async schedules(): Promise<ScheduleRecord[]> {
    const rows = (await this.boss.getSchedules()) as unknown as {
      name: string;
      cron: string;
      timezone: string;
      created_on?: Date;
      updated_on?: Date;
      createdOn?: Date;
      updatedOn?: Date;
    }[];
    return rows.map((row) => ({
      workflow: row.name,
      cron: row.cron,
      timezone: row.timezone,
      createdOn: new Date(row.createdOn ?? row.created_on ?? 0).toISOString(),
      updatedOn: new Date(row.updatedOn ?? row.updated_on ?? 0).toISOString(),
    }));
  }

  /** Stops taking jobs, waits for the ones in hand up to `timeoutMs`, and closes. */
  async stop(timeoutMs = 30_000): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
  }
}
