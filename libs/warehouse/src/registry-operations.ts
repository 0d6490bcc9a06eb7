import type { Pool, PoolClient } from 'pg';
import { ROUTING_KEYS, StreamtrainError } from '@streamtrain/contracts';
import type { ModelMetrics, ModelPublished } from '@streamtrain/contracts';
import { enqueueOutbox } from './outbox';
import { inTransaction } from './pool';
import { readAliasChanges, readPromotionPin, recordAliasChange } from './registry-audit';
import type { AliasChange, AliasChangeAction, PromotionPin } from './registry-audit';
import type { ModelVersionRecord } from './registry-store';

type Queryable = Pool | PoolClient;

/**
 * The outbox the registry's events leave through: the registry tables belong to the training
 * side, and every process that changes them (trainer, orchestrator, CLI) relays this table.
 */
export const REGISTRY_OUTBOX = 'trainer_outbox' as const;

const COLUMNS = `version_id, model_name, version, parent_version_id, status, gate_reason, metrics,
  champion_metrics, lineage, backend, trained_samples, created_at`;

interface Row {
  version_id: string;
  model_name: string;
  version: number;
  parent_version_id: string | null;
  status: ModelVersionRecord['status'];
  gate_reason: string;
  metrics: ModelMetrics;
  champion_metrics: ModelMetrics | null;
  lineage: ModelVersionRecord['lineage'];
  backend: string;
  trained_samples: number;
  created_at: Date;
}

function toRecord(row: Row): ModelVersionRecord {
  return {
    versionId: row.version_id,
    modelName: row.model_name,
    version: row.version,
    parentVersionId: row.parent_version_id,
    status: row.status,
    gateReason: row.gate_reason,
    metrics: row.metrics,
    championMetrics: row.champion_metrics,
    lineage: row.lineage,
    backend: row.backend,
    trainedSamples: row.trained_samples,
    createdAt: row.created_at.toISOString(),
  };
}

/** A registry operation that cannot be done as asked (unknown version, nothing to roll back to). */
export class RegistryOperationError extends StreamtrainError {
  constructor(
    message: string,
    /** `not-found` or `conflict`, for an HTTP status. */
    readonly kind: 'not-found' | 'conflict',
  ) {
    super('REGISTRY_OPERATION_REFUSED', message);
    this.name = 'RegistryOperationError';
  }
}

/** Options of {@link listVersions}. */
export interface VersionPage {
  status?: ModelVersionRecord['status'];
  /** @default 20 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** One page of `modelName`'s versions, newest first, with the total matching. */
export async function listVersions(
  db: Queryable,
  modelName: string,
  page: VersionPage = {},
): Promise<{ total: number; versions: ModelVersionRecord[] }> {
  const status = page.status ?? null;
  const [{ rows }, count] = await Promise.all([
    db.query<Row>(
      `SELECT ${COLUMNS} FROM model_versions WHERE model_name = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY version DESC LIMIT $3 OFFSET $4`,
      [modelName, status, page.limit ?? 20, page.offset ?? 0],
    ),
    db.query<{ n: string }>(
      `SELECT count(*) AS n FROM model_versions WHERE model_name = $1 AND ($2::text IS NULL OR status = $2)`,
      [modelName, status],
    ),
  ]);
  return { total: Number(count.rows[0]?.n ?? 0), versions: rows.map(toRecord) };
}

/** A version with everything an operator asks about it. */
export interface VersionDetail {
  version: ModelVersionRecord;
  /** Aliases pointing at it (`champion`, `latest`). */
  aliases: string[];
  /** Its ancestors, nearest first (warm-start chain). */
  ancestry: string[];
  /** Audit rows that moved an alias to or from it. */
  changes: AliasChange[];
}

/** The version `versionId`, or null. */
export async function readVersion(db: Queryable, versionId: string): Promise<VersionDetail | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM model_versions WHERE version_id = $1`,
    [versionId],
  );
  const row = rows[0];
  if (row === undefined) return null;
  const [aliases, ancestry, changes] = await Promise.all([
    db.query<{ alias: string }>(
      'SELECT alias FROM model_aliases WHERE version_id = $1 ORDER BY alias',
      [versionId],
    ),
    db.query<{ version_id: string }>(
      `WITH RECURSIVE chain AS (
         SELECT parent_version_id AS version_id, 1 AS depth FROM model_versions WHERE version_id = $1
         UNION ALL
         SELECT v.parent_version_id, c.depth + 1 FROM model_versions v JOIN chain c USING (version_id)
         WHERE c.depth < 1000
       ) SELECT version_id FROM chain WHERE version_id IS NOT NULL ORDER BY depth`,
      [versionId],
    ),
    db.query<{ id: string }>(
      `SELECT id FROM model_alias_changes WHERE from_version_id = $1 OR to_version_id = $1`,
      [versionId],
    ),
  ]);
  const ids = new Set(changes.rows.map((change) => Number(change.id)));
  const trail = (await readAliasChanges(db, row.model_name, 10_000)).filter((change) =>
    ids.has(change.id),
  );
  return {
    version: toRecord(row),
    aliases: aliases.rows.map((alias) => alias.alias),
    ancestry: ancestry.rows.map((ancestor) => ancestor.version_id),
    changes: trail,
  };
}

/** The stored artifact of `versionId`, or null. */
export async function readVersionArtifact(
  db: Queryable,
  versionId: string,
): Promise<{ record: ModelVersionRecord; artifact: unknown } | null> {
  const { rows } = await db.query<Row & { artifact: unknown }>(
    `SELECT ${COLUMNS}, artifact FROM model_versions WHERE version_id = $1`,
    [versionId],
  );
  const row = rows[0];
  return row === undefined ? null : { record: toRecord(row), artifact: row.artifact };
}

/** Who asks for an alias change, and why. */
export interface OperatorRequest {
  modelName: string;
  actor: string;
  reason: string;
  /** Extra figures for the audit row (e.g. live AP of both versions). */
  numbers?: Record<string, unknown>;
  now?: () => number;
}

/** What an alias change did. */
export interface ChampionChange {
  changeId: number;
  fromVersionId: string | null;
  toVersionId: string;
  /** The `model.published` event id, enqueued in {@link REGISTRY_OUTBOX}. */
  eventId: string;
}

async function lockModel(client: PoolClient, modelName: string): Promise<void> {
  // The same lock registerModelVersion takes: alias moves and registrations never interleave.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model:${modelName}`]);
}

async function currentChampion(client: PoolClient, modelName: string): Promise<string | null> {
  const { rows } = await client.query<{ version_id: string }>(
    `SELECT version_id FROM model_aliases WHERE model_name = $1 AND alias = 'champion'`,
    [modelName],
  );
  return rows[0]?.version_id ?? null;
}

/**
 * Moves `champion` to `versionId` inside the caller's transaction: the old champion is retired,
 * the move is audited, and `model.published` is enqueued. The registry's one way to change a
 * champion outside the gate.
 */
export async function moveChampion(
  client: PoolClient,
  versionId: string,
  action: Exclude<AliasChangeAction, 'gate' | 'pin' | 'unpin'>,
  request: OperatorRequest,
): Promise<ChampionChange> {
  await lockModel(client, request.modelName);
  const { rows } = await client.query<Row>(
    `SELECT ${COLUMNS} FROM model_versions WHERE version_id = $1 AND model_name = $2`,
    [versionId, request.modelName],
  );
  const target = rows[0];
  if (target === undefined) {
    throw new RegistryOperationError(
      `model ${request.modelName} has no version ${versionId}`,
      'not-found',
    );
  }
  const pruned = await client.query(
    'SELECT 1 FROM model_versions WHERE version_id = $1 AND artifact IS NULL',
    [versionId],
  );
  if ((pruned.rowCount ?? 0) > 0) {
    // Retention pruned its artifact (`warehouse prune`): nothing could serve it.
    throw new RegistryOperationError(`${versionId}'s artifact was pruned`, 'conflict');
  }
  const fromVersionId = await currentChampion(client, request.modelName);
  if (fromVersionId === versionId) {
    throw new RegistryOperationError(`${versionId} is already the champion`, 'conflict');
  }
  const from =
    fromVersionId === null
      ? null
      : ((
          await client.query<{ metrics: ModelMetrics }>(
            'SELECT metrics FROM model_versions WHERE version_id = $1',
            [fromVersionId],
          )
        ).rows[0]?.metrics ?? null);
  await client.query(
    `UPDATE model_versions SET status = 'retired' WHERE model_name = $1 AND status = 'champion'`,
    [request.modelName],
  );
  await client.query(`UPDATE model_versions SET status = 'champion' WHERE version_id = $1`, [
    versionId,
  ]);
  await client.query(
    `INSERT INTO model_aliases (model_name, alias, version_id) VALUES ($1, 'champion', $2)
     ON CONFLICT (model_name, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()`,
    [request.modelName, versionId],
  );
  const changeId = await recordAliasChange(client, {
    modelName: request.modelName,
    alias: 'champion',
    action,
    fromVersionId,
    toVersionId: versionId,
    actor: request.actor,
    reason: request.reason,
    numbers: { to: target.metrics, from, ...request.numbers },
  });
  const eventId = `model:${versionId}:change:${changeId}`;
  const published: ModelPublished = {
    schemaVersion: 1,
    type: 'model.published',
    modelName: request.modelName,
    versionId,
    version: target.version,
    parentVersionId: target.parent_version_id,
    trainedOnBatches: target.lineage.exampleSetIds,
    metrics: target.metrics,
    occurredAt: new Date((request.now ?? Date.now)()).toISOString(),
  };
  await enqueueOutbox(client, REGISTRY_OUTBOX, {
    eventId,
    routingKey: ROUTING_KEYS.modelPublished,
    payload: published,
  });
  return { changeId, fromVersionId, toVersionId: versionId, eventId };
}

/** An operator promotes `versionId` to champion. */
export function promoteVersion(
  pool: Pool,
  versionId: string,
  request: OperatorRequest,
): Promise<ChampionChange> {
  return inTransaction(pool, (client) => moveChampion(client, versionId, 'promote', request));
}

/**
 * The version the current champion replaced: the `from` of the latest audited move to it, or,
 * for a registry older than the audit trail, the newest retired version before it.
 */
export async function previousChampion(db: Queryable, modelName: string): Promise<string | null> {
  const { rows } = await db.query<{ from_version_id: string | null }>(
    `SELECT c.from_version_id FROM model_alias_changes c
     JOIN model_aliases a ON a.model_name = c.model_name AND a.alias = 'champion' AND a.version_id = c.to_version_id
     WHERE c.model_name = $1 AND c.alias = 'champion' AND c.action NOT IN ('pin', 'unpin')
     ORDER BY c.id DESC LIMIT 1`,
    [modelName],
  );
  if (rows[0] !== undefined) return rows[0].from_version_id;
  const fallback = await db.query<{ version_id: string }>(
    `SELECT v.version_id FROM model_versions v
     WHERE v.model_name = $1 AND v.status = 'retired'
       AND v.version < (SELECT c.version FROM model_aliases a JOIN model_versions c USING (version_id)
                        WHERE a.model_name = $1 AND a.alias = 'champion')
     ORDER BY v.version DESC LIMIT 1`,
    [modelName],
  );
  return fallback.rows[0]?.version_id ?? null;
}

/** Rolls the champion back to `versionId`, or to the version the champion replaced. */
export function rollbackChampion(
  pool: Pool,
  versionId: string | null,
  request: OperatorRequest & { action?: 'rollback' | 'auto-rollback' },
): Promise<ChampionChange> {
  return inTransaction(pool, async (client) => {
    await lockModel(client, request.modelName);
    const target = versionId ?? (await previousChampion(client, request.modelName));
    if (target === null) {
      throw new RegistryOperationError(
        `model ${request.modelName} has no previous champion to roll back to`,
        'conflict',
      );
    }
    return moveChampion(client, target, request.action ?? 'rollback', request);
  });
}

/** Freezes automatic promotion of `modelName` (idempotent: a second pin changes nothing). */
export function pinModel(pool: Pool, request: OperatorRequest): Promise<PromotionPin> {
  return inTransaction(pool, async (client) => {
    await lockModel(client, request.modelName);
    const existing = await readPromotionPin(client, request.modelName);
    if (existing !== null) return existing;
    await client.query('INSERT INTO model_pins (model_name, actor, reason) VALUES ($1, $2, $3)', [
      request.modelName,
      request.actor,
      request.reason,
    ]);
    const champion = await currentChampion(client, request.modelName);
    await recordAliasChange(client, {
      modelName: request.modelName,
      alias: 'champion',
      action: 'pin',
      fromVersionId: champion,
      toVersionId: champion,
      actor: request.actor,
      reason: request.reason,
      numbers: request.numbers ?? {},
    });
    return (await readPromotionPin(client, request.modelName)) as PromotionPin;
  });
}

/** Lets the gate promote again. Returns whether a pin was lifted. */
export function unpinModel(pool: Pool, request: OperatorRequest): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await lockModel(client, request.modelName);
    const { rowCount } = await client.query('DELETE FROM model_pins WHERE model_name = $1', [
      request.modelName,
    ]);
    if ((rowCount ?? 0) === 0) return false;
    const champion = await currentChampion(client, request.modelName);
    await recordAliasChange(client, {
      modelName: request.modelName,
      alias: 'champion',
      action: 'unpin',
      fromVersionId: champion,
      toVersionId: champion,
      actor: request.actor,
      reason: request.reason,
      numbers: request.numbers ?? {},
    });
    return true;
  });
}
