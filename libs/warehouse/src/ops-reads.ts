import type { Pool, PoolClient } from 'pg';
import { assertIdentifier } from './pool';

type Queryable = Pool | PoolClient;

/** A registry version as the operators' console shows it. */
export interface RegistryEntry {
  versionId: string;
  version: number;
  status: string;
  gateReason: string;
  createdAt: string;
  trainedSamples: number;
  labelCutoff: string | null;
  /** The version's holdout figures as the trainer recorded them (`auc`, `averagePrecision`, …). */
  metrics: Record<string, unknown>;
  /** The champion's figures on the same holdout, when there was one. */
  championMetrics: Record<string, unknown> | null;
}

/** The registry of one model: its versions (oldest first) and the champion alias. */
export interface RegistryHistory {
  versions: RegistryEntry[];
  championVersionId: string | null;
  championSince: string | null;
}

/** The newest `limit` versions of `modelName`, oldest first, and where `champion` points. */
export async function readRegistryHistory(
  db: Queryable,
  modelName: string,
  limit: number,
): Promise<RegistryHistory> {
  const { rows } = await db.query<{
    version_id: string;
    version: number;
    status: string;
    gate_reason: string;
    created_at: Date;
    trained_samples: number;
    label_cutoff: string | null;
    metrics: Record<string, unknown>;
    champion_metrics: Record<string, unknown> | null;
  }>(
    `SELECT * FROM (
       SELECT version_id, version, status, gate_reason, created_at, trained_samples,
              lineage->>'labelCutoff' AS label_cutoff, metrics, champion_metrics
       FROM model_versions WHERE model_name = $1 ORDER BY version DESC LIMIT $2
     ) recent ORDER BY version`,
    [modelName, limit],
  );
  const alias = await db.query<{ version_id: string; updated_at: Date }>(
    `SELECT version_id, updated_at FROM model_aliases WHERE model_name = $1 AND alias = 'champion'`,
    [modelName],
  );
  return {
    versions: rows.map((row) => ({
      versionId: row.version_id,
      version: row.version,
      status: row.status,
      gateReason: row.gate_reason,
      createdAt: row.created_at.toISOString(),
      trainedSamples: row.trained_samples,
      labelCutoff: row.label_cutoff,
      metrics: row.metrics,
      championMetrics: row.champion_metrics,
    })),
    championVersionId: alias.rows[0]?.version_id ?? null,
    championSince: alias.rows[0]?.updated_at.toISOString() ?? null,
  };
}

/** How far the loop has got, in event time and wall time. */
export interface LoopProgress {
  /** Newest event time ingest has landed (the head of the stream). */
  streamHead: string | null;
  /** The pipeline's event-time watermark. */
  watermark: string | null;
  /** Event time up to which labels have matured into training examples. */
  maturedUntil: string | null;
  /** Wall time the pipeline last handled a batch. */
  lastPipelineBatchAt: string | null;
  /** Wall time ingest last landed a batch. */
  lastIngestBatchAt: string | null;
  /** Ingest batches landed since the pipeline last handled one: the pipeline's backlog. */
  batchesAwaitingPipeline: number;
}

const iso = (value: Date | null | undefined): string | null => value?.toISOString() ?? null;

/** Reads the loop's progress from ingest's and the pipeline's tables. */
export async function readLoopProgress(db: Queryable): Promise<LoopProgress> {
  const { rows } = await db.query<{
    stream_head: Date | null;
    last_ingest: Date | null;
    watermark: Date | null;
    matured_until: Date | null;
    last_pipeline: Date | null;
    awaiting: string;
  }>(
    `SELECT (SELECT max(max_event_time) FROM ingest_batches) AS stream_head,
            (SELECT max(created_at) FROM ingest_batches) AS last_ingest,
            (SELECT watermark FROM pipeline_state LIMIT 1) AS watermark,
            (SELECT matured_until FROM pipeline_state LIMIT 1) AS matured_until,
            (SELECT max(processed_at) FROM pipeline_batches) AS last_pipeline,
            (SELECT count(*) FROM ingest_batches
              WHERE created_at > coalesce((SELECT max(processed_at) FROM pipeline_batches), '-infinity')) AS awaiting`,
  );
  const row = rows[0];
  return {
    streamHead: iso(row?.stream_head),
    watermark: iso(row?.watermark),
    maturedUntil: iso(row?.matured_until),
    lastPipelineBatchAt: iso(row?.last_pipeline),
    lastIngestBatchAt: iso(row?.last_ingest),
    batchesAwaitingPipeline: Number(row?.awaiting ?? 0),
  };
}

/** Unpublished events of one outbox table. */
export interface OutboxBacklog {
  table: string;
  pending: number;
  oldestCreatedAt: string | null;
}

/** The backlog of each outbox table (`ingest_outbox`, …); a table that does not exist is skipped. */
export async function readOutboxBacklog(
  db: Queryable,
  tables: readonly string[],
): Promise<OutboxBacklog[]> {
  const backlog: OutboxBacklog[] = [];
  for (const table of tables) {
    if (!(await tableExists(db, table))) continue;
    const { rows } = await db.query<{ pending: string; oldest: Date | null }>(
      `SELECT count(*) AS pending, min(created_at) AS oldest
       FROM ${assertIdentifier(table)} WHERE published_at IS NULL`,
    );
    backlog.push({
      table,
      pending: Number(rows[0]?.pending ?? 0),
      oldestCreatedAt: iso(rows[0]?.oldest),
    });
  }
  return backlog;
}

/** Whether `table` exists in the warehouse schema (first on the search path). */
export async function tableExists(db: Queryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ found: string | null }>(
    `SELECT to_regclass($1)::text AS found`,
    [assertIdentifier(table)],
  );
  return rows[0]?.found !== null && rows[0]?.found !== undefined;
}

const TIME_COLUMNS = ['created_at', 'started_at', 'measured_at', 'updated_at', 'finished_at'];

/**
 * The newest `limit` rows of a table another service owns and the console only shows (the
 * orchestrator's runs, the scorer's live quality), as plain objects, or `null` while the table
 * does not exist. Rows are ordered by the first time column found, newest first.
 */
export async function readRecentRows(
  db: Queryable,
  table: string,
  limit: number,
): Promise<Record<string, unknown>[] | null> {
  const name = assertIdentifier(table);
  if (!(await tableExists(db, name))) return null;
  const { rows: columns } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [name],
  );
  const names = columns.map((column) => column.column_name);
  const order = TIME_COLUMNS.find((column) => names.includes(column)) ?? names[0];
  const orderBy = order === undefined ? '' : `ORDER BY t.${assertIdentifier(order)} DESC`;
  const { rows } = await db.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(t) AS row FROM ${name} t ${orderBy} LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.row);
}
