import type { Pool, PoolClient } from 'pg';
import type { ModelMetrics, OffsetRange } from '@streamtrain/contracts';
import { readPromotionPin, recordAliasChange, underPin } from './registry-audit';

type Queryable = Pool | PoolClient;

/** Labelled feature vectors, ready for training or evaluation. */
export interface ExampleSet {
  transactionIds: string[];
  features: number[][];
  labels: number[];
  eventTimesMs: number[];
}

function toExampleSet(
  rows: { transaction_id: string; feature_values: number[]; label: number; event_time: Date }[],
): ExampleSet {
  return {
    transactionIds: rows.map((row) => row.transaction_id),
    features: rows.map((row) => row.feature_values),
    labels: rows.map((row) => row.label),
    eventTimesMs: rows.map((row) => row.event_time.getTime()),
  };
}

/**
 * Whether an example is held out from training for the champion/challenger gate: a stable
 * hash of its id, so every process agrees without storing a flag.
 */
const HOLDOUT_SQL = `(abs(hashtext(e.transaction_id)) % 5 = 0)`;

/** The training examples that matured with the given pipeline batches, excluding the holdout. */
export async function readTrainingExamples(
  db: Queryable,
  exampleSetIds: readonly string[],
): Promise<ExampleSet> {
  const { rows } = await db.query<{
    transaction_id: string;
    feature_values: number[];
    label: number;
    event_time: Date;
  }>(
    `SELECT e.transaction_id, f.feature_values, e.label, e.event_time
     FROM training_examples e JOIN features f USING (transaction_id)
     WHERE e.example_set_id = ANY($1::text[]) AND NOT ${HOLDOUT_SQL}
     ORDER BY e.event_time, e.transaction_id`,
    [exampleSetIds],
  );
  return toExampleSet(rows);
}

/** The most recent `limit` holdout examples matured by `exampleSetId`'s time: the gate's test set. */
export async function readRecentHoldout(db: Queryable, limit: number): Promise<ExampleSet> {
  const { rows } = await db.query<{
    transaction_id: string;
    feature_values: number[];
    label: number;
    event_time: Date;
  }>(
    `SELECT * FROM (
       SELECT e.transaction_id, f.feature_values, e.label, e.event_time
       FROM training_examples e JOIN features f USING (transaction_id)
       WHERE ${HOLDOUT_SQL}
       ORDER BY e.event_time DESC, e.transaction_id DESC LIMIT $1
     ) recent ORDER BY event_time, transaction_id`,
    [limit],
  );
  return toExampleSet(rows);
}

/** What trained a model version, enough to rebuild it. */
export interface Lineage {
  exampleSetIds: string[];
  /** The ingest batches whose transactions were in the training examples. */
  sourceBatchIds: string[];
  /** Their Kafka (topic, partition, offset range) sets. */
  offsets: OffsetRange[];
  /** Labels reported up to this event time were used. */
  labelCutoff: string | null;
  featureSetVersion: number;
  parentVersionId: string | null;
  /** Orchestrated retrains: the event-time windows the run trained and evaluated on. */
  window?: {
    trainFromMs: number;
    trainToMs: number;
    testFromMs: number;
    testToMs: number;
    labelCutoffMs: number;
  };
  /** The training options, so a rebuild trains the same way. */
  training?: {
    epochs: number;
    batchSize: number;
    positiveWeight: number;
    seed: number;
    warmStart: boolean;
  };
}

/** The ingest batches (and their offset ranges) behind the examples of the given pipeline batches. */
export async function readSourceBatches(
  db: Queryable,
  exampleSetIds: readonly string[],
): Promise<{ batchIds: string[]; offsets: OffsetRange[] }> {
  const { rows } = await db.query<{ batch_id: string; offsets: OffsetRange[] }>(
    `SELECT b.batch_id, b.offsets FROM ingest_batches b
     WHERE b.batch_id IN (SELECT DISTINCT t.batch_id FROM training_examples e
                          JOIN transactions t USING (transaction_id)
                          WHERE e.example_set_id = ANY($1::text[]))
     ORDER BY b.batch_id`,
    [exampleSetIds],
  );
  return { batchIds: rows.map((row) => row.batch_id), offsets: rows.flatMap((row) => row.offsets) };
}

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
export type ModelAlias = 'champion' | 'latest';

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

/**
 * Registers a version (numbered after the latest) and, when promoted, moves the `champion`
 * alias to it and retires the previous champion. Run inside the caller's transaction.
 */
export async function registerModelVersion(
  client: PoolClient,
  input: NewModelVersion,
): Promise<number> {
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
  return version;
}

/** Whether the trainer already handled `batchId` (a redelivery). */
export async function isTrainerBatchDone(db: Queryable, batchId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM trainer_batches WHERE batch_id = $1', [
    batchId,
  ]);
  return (rowCount ?? 0) > 0;
}

/** A `features.ready` batch the trainer has accepted but not trained on yet. */
export interface PendingTrainerBatch {
  batchId: string;
  /** Training (non-holdout) examples it brings. */
  examples: number;
  recordedAtMs: number;
}

/** The batches waiting for the next training step, oldest first. */
export async function readPendingTrainerBatches(db: Queryable): Promise<PendingTrainerBatch[]> {
  const { rows } = await db.query<{ batch_id: string; examples: string; processed_at: Date }>(
    `SELECT b.batch_id, b.processed_at,
            (SELECT count(*) FROM training_examples e WHERE e.example_set_id = b.batch_id AND NOT ${HOLDOUT_SQL}) AS examples
     FROM trainer_batches b WHERE b.outcome = 'pending' ORDER BY b.processed_at, b.batch_id`,
  );
  return rows.map((row) => ({
    batchId: row.batch_id,
    examples: Number(row.examples),
    recordedAtMs: row.processed_at.getTime(),
  }));
}

/** Marks pending batches as trained by `versionId` (promoted or rejected). */
export async function resolveTrainerBatches(
  client: PoolClient,
  batchIds: readonly string[],
  outcome: string,
  versionId: string,
): Promise<void> {
  await client.query(
    `UPDATE trainer_batches SET outcome = $2, version_id = $3 WHERE batch_id = ANY($1::text[]) AND outcome = 'pending'`,
    [batchIds, outcome, versionId],
  );
}

/** Records how the trainer handled `batchId`. */
export async function recordTrainerBatch(
  client: PoolClient,
  batchId: string,
  outcome: string,
  versionId: string | null,
): Promise<void> {
  await client.query(
    'INSERT INTO trainer_batches (batch_id, version_id, outcome) VALUES ($1, $2, $3)',
    [batchId, versionId, outcome],
  );
}
