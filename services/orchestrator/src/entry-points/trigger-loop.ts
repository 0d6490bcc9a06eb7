import type { Logger } from '@streamtrain/observability';
import {
  countMaturedExamples,
  lastTriggerObserved,
  linkTriggerFire,
  previousChampion,
  readAlias,
  readAliasChanges,
  readRunningRuns,
  readVersionArtifact,
  recordTriggerFire,
  rollbackChampion,
  tryAcquireSessionLock,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import type { JobQueue } from '../adapters/job-queue';
import { readGateHoldout } from '../adapters/trainer-holdout';
import type { LabelledSet } from '../domain/retrain-policy';
import { driftFiring, labelCountFiring, rollbackDue } from '../domain/triggers';
import { evaluateArtifact } from '../training/model-training';
import { workflowLockName } from '../workflow/run-executor';
import type { RunOperations } from '../workflow/run-operations';

/** Options of {@link TriggerLoop}. */
export interface TriggerLoopOptions {
  pool: Pool;
  operations: RunOperations;
  queue: JobQueue;
  modelName: string;
  lockScope: string;
  logger: Logger;
  intervalMs: number;
  /** Workflow the data-driven triggers start. */
  workflow: string;
  /** Newly matured labels that start a run; 0 turns the trigger off. */
  labelCount: number;
  /** Champion AP on the live (trainer holdout) examples below which a run starts; null = off. */
  apThreshold: number | null;
  /** How far the champion's live AP may fall below the version it replaced; null = no auto-rollback. */
  rollbackMaxApDrop: number | null;
  /** Recent holdout examples the live quality is measured on. */
  holdoutSize: number;
  onFire?: (kind: string) => void;
}

/**
 * Every `intervalMs`: the data-driven triggers (matured labels, champion quality), the automatic
 * rollback, and the reaper that hands a dead worker's run back for a retry. Every instance runs
 * it; the firing keys make each condition act once.
 */
export class TriggerLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private running = false;
  private rounds: Promise<void> = Promise.resolve();
  private readonly suspect = new Set<string>();

  constructor(private readonly options: TriggerLoopOptions) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.current = this.tick().finally(() => {
        if (this.running) this.schedule(this.options.intervalMs);
      });
    }, delayMs);
  }

  /**
   * One round of every check; errors are logged and the next round tries again. Rounds never
   * overlap: a call during the timer's round waits for it, then runs its own, so what it
   * returns reflects a complete round (two overlapping rounds could race on one rollback).
   */
  tick(): Promise<void> {
    const round = this.rounds.then(() => this.round());
    this.rounds = round.catch(() => undefined);
    return round;
  }

  private async round(): Promise<void> {
    for (const [name, check] of [
      ['reaper', () => this.reapLostRuns()],
      ['label-count', () => this.checkLabelCount()],
      ['champion quality', () => this.checkChampion()],
    ] as const) {
      try {
        await check();
      } catch (error) {
        this.options.logger.warn(
          { err: error, check: name },
          'trigger check failed; next round retries',
        );
      }
    }
  }

  private async fire(kind: 'label-count' | 'drift', key: string, observed: number, reason: string) {
    const { pool, workflow } = this.options;
    if (!(await recordTriggerFire(pool, { key, kind, workflow, observed }))) return;
    const outcome = await this.options.operations.trigger(workflow, {
      kind,
      key,
      by: 'orchestrator',
      reason,
    });
    await linkTriggerFire(pool, key, outcome.started ? outcome.runId : null);
    this.options.onFire?.(kind);
    this.options.logger.info({ kind, key, observed, outcome }, 'data trigger fired');
  }

  private async checkLabelCount(): Promise<void> {
    const { pool, workflow, labelCount } = this.options;
    if (labelCount <= 0) return;
    const matured = await countMaturedExamples(pool);
    const last = await lastTriggerObserved(pool, 'label-count', workflow);
    const firing = labelCountFiring(workflow, matured, last, labelCount);
    if (firing === null) return;
    await this.fire(
      'label-count',
      firing.key,
      firing.observed,
      `${matured - (last ?? 0)} labels matured since the last label-count run (threshold ${labelCount})`,
    );
  }

  private async checkChampion(): Promise<void> {
    const { pool, modelName, apThreshold, rollbackMaxApDrop, workflow } = this.options;
    if (apThreshold === null && rollbackMaxApDrop === null) return;
    const champion = await readAlias(pool, modelName, 'champion');
    if (champion === null) return;
    const holdout = await readGateHoldout(pool, modelName, this.options.holdoutSize);
    if (holdout.labels.length === 0) return;
    const live = await evaluateArtifact(champion.artifact, holdout);
    const championId = champion.record.versionId;
    if (
      rollbackMaxApDrop !== null &&
      (await this.maybeRollBack(championId, live.averagePrecision, holdout))
    ) {
      return;
    }
    const firing = driftFiring(workflow, championId, live.averagePrecision, apThreshold);
    if (firing !== null) {
      await this.fire(
        'drift',
        firing.key,
        firing.observed,
        `champion ${championId} live AP ${firing.observed.toFixed(4)} below ${apThreshold}`,
      );
    }
  }

  private async maybeRollBack(
    championId: string,
    championAp: number | null,
    holdout: LabelledSet,
  ): Promise<boolean> {
    const { pool, modelName, rollbackMaxApDrop } = this.options;
    const [lastChange] = (await readAliasChanges(pool, modelName, 20)).filter(
      (change) => change.action !== 'pin' && change.action !== 'unpin',
    );
    // A rollback is not undone automatically: the version rolled away from stays retired.
    if (lastChange?.action === 'rollback' || lastChange?.action === 'auto-rollback') return false;
    const previousId = await previousChampion(pool, modelName);
    if (previousId === null) return false;
    const previous = await readVersionArtifact(pool, previousId);
    if (previous === null) return false;
    const previousMetrics = await evaluateArtifact(previous.artifact, holdout);
    if (!rollbackDue(championAp, previousMetrics.averagePrecision, rollbackMaxApDrop)) return false;
    const key = `auto-rollback:${championId}`;
    if (
      !(await recordTriggerFire(pool, {
        key,
        kind: 'auto-rollback',
        workflow: '-',
        observed: championAp,
      }))
    ) {
      return false;
    }
    const reason = `live AP ${championAp?.toFixed(4)} of ${championId} fell more than ${rollbackMaxApDrop} below ${previousId}'s ${previousMetrics.averagePrecision?.toFixed(4)}`;
    const change = await rollbackChampion(pool, previousId, {
      modelName,
      actor: 'orchestrator',
      reason,
      action: 'auto-rollback',
      numbers: {
        liveChampionAp: championAp,
        livePreviousAp: previousMetrics.averagePrecision,
        maxApDrop: rollbackMaxApDrop,
        holdoutExamples: holdout.labels.length,
      },
    });
    this.options.onFire?.('auto-rollback');
    this.options.logger.warn({ change, reason }, 'champion rolled back automatically');
    return true;
  }

  /**
   * A run marked running whose workflow lock nobody holds has lost its worker (a crash): after
   * two rounds in that state, its job goes back to pg-boss for a retry, which resumes it.
   */
  private async reapLostRuns(): Promise<void> {
    const { pool, queue, lockScope } = this.options;
    const running = await readRunningRuns(pool);
    const seen = new Set<string>();
    for (const run of running) {
      const lock = await tryAcquireSessionLock(pool, workflowLockName(lockScope, run.workflow));
      if (lock === null) continue;
      try {
        seen.add(run.runId);
        if (!this.suspect.has(run.runId)) continue;
        if ((await queue.jobState(run.workflow, run.runId)) === 'active') {
          await queue.retryLost(run.workflow, run.runId);
          this.options.logger.warn(run, 'run lost its worker; handed back for a retry');
        }
      } finally {
        await lock.release();
      }
    }
    this.suspect.clear();
    for (const runId of seen) this.suspect.add(runId);
  }
}
