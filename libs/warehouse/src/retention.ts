import type { Pool } from 'pg';
import { tryAcquireSessionLock } from './session-lock';

const DAY_MS = 86_400_000;

/** How long each kind of row is kept; `null` keeps it forever. */
export interface RetentionPolicy {
  /** Days of event time: transactions and their labels. */
  readonly transactionsDays: number | null;
  /** Days of event time: stored feature vectors. */
  readonly featuresDays: number | null;
  /** Days of event time: matured training examples and the trainer's holdout members. */
  readonly examplesDays: number | null;
  /** Days since registration: artifacts of versions no alias points at (rows and lineage stay). */
  readonly artifactsDays: number | null;
}

/** What live work needs, read from the pipeline's state. */
export interface LiveHorizon {
  /** The pipeline's event-time watermark; null before its first batch (then nothing is pruned). */
  readonly watermarkMs: number | null;
  /** How far maturity has been applied: younger transactions still wait for their label. */
  readonly maturedUntilMs: number | null;
  /** The longest feature look-back (`historyRange` in `@streamtrain/features`). */
  readonly lookBackMs: number;
}

/**
 * The event-time cutoff for rows kept `days` days: `min(watermark − days, watermark − look-back,
 * matured-until)`, so a prune never removes history a new transaction's features read, nor a
 * transaction still waiting to mature. Null when nothing may go (no retention set, or the
 * pipeline has not run). Retention counts from the watermark, not the wall clock, so a replay of
 * old data keeps what its pipeline still needs.
 */
export function retentionCutoffMs(days: number | null, live: LiveHorizon): number | null {
  if (days === null || live.watermarkMs === null || live.maturedUntilMs === null) return null;
  if (!(days >= 0)) throw new RangeError(`retention days must be >= 0, got ${days}`);
  return Math.min(
    live.watermarkMs - days * DAY_MS,
    live.watermarkMs - live.lookBackMs,
    live.maturedUntilMs,
  );
}

/** What a prune removed (or, in a dry run, would remove). */
export interface PruneReport {
  readonly dryRun: boolean;
  /** Event-time cutoffs used (ISO), null where nothing was pruned. */
  readonly cutoffs: {
    transactions: string | null;
    features: string | null;
    examples: string | null;
    artifacts: string | null;
  };
  readonly rows: {
    transactions: number;
    labels: number;
    features: number;
    trainingExamples: number;
    trainerHoldout: number;
    artifacts: number;
  };
}

/** Options of one prune. */
export interface PruneOptions {
  readonly policy: RetentionPolicy;
  readonly lookBackMs: number;
  /** Count only. @default false */
  readonly dryRun?: boolean;
  /** Rows deleted per statement, so a prune never holds long locks. @default 5000 */
  readonly batchSize?: number;
  /** Wall clock for artifact ages. @default Date.now */
  readonly now?: () => number;
}

/** The advisory lock one prune holds: two prunes never run at once. */
export const RETENTION_LOCK = 'streamtrain:warehouse-retention';

/** Another prune holds the lock. */
export class PruneInProgressError extends Error {
  readonly code = 'WAREHOUSE_PRUNE_IN_PROGRESS';
  constructor() {
    super('another warehouse prune is running (advisory lock held)');
  }
}

/**
 * Deletes rows older than the policy allows, in batches, under an advisory lock. Model versions
 * and their lineage are kept; only artifacts of old versions that no alias points at (nor the
 * champion the last champion change replaced, so a rollback to the previous champion still works) are set to null with
 * `artifact_pruned_at`.
 *
 * @throws PruneInProgressError when another prune holds {@link RETENTION_LOCK}.
 */
export async function pruneWarehouse(pool: Pool, options: PruneOptions): Promise<PruneReport> {
  const lock = await tryAcquireSessionLock(pool, RETENTION_LOCK);
  if (lock === null) throw new PruneInProgressError();
  try {
    const dryRun = options.dryRun ?? false;
    const batchSize = options.batchSize ?? 5_000;
    const { rows } = await pool.query<{ watermark: Date | null; matured_until: Date | null }>(
      'SELECT watermark, matured_until FROM pipeline_state',
    );
    const live: LiveHorizon = {
      watermarkMs: rows[0]?.watermark?.getTime() ?? null,
      maturedUntilMs: rows[0]?.matured_until?.getTime() ?? null,
      lookBackMs: options.lookBackMs,
    };
    const { policy } = options;
    const tx = retentionCutoffMs(policy.transactionsDays, live);
    const features = retentionCutoffMs(policy.featuresDays, live);
    const examples = retentionCutoffMs(policy.examplesDays, live);
    const artifactsBefore =
      policy.artifactsDays === null
        ? null
        : (options.now ?? Date.now)() - policy.artifactsDays * DAY_MS;

    const prune = async (table: string, key: string, where: string, cutoff: number | null) => {
      if (cutoff === null) return 0;
      const at = new Date(cutoff);
      if (dryRun) {
        const counted = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${table} WHERE ${where}`,
          [at],
        );
        return Number(counted.rows[0]?.n ?? 0);
      }
      let total = 0;
      for (;;) {
        const deleted = await pool.query(
          `DELETE FROM ${table.split(' ')[0]} WHERE ${key} IN
             (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${batchSize})`,
          [at],
        );
        total += deleted.rowCount ?? 0;
        if ((deleted.rowCount ?? 0) < batchSize) return total;
      }
    };
    // A label reported after the cutoff still counts in recent features (label-profile and
    // terminal-risk windows go by report time): its transaction and the label stay.
    const labels = await prune(
      'labels l',
      'transaction_id',
      `l.reported_at < $1 AND l.transaction_id IN
         (SELECT transaction_id FROM transactions WHERE event_time < $1)`,
      tx,
    );
    const transactions = await prune(
      'transactions t',
      'transaction_id',
      `t.event_time < $1 AND NOT EXISTS
         (SELECT 1 FROM labels l WHERE l.transaction_id = t.transaction_id AND l.reported_at >= $1)`,
      tx,
    );
    const featureRows = await prune('features', 'transaction_id', 'event_time < $1', features);
    const trainingExamples = await prune(
      'training_examples',
      'transaction_id',
      'event_time < $1',
      examples,
    );
    const trainerHoldout = await prune(
      'trainer_holdout',
      'transaction_id',
      'event_time < $1',
      examples,
    );
    const artifactWhere = `created_at < $1 AND artifact IS NOT NULL
      AND version_id NOT IN (SELECT version_id FROM model_aliases)
      AND version_id NOT IN (
        SELECT DISTINCT ON (model_name) from_version_id FROM model_alias_changes
        WHERE alias = 'champion' AND from_version_id IS NOT NULL ORDER BY model_name, id DESC)`;
    let artifacts = 0;
    if (artifactsBefore !== null) {
      const at = new Date(artifactsBefore);
      if (dryRun) {
        const counted = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM model_versions WHERE ${artifactWhere}`,
          [at],
        );
        artifacts = Number(counted.rows[0]?.n ?? 0);
      } else {
        for (;;) {
          const updated = await pool.query(
            `UPDATE model_versions SET artifact = NULL, artifact_pruned_at = now()
             WHERE version_id IN (SELECT version_id FROM model_versions WHERE ${artifactWhere} LIMIT ${batchSize})`,
            [at],
          );
          artifacts += updated.rowCount ?? 0;
          if ((updated.rowCount ?? 0) < batchSize) break;
        }
      }
    }
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      dryRun,
      cutoffs: {
        transactions: iso(tx),
        features: iso(features),
        examples: iso(examples),
        artifacts: iso(artifactsBefore),
      },
      rows: {
        transactions,
        labels,
        features: featureRows,
        trainingExamples,
        trainerHoldout,
        artifacts,
      },
    };
  } finally {
    await lock.release();
  }
}
