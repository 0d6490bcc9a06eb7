import type { Pool, PoolClient } from 'pg';
import type { PromotionPin } from '@streamtrain/training';

type Queryable = Pool | PoolClient;

/** Who moved a registry alias and how. */
export type AliasChangeAction = 'gate' | 'promote' | 'rollback' | 'auto-rollback' | 'pin' | 'unpin';

/** One append-only audit row: every alias change, with who, when, why and the numbers. */
export interface AliasChange {
  id: number;
  modelName: string;
  alias: string;
  action: AliasChangeAction;
  fromVersionId: string | null;
  toVersionId: string | null;
  actor: string;
  reason: string;
  /** The figures the decision was taken on (metrics of both versions, thresholds). */
  numbers: Record<string, unknown>;
  changedAt: string;
}

/** An alias change to record. */
export type NewAliasChange = Omit<AliasChange, 'id' | 'changedAt'>;

/** Appends an audit row inside the caller's transaction. */
export async function recordAliasChange(
  client: PoolClient,
  change: NewAliasChange,
): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO model_alias_changes (model_name, alias, action, from_version_id, to_version_id, actor, reason, numbers)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [
      change.modelName,
      change.alias,
      change.action,
      change.fromVersionId,
      change.toVersionId,
      change.actor,
      change.reason,
      JSON.stringify(change.numbers),
    ],
  );
  return Number(rows[0]?.id);
}

/** The audit trail of `modelName`, newest first. */
export async function readAliasChanges(
  db: Queryable,
  modelName: string,
  limit = 100,
): Promise<AliasChange[]> {
  const { rows } = await db.query<{
    id: string;
    model_name: string;
    alias: string;
    action: AliasChangeAction;
    from_version_id: string | null;
    to_version_id: string | null;
    actor: string;
    reason: string;
    numbers: Record<string, unknown>;
    changed_at: Date;
  }>(
    `SELECT id, model_name, alias, action, from_version_id, to_version_id, actor, reason, numbers, changed_at
     FROM model_alias_changes WHERE model_name = $1 ORDER BY id DESC LIMIT $2`,
    [modelName, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    modelName: row.model_name,
    alias: row.alias,
    action: row.action,
    fromVersionId: row.from_version_id,
    toVersionId: row.to_version_id,
    actor: row.actor,
    reason: row.reason,
    numbers: row.numbers,
    changedAt: row.changed_at.toISOString(),
  }));
}

export type { PromotionPin } from '@streamtrain/training';
export { underPin } from '@streamtrain/training';

/** The pin of `modelName`, or null when automatic promotion is allowed. */
export async function readPromotionPin(
  db: Queryable,
  modelName: string,
): Promise<PromotionPin | null> {
  const { rows } = await db.query<{ actor: string; reason: string; pinned_at: Date }>(
    'SELECT actor, reason, pinned_at FROM model_pins WHERE model_name = $1',
    [modelName],
  );
  const row = rows[0];
  return row === undefined
    ? null
    : { modelName, actor: row.actor, reason: row.reason, pinnedAt: row.pinned_at.toISOString() };
}
