import { Cron } from 'croner';
import { StreamtrainError } from '@streamtrain/contracts';
import { insertRun, listRuns, readRun, requestRunCancel } from '@streamtrain/warehouse';
import type { Pool, RunRecord, RunStatus, RunTrigger } from '@streamtrain/warehouse';
import type { JobQueue, ScheduleRecord } from '../adapters/job-queue';
import { RetrainParams } from '../domain/retrain-policy';

/** The outcome of a trigger: a new run, or the queued run that absorbed it. */
export type TriggerOutcome = { started: true; runId: string } | { started: false; reason: string };

/** A schedule with its next firing times (computed with croner). */
export interface ScheduleView extends ScheduleRecord {
  nextRuns: string[];
}

/**
 * Validates a cron expression the way the scheduler will run it: five fields (pg-boss checks
 * schedules once a minute at most), parsed by croner. Returns the next firings.
 * @throws StreamtrainError `CONFIG_INVALID` with croner's explanation.
 */
export function nextFirings(cron: string, timezone: string, count = 3): string[] {
  if (cron.trim().split(/\s+/).length !== 5) {
    throw new StreamtrainError(
      'CONFIG_INVALID',
      `cron ${JSON.stringify(cron)}: five fields expected (minute hour day month weekday)`,
    );
  }
  try {
    const job = new Cron(cron, { paused: true, timezone });
    return job.nextRuns(count).map((date) => date.toISOString());
  } catch (error) {
    throw new StreamtrainError(
      'CONFIG_INVALID',
      `cron ${JSON.stringify(cron)}: ${(error as Error).message}`,
    );
  }
}

/** Runs and schedules as operators drive them: the CLI and the HTTP API call these. */
export class RunOperations {
  constructor(
    private readonly pool: Pool,
    private readonly queue: JobQueue,
    /** The workflows defined in code. */
    readonly workflows: readonly { name: string; description: string }[],
  ) {}

  private assertWorkflow(workflow: string): void {
    if (!this.workflows.some((known) => known.name === workflow)) {
      throw new StreamtrainError(
        'CONFIG_INVALID',
        `unknown workflow ${JSON.stringify(workflow)}; known: ${this.workflows.map((w) => w.name).join(', ')}`,
      );
    }
  }

  /** Queues a run unless one is already waiting (then the trigger is absorbed by it). */
  async trigger(
    workflow: string,
    trigger: RunTrigger,
    params: Record<string, unknown> = {},
  ): Promise<TriggerOutcome> {
    this.assertWorkflow(workflow);
    // Refuse bad parameters now, to the caller, rather than as a failed run later.
    const checked = RetrainParams.safeParse(params);
    if (!checked.success) {
      throw new StreamtrainError(
        'CONFIG_INVALID',
        `run parameters: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    }
    const runId = await this.queue.enqueue(workflow, { trigger, params });
    if (runId === null) {
      return { started: false, reason: `a run of ${workflow} is already queued` };
    }
    await insertRun(this.pool, { runId, workflow, trigger, params });
    return { started: true, runId };
  }

  /** Asks a run to stop before its next step. */
  async cancel(runId: string): Promise<RunStatus | null> {
    return requestRunCancel(this.pool, runId);
  }

  /** One run with its steps. */
  show(runId: string): Promise<RunRecord | null> {
    return readRun(this.pool, runId);
  }

  /** Run history, newest first. */
  list(filter: Parameters<typeof listRuns>[1] = {}): Promise<RunRecord[]> {
    return listRuns(this.pool, filter);
  }

  /** Every stored schedule and when it fires next. */
  async schedules(): Promise<ScheduleView[]> {
    return (await this.queue.schedules()).map((schedule) => ({
      ...schedule,
      nextRuns: nextFirings(schedule.cron, schedule.timezone),
    }));
  }

  /** Creates or replaces a workflow's schedule; takes effect without a redeploy. */
  async setSchedule(workflow: string, cron: string, timezone = 'UTC'): Promise<ScheduleView> {
    this.assertWorkflow(workflow);
    const nextRuns = nextFirings(cron, timezone);
    await this.queue.setSchedule(workflow, cron, timezone);
    const stored = (await this.queue.schedules()).find(
      (schedule) => schedule.workflow === workflow,
    );
    return { ...(stored as ScheduleRecord), nextRuns };
  }

  /** Removes a workflow's schedule. */
  async removeSchedule(workflow: string): Promise<void> {
    this.assertWorkflow(workflow);
    await this.queue.removeSchedule(workflow);
  }
}
