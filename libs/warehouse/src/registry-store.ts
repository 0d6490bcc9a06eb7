import type { Pool, PoolClient } from 'pg';
import type { ModelMetrics } from '@streamtrain/contracts';
import type { Lineage, ModelAlias } from '@streamtrain/training';
import { readPromotionPin, recordAliasChange, underPin } from './registry-audit';

type Queryable = Pool | PoolClient;

export type { Lineage, ModelAlias } from '@streamtrain/training';

/** A stored model version (without its artifact). */
export interface ModelVersionRecord {
  versionId: string;
  modelName: string;
  version: number;
  parentVersionId: string | null;
  status: 'champion' | 'rejected' | 'retired';
  gateReason: string;
  metrics: ModelMetrics;
  championMetrics: ModelMetrics | null;
  lineage: Lineage;
  backend: string;
  trainedSamples: number;
  createdAt: string;
}

interface VersionRow {
  version_id: string;
  model_name: string;
  version: number;
  parent_version_id: string | null;
  status: ModelVersionRecord['status'];
  gate_reason: string;
  metrics: ModelMetrics;
  champion_metrics: ModelMetrics | null;
  lineage: Lineage;
  backend: string;
  trained_samples: number;
  created_at: Date;
}

function toVersion(row: VersionRow): ModelVersionRecord {
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

const VERSION_COLUMNS = `v.version_id, v.model_name, v.version, v.parent_version_id, v.status, v.gate_reason, v.metrics,
  v.champion_metrics, v.lineage, v.backend, v.trained_samples, v.created_at`;

/** Registry aliases: `champion` serves; `latest` is the newest trained version, promoted or not. */

/**
 * The version an alias points at, with its artifact, or null before there is one. Continuous
 * training warm-starts from `latest` (so no batch's learning is dropped when the gate says no)
 * and gates against `champion`.
 */
export async function readAlias(
  db: Queryable,
  modelName: string,
  alias: ModelAlias,
): Promise<{ record: ModelVersionRecord; artifact: unknown } | null> {
  const { rows } = await db.query<VersionRow & { artifact: unknown }>(
    `SELECT ${VERSION_COLUMNS}, v.artifact FROM model_aliases a JOIN model_versions v USING (version_id)
     WHERE a.model_name = $1 AND a.alias = $2`,
    [modelName, alias],
  );
  const row = rows[0];
  return row === undefined ? null : { record: toVersion(row), artifact: row.artifact };
}

/** Every version of `modelName`, newest first. */
export async function listModelVersions(
  db: Queryable,
  modelName: string,
  limit = 100,
): Promise<ModelVersionRecord[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.model_name = $1 ORDER BY v.version DESC LIMIT $2`,
    [modelName, limit],
  );
  return rows.map(toVersion);
}

/** A new version to register. */
export interface NewModelVersion {
  versionId: string;
  modelName: string;
  parentVersionId: string | null;
  promote: boolean;
  gateReason: string;
  metrics: ModelMetrics;
  championMetrics: ModelMetrics | null;
  lineage: Lineage;
  artifact: unknown;
  backend: string;
  trainedSamples: number;
}

/** What the registry recorded: the version's number and whether it became champion, and why. */
export interface RecordedVersion {
  version: number;
  promoted: boolean;
  gateReason: string;
}

/**
 * Registers a version (numbered after the latest) and returns its number; see
 * {@link recordModelVersion}.
 */
export async function registerModelVersion(
  client: PoolClient,
  input: NewModelVersion,
): Promise<number> {
  return (await recordModelVersion(client, input)).version;
}

/**
 * Registers a version (numbered after the latest) and, when promoted and the model is not
 * pinned, moves the `champion` alias to it and retires the previous champion. Run inside the
 * caller's transaction; what it returns is what was recorded (announce only a promoted one).
 */
export async function recordModelVersion(
  client: PoolClient,
  input: NewModelVersion,
): Promise<RecordedVersion> {
  // Serialise version numbering per model across trainers and retrains.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`model:${input.modelName}`]);
  const { rows } = await client.query<{ next: number }>(
    'SELECT coalesce(max(version), 0) + 1 AS next FROM model_versions WHERE model_name = $1',
    [input.modelName],
  );
  const version = rows[0]?.next ?? 1;
  // A pinned model's champion moves only by an operator; the version is registered all the same.
  const decision = underPin(
    { promote: input.promote, reason: input.gateReason },
    await readPromotionPin(client, input.modelName),
  );
  input = { ...input, promote: decision.promote, gateReason: decision.reason };
  await client.query(
    `INSERT INTO model_versions (version_id, model_name, version, parent_version_id, status, gate_reason, metrics,
       champion_metrics, lineage, artifact, backend, trained_samples)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      input.versionId,
      input.modelName,
      version,
      input.parentVersionId,
      input.promote ? 'champion' : 'rejected',
      input.gateReason,
      JSON.stringify(input.metrics),
      input.championMetrics === null ? null : JSON.stringify(input.championMetrics),
      JSON.stringify(input.lineage),
      JSON.stringify(input.artifact),
      input.backend,
      input.trainedSamples,
    ],
  );
  await client.query(
    `INSERT INTO model_aliases (model_name, alias, version_id) VALUES ($1, 'latest', $2)
     ON CONFLICT (model_name, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()`,
    [input.modelName, input.versionId],
  );
  if (input.promote) {
    const previous = await client.query<{ version_id: string }>(
      `SELECT version_id FROM model_aliases WHERE model_name = $1 AND alias = 'champion'`,
      [input.modelName],
    );
    await recordAliasChange(client, {
      modelName: input.modelName,
      alias: 'champion',
      action: 'gate',
      fromVersionId: previous.rows[0]?.version_id ?? null,
      toVersionId: input.versionId,
      actor: 'gate',
      reason: input.gateReason,
      numbers: { candidate: input.metrics, champion: input.championMetrics },
    });
    await client.query(
      `UPDATE model_versions SET status = 'retired' WHERE model_name = $1 AND status = 'champion' AND version_id <> $2`,
      [input.modelName, input.versionId],
    );
    await client.query(
      `INSERT INTO model_aliases (model_name, alias, version_id) VALUES ($1, 'champion', $2)
       ON CONFLICT (model_name, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()`,
      [input.modelName, input.versionId],
    );
  }
  return { version, promoted: input.promote, gateReason: input.gateReason };
}
