import type { PoolClient } from 'pg';
import { BinaryCopyRows, copyInto } from './binary-copy';

/** A feature vector as the `features` table stores it. */
export interface FeatureCopyRow {
  readonly transactionId: string;
  readonly eventTimeMs: number;
  readonly values: readonly number[];
}

/** The feature vectors of one batch. */
export interface FeatureCopyBatch {
  readonly batchId: string;
  readonly rows: readonly FeatureCopyRow[];
}

/**
 * Stores feature vectors idempotently (a recomputation replaces the stored vector): a binary
 * COPY into a per-connection staging table, then one `INSERT … ON CONFLICT` from it, about twice
 * as fast as an `INSERT` of the vectors as text.
 */
export async function copyFeatures(
  client: PoolClient,
  featureSetVersion: number,
  batches: readonly FeatureCopyBatch[],
): Promise<number> {
  const rows = new BinaryCopyRows();
  for (const { batchId, rows: vectors } of batches) {
    for (const vector of vectors) {
      rows
        .row(5)
        .text(vector.transactionId)
        .int4(featureSetVersion)
        .timestamp(vector.eventTimeMs)
        .text(batchId)
        .float8Array(vector.values);
    }
  }
  if (rows.count === 0) return 0;
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS features_stage
       (LIKE features INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
  );
  await copyInto(
    client,
    'features_stage',
    ['transaction_id', 'feature_set_version', 'event_time', 'batch_id', 'feature_values'],
    rows,
  );
  const result = await client.query(
    `WITH staged AS (DELETE FROM features_stage RETURNING *)
     INSERT INTO features (transaction_id, feature_set_version, event_time, batch_id, feature_values)
     SELECT transaction_id, feature_set_version, event_time, batch_id, feature_values FROM staged
     ON CONFLICT (transaction_id) DO UPDATE
       SET feature_values = EXCLUDED.feature_values, feature_set_version = EXCLUDED.feature_set_version,
           computed_at = now()`,
  );
  return result.rowCount ?? 0;
}
