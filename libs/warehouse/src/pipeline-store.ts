import type { PoolClient, Pool } from 'pg';
import type { FeaturesReady } from '@streamtrain/contracts';
import { BinaryCopyRows, copyInto } from './binary-copy';
import { copyFeatures } from './feature-copy';
import type { FeatureCopyBatch } from './feature-copy';
import { enqueueOutboxEvents } from './outbox';
import { inTransaction } from './pool';

/** A transaction as the pipeline and trainer read it. */
export interface StoredTransaction {
  transactionId: string;
  /** The ingest batch it arrived in. */
  batchId: string;
  customerId: string;
  terminalId: string;
  amount: number;
  eventTimeMs: number;
}

/** A label as the pipeline reads it. */
export interface StoredLabel {
  transactionId: string;
  isFraud: boolean;
  reportedAtMs: number;
}

/** The pipeline's event-time progress. */
export interface PipelineState {
  watermarkMs: number | null;
  maturedUntilMs: number | null;
}

interface TransactionRow {
  transaction_id: string;
  batch_id: string;
  customer_id: string;
  terminal_id: string;
  amount: number;
  event_time: Date;
}

function toStored(row: TransactionRow): StoredTransaction {
  return {
    transactionId: row.transaction_id,
    batchId: row.batch_id,
    customerId: row.customer_id,
    terminalId: row.terminal_id,
    amount: row.amount,
    eventTimeMs: row.event_time.getTime(),
  };
}

type Queryable = Pool | PoolClient;

/** The transactions that arrived in the given ingest batches (one id or several). */
export async function readBatchTransactions(
  db: Queryable,
  batchIds: string | readonly string[],
): Promise<StoredTransaction[]> {
  const { rows } = await db.query<TransactionRow>(
    `SELECT transaction_id, customer_id, terminal_id, amount, event_time, batch_id FROM transactions
     WHERE batch_id = ANY($1::text[])`,
    [typeof batchIds === 'string' ? [batchIds] : batchIds],
  );
  return rows.map(toStored);
}

/** The labels that arrived in the given ingest batches. */
export async function readBatchLabels(
  db: Queryable,
  batchIds: readonly string[],
): Promise<StoredLabel[]> {
  const { rows } = await db.query<{ transaction_id: string; is_fraud: boolean; reported_at: Date }>(
    `SELECT transaction_id, is_fraud, reported_at FROM labels WHERE batch_id = ANY($1::text[])`,
    [batchIds],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    isFraud: row.is_fraud,
    reportedAtMs: row.reported_at.getTime(),
  }));
}

/**
 * Every transaction of the given customers or terminals with event time in `[fromMs, toMs]`:
 * the history point-in-time features need. A transaction of both a listed customer and a listed
 * terminal comes back twice (`UNION ALL`: deduplicating in SQL sorts the whole result, and the
 * feature code drops repeats itself).
 */
export async function readHistory(
  db: Queryable,
  customerIds: readonly string[],
  terminalIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<StoredTransaction[]> {
  const { rows } = await db.query<TransactionRow>(
    `SELECT transaction_id, customer_id, terminal_id, amount, event_time, batch_id FROM transactions
     WHERE customer_id = ANY($1::text[]) AND event_time BETWEEN $3 AND $4
     UNION ALL
     SELECT transaction_id, customer_id, terminal_id, amount, event_time, batch_id FROM transactions
     WHERE terminal_id = ANY($2::text[]) AND event_time BETWEEN $3 AND $4`,
    [customerIds, terminalIds, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toStored);
}

/**
 * Fraud labels reported within `[fromMs, toMs]`: every label a feature over that history can use
 * (a label is reported after its transaction, so labels of transactions in the range are in it).
 * Fraud labels are rare, so this is a small read, where looking labels up by the ids of the
 * whole history would send tens of thousands of ids.
 */
export async function readKnownLabels(
  db: Queryable,
  fromMs: number,
  toMs: number,
): Promise<StoredLabel[]> {
  const { rows } = await db.query<{ transaction_id: string; is_fraud: boolean; reported_at: Date }>(
    `SELECT transaction_id, is_fraud, reported_at FROM labels
     WHERE is_fraud AND reported_at BETWEEN $1 AND $2`,
    [new Date(fromMs), new Date(toMs)],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    isFraud: row.is_fraud,
    reportedAtMs: row.reported_at.getTime(),
  }));
}

/** A batch the pipeline processed, with its sequence number (commit order). */
export interface ProcessedBatchRecord {
  seq: number;
  batchId: string;
}

/** The batches the pipeline processed after sequence number `afterSeq`, in order. */
export async function processedPipelineBatchesSince(
  db: Queryable,
  afterSeq: number,
): Promise<ProcessedBatchRecord[]> {
  const { rows } = await db.query<{ seq: string; batch_id: string }>(
    'SELECT seq, batch_id FROM pipeline_batches WHERE seq > $1 ORDER BY seq',
    [afterSeq],
  );
  return rows.map((row) => ({ seq: Number(row.seq), batchId: row.batch_id }));
}

/** The highest sequence number of a processed batch, 0 when none. */
export async function latestPipelineBatchSeq(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seq: string | null }>(
    'SELECT max(seq) AS seq FROM pipeline_batches',
  );
  return Number(rows[0]?.seq ?? 0);
}

/** The pipeline's state row, read without locking it. */
export async function readPipelineState(db: Queryable): Promise<PipelineState> {
  const { rows } = await db.query<{ watermark: Date | null; matured_until: Date | null }>(
    'SELECT watermark, matured_until FROM pipeline_state',
  );
  return {
    watermarkMs: rows[0]?.watermark?.getTime() ?? null,
    maturedUntilMs: rows[0]?.matured_until?.getTime() ?? null,
  };
}

/**
 * The raw rows a feature state with floor `afterMs` holds, up to `untilMs` (infinite: no bound):
 * the transactions with event time in `(afterMs, untilMs]`, and the fraud verdicts in force
 * reported after `afterMs`.
 */
export async function readRetainedRows(
  db: Queryable,
  afterMs: number,
  untilMs: number,
): Promise<{ transactions: StoredTransaction[]; labels: StoredLabel[] }> {
  const after = Number.isFinite(afterMs) ? new Date(afterMs) : null;
  const until = Number.isFinite(untilMs) ? new Date(untilMs) : null;
  const [transactions, labels] = await Promise.all([
    db.query<TransactionRow>(
      `SELECT transaction_id, customer_id, terminal_id, amount, event_time, batch_id FROM transactions
       WHERE ($1::timestamptz IS NULL OR event_time > $1) AND ($2::timestamptz IS NULL OR event_time <= $2)`,
      [after, until],
    ),
    db.query<{ transaction_id: string; reported_at: Date }>(
      `SELECT transaction_id, reported_at FROM labels
       WHERE is_fraud AND ($1::timestamptz IS NULL OR reported_at > $1)`,
      [after],
    ),
  ]);
  return {
    transactions: transactions.rows.map(toStored),
    labels: labels.rows.map((row) => ({
      transactionId: row.transaction_id,
      isFraud: true,
      reportedAtMs: row.reported_at.getTime(),
    })),
  };
}

/** The stored checkpoint of the pipeline's feature state. */
export interface FeatureCheckpointRecord {
  writerId: string;
  format: number;
  cursorSeq: number;
  floorMs: number;
  segments: { key: string; body: string }[];
}

/** Reads the feature state's checkpoint (one consistent snapshot), or null when none was written. */
export async function readFeatureCheckpoint(pool: Pool): Promise<FeatureCheckpointRecord | null> {
  return inTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{
      writer_id: string | null;
      format: number | null;
      cursor_seq: string | null;
      floor_ms: number | null;
    }>('SELECT writer_id, format, cursor_seq, floor_ms FROM pipeline_feature_checkpoint');
    const row = rows[0];
    if (row?.writer_id == null || row.format === null || row.floor_ms === null) return null;
    const segments = await client.query<{ segment: string; body: string }>(
      'SELECT segment, body FROM pipeline_feature_segments ORDER BY segment',
    );
    return {
      writerId: row.writer_id,
      format: row.format,
      cursorSeq: Number(row.cursor_seq ?? 0),
      floorMs: row.floor_ms,
      segments: segments.rows.map((segment) => ({ key: segment.segment, body: segment.body })),
    };
  });
}

/** A checkpoint to store: every segment (`full`) or the changed ones (null body: delete). */
export interface FeatureCheckpointWriteRecord {
  writerId: string;
  format: number;
  cursorSeq: number;
  floorMs: number;
  full: boolean;
  segments: readonly { key: string; body: string | null }[];
}

/**
 * Stores a checkpoint in one transaction, holding the checkpoint row's lock. A write that is not
 * `full` patches the stored checkpoint only when the same writer wrote it; otherwise nothing is
 * written and it returns false.
 */
export async function writeFeatureCheckpoint(
  pool: Pool,
  write: FeatureCheckpointWriteRecord,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ writer_id: string | null }>(
      'SELECT writer_id FROM pipeline_feature_checkpoint FOR UPDATE',
    );
    if (!write.full && rows[0]?.writer_id !== write.writerId) return false;
    if (write.full) await client.query('DELETE FROM pipeline_feature_segments');
    const gone = write.segments.filter((segment) => segment.body === null);
    if (gone.length > 0) {
      await client.query('DELETE FROM pipeline_feature_segments WHERE segment = ANY($1::text[])', [
        gone.map((segment) => segment.key),
      ]);
    }
    for (const segment of write.segments) {
      if (segment.body === null) continue;
      await client.query(
        `INSERT INTO pipeline_feature_segments (segment, body) VALUES ($1, $2)
         ON CONFLICT (segment) DO UPDATE SET body = EXCLUDED.body`,
        [segment.key, segment.body],
      );
    }
    await client.query(
      `UPDATE pipeline_feature_checkpoint
       SET writer_id = $1, format = $2, cursor_seq = $3, floor_ms = $4, written_at = now()`,
      [write.writerId, write.format, write.cursorSeq, write.floorMs],
    );
    return true;
  });
}

/** Which of `batchIds` the pipeline already processed (redeliveries). */
export async function donePipelineBatches(
  db: Queryable,
  batchIds: readonly string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ batch_id: string }>(
    'SELECT batch_id FROM pipeline_batches WHERE batch_id = ANY($1::text[])',
    [batchIds],
  );
  return new Set(rows.map((row) => row.batch_id));
}

/** Whether the pipeline already processed `batchId` (a redelivery). */
export async function isPipelineBatchDone(db: Queryable, batchId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM pipeline_batches WHERE batch_id = $1', [
    batchId,
  ]);
  return (rowCount ?? 0) > 0;
}

/** Locks and reads the pipeline's state row for the rest of the transaction. */
export async function lockPipelineState(client: PoolClient): Promise<PipelineState> {
  const { rows } = await client.query<{ watermark: Date | null; matured_until: Date | null }>(
    'SELECT watermark, matured_until FROM pipeline_state FOR UPDATE',
  );
  const row = rows[0];
  return {
    watermarkMs: row?.watermark?.getTime() ?? null,
    maturedUntilMs: row?.matured_until?.getTime() ?? null,
  };
}

/** Saves the pipeline's state row. */
export async function savePipelineState(client: PoolClient, state: PipelineState): Promise<void> {
  await client.query('UPDATE pipeline_state SET watermark = $1, matured_until = $2', [
    state.watermarkMs === null ? null : new Date(state.watermarkMs),
    state.maturedUntilMs === null ? null : new Date(state.maturedUntilMs),
  ]);
}

/** One computed feature vector. */
export interface FeatureRecord {
  transactionId: string;
  eventTimeMs: number;
  values: readonly number[];
}

/**
 * Stores feature vectors idempotently (a recomputation replaces the stored vector), through a
 * binary COPY (see `copyFeatures`).
 */
export function upsertFeatures(
  client: PoolClient,
  batchId: string,
  featureSetVersion: number,
  rows: readonly FeatureRecord[],
): Promise<number> {
  return copyFeatures(client, featureSetVersion, [{ batchId, rows }]);
}

/** Records that the pipeline processed `batchId`. */
export async function recordPipelineBatch(
  client: PoolClient,
  batch: {
    batchId: string;
    featureCount: number;
    exampleCount: number;
    watermarkMs: number | null;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO pipeline_batches (batch_id, feature_count, example_count, watermark) VALUES ($1, $2, $3, $4)`,
    [
      batch.batchId,
      batch.featureCount,
      batch.exampleCount,
      batch.watermarkMs === null ? null : new Date(batch.watermarkMs),
    ],
  );
}

/** Records the batches the pipeline processed, their sequence numbers in the order given. */
export async function recordPipelineBatches(
  client: PoolClient,
  batches: readonly {
    batchId: string;
    featureCount: number;
    exampleCount: number;
    watermarkMs: number | null;
  }[],
): Promise<void> {
  if (batches.length === 0) return;
  await client.query(
    `INSERT INTO pipeline_batches (batch_id, feature_count, example_count, watermark)
     SELECT id, features, examples, watermark
     FROM unnest($1::text[], $2::int[], $3::int[], $4::timestamptz[]) WITH ORDINALITY
       AS b(id, features, examples, watermark, position)
     ORDER BY position`,
    [
      batches.map((batch) => batch.batchId),
      batches.map((batch) => batch.featureCount),
      batches.map((batch) => batch.exampleCount),
      batches.map((batch) => (batch.watermarkMs === null ? null : new Date(batch.watermarkMs))),
    ],
  );
}

/** A transaction the maturity rule looks at, with what the warehouse knows of its label. */
export interface MaturityCandidateRecord {
  transactionId: string;
  eventTimeMs: number;
  fraudReportedAtMs: number | null;
  /** When the verdict in hand, a "not fraud" label that revised a fraud one, was reported. */
  genuineReportedAtMs: number | null;
  currentLabel: 0 | 1 | null;
}

/** The selection of a pass's maturity candidates (the pipeline's domain defines it). */
export interface MaturityCandidateQuery {
  watermarkMs: number;
  matureBeforeMs: number;
  previousMatureBeforeMs: number | null;
  batchIds: readonly string[];
}

/** A decided training example. */
export interface ExampleRecord {
  transactionId: string;
  eventTimeMs: number;
  label: 0 | 1;
  corrected: boolean;
}

/**
 * The transactions (with stored features) of the query: newly mature by event time, arrived late
 * in the batches in hand, with a fraud label in those batches reported by the watermark, or with a
 * "not fraud" label in them reported by the watermark while their example is labelled fraud (a
 * reversed chargeback); each with its earliest fraud report, its reversal's report and its
 * current example label.
 */
export async function readMaturityCandidates(
  db: Queryable,
  query: MaturityCandidateQuery,
): Promise<MaturityCandidateRecord[]> {
  // Times as epoch milliseconds: a number parses far faster than a timestamp, 30,000 rows a pass.
  const { rows } = await db.query<{
    transaction_id: string;
    event_ms: number;
    fraud_reported_ms: number | null;
    genuine_reported_ms: number | null;
    current_label: number | null;
  }>(
    // From the pipeline's own features (a transaction is a candidate only once featured), by its
    // event-time B-tree; per-candidate lookups as scalar subqueries, so the cost follows the
    // candidates, never the size of the tables (a join let the planner hash them whole).
    `WITH candidates AS (
       SELECT f.transaction_id, f.event_time FROM features f
       WHERE f.event_time <= $2 AND ($3::timestamptz IS NULL OR f.event_time > $3)
       UNION
       SELECT f.transaction_id, f.event_time FROM features f
       WHERE f.batch_id = ANY($4::text[]) AND f.event_time <= $2
       UNION
       SELECT f.transaction_id, f.event_time FROM labels l JOIN features f USING (transaction_id)
       WHERE l.batch_id = ANY($4::text[]) AND l.is_fraud AND l.reported_at <= $1
       UNION
       SELECT f.transaction_id, f.event_time
       FROM labels l JOIN features f USING (transaction_id)
         JOIN training_examples x USING (transaction_id)
       WHERE l.batch_id = ANY($4::text[]) AND NOT l.is_fraud AND x.label = 1 AND l.reported_at <= $1
     )
     SELECT c.transaction_id, extract(epoch FROM c.event_time)::float8 * 1000 AS event_ms,
            extract(epoch FROM (SELECT min(l.reported_at) FROM labels l
             WHERE l.transaction_id = c.transaction_id AND l.is_fraud))::float8 * 1000 AS fraud_reported_ms,
            extract(epoch FROM (SELECT max(l.reported_at) FROM labels l
             WHERE l.transaction_id = c.transaction_id AND NOT l.is_fraud))::float8 * 1000 AS genuine_reported_ms,
            (SELECT e.label FROM training_examples e WHERE e.transaction_id = c.transaction_id)
              AS current_label
     FROM candidates c`,
    [
      new Date(query.watermarkMs),
      new Date(query.matureBeforeMs),
      query.previousMatureBeforeMs === null ? null : new Date(query.previousMatureBeforeMs),
      query.batchIds,
    ],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    eventTimeMs: Math.round(row.event_ms),
    fraudReportedAtMs: row.fraud_reported_ms === null ? null : Math.round(row.fraud_reported_ms),
    genuineReportedAtMs:
      row.genuine_reported_ms === null ? null : Math.round(row.genuine_reported_ms),
    currentLabel: row.current_label === null ? null : row.current_label === 1 ? 1 : 0,
  }));
}

/**
 * Writes decided examples under `exampleSetId`: new ones inserted, a corrected one (genuine
 * turned fraud, or fraud turned genuine by a reversal) re-labelled and moved to this set;
 * anything else is left alone. Returns the rows written.
 */
export async function saveTrainingExamples(
  client: PoolClient,
  exampleSetId: string,
  maturedAtMs: number,
  examples: readonly ExampleRecord[],
): Promise<number> {
  if (examples.length === 0) return 0;
  // Binary COPY into a per-connection staging table, then one INSERT … ON CONFLICT: tens of
  // thousands of examples a pass, far cheaper than as text.
  const rows = new BinaryCopyRows();
  for (const example of examples) {
    rows
      .row(4)
      .text(example.transactionId)
      .int2(example.label)
      .timestamp(example.eventTimeMs)
      .bool(example.corrected);
  }
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS examples_stage
       (transaction_id text, label smallint, event_time timestamptz, corrected boolean)
       ON COMMIT DELETE ROWS`,
  );
  await copyInto(
    client,
    'examples_stage',
    ['transaction_id', 'label', 'event_time', 'corrected'],
    rows,
  );
  const result = await client.query(
    `WITH staged AS (DELETE FROM examples_stage RETURNING *)
     INSERT INTO training_examples (transaction_id, example_set_id, label, event_time, matured_at, corrected)
     SELECT transaction_id, $1, label, event_time, $2, corrected FROM staged
     ON CONFLICT (transaction_id) DO UPDATE
       SET label = EXCLUDED.label, corrected = true, example_set_id = EXCLUDED.example_set_id,
           matured_at = EXCLUDED.matured_at
       WHERE EXCLUDED.corrected AND training_examples.label <> EXCLUDED.label`,
    [exampleSetId, new Date(maturedAtMs)],
  );
  return result.rowCount ?? 0;
}

/** One pass's writes on a client holding the pipeline's transaction. */
export class PostgresPipelineTransaction {
  constructor(private readonly client: PoolClient) {}

  lockState(): Promise<PipelineState> {
    return lockPipelineState(this.client);
  }

  doneBatches(batchIds: readonly string[]): Promise<Set<string>> {
    return donePipelineBatches(this.client, batchIds);
  }

  saveFeatures(featureSetVersion: number, batches: readonly FeatureCopyBatch[]): Promise<number> {
    return copyFeatures(this.client, featureSetVersion, batches);
  }

  maturityCandidates(query: MaturityCandidateQuery): Promise<MaturityCandidateRecord[]> {
    return readMaturityCandidates(this.client, query);
  }

  saveExamples(
    exampleSetId: string,
    maturedAtMs: number,
    examples: readonly ExampleRecord[],
  ): Promise<number> {
    return saveTrainingExamples(this.client, exampleSetId, maturedAtMs, examples);
  }

  saveState(state: PipelineState): Promise<void> {
    return savePipelineState(this.client, state);
  }

  recordBatches(
    batches: readonly {
      batchId: string;
      featureCount: number;
      exampleCount: number;
      watermarkMs: number | null;
    }[],
  ): Promise<void> {
    return recordPipelineBatches(this.client, batches);
  }

  announce(events: readonly FeaturesReady[]): Promise<void> {
    return enqueueOutboxEvents(
      this.client,
      'pipeline_outbox',
      events.map((ready) => ({
        eventId: `features:${ready.batchId}`,
        routingKey: ready.type,
        payload: ready,
      })),
    );
  }
}

/**
 * The pipeline's store on PostgreSQL (the port is `PipelineStore` in services/pipeline's domain):
 * reads what ingest landed through read models, writes the pipeline's own tables. SQL only moves
 * data; which examples mature, and with which label, is decided by the pipeline's domain.
 */
export class PostgresPipelineStore {
  constructor(private readonly pool: Pool) {}

  doneBatches(batchIds: readonly string[]): Promise<Set<string>> {
    return donePipelineBatches(this.pool, batchIds);
  }

  async readBatches(
    batchIds: readonly string[],
  ): Promise<{ transactions: StoredTransaction[]; labels: StoredLabel[] }> {
    const [transactions, labels] = await Promise.all([
      readBatchTransactions(this.pool, batchIds),
      readBatchLabels(this.pool, batchIds),
    ]);
    return { transactions, labels };
  }

  readHistory(
    customerIds: readonly string[],
    terminalIds: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<StoredTransaction[]> {
    return readHistory(this.pool, customerIds, terminalIds, fromMs, toMs);
  }

  readKnownLabels(fromMs: number, toMs: number): Promise<StoredLabel[]> {
    return readKnownLabels(this.pool, fromMs, toMs);
  }

  processedSince(afterSeq: number): Promise<ProcessedBatchRecord[]> {
    return processedPipelineBatchesSince(this.pool, afterSeq);
  }

  latestProcessedSeq(): Promise<number> {
    return latestPipelineBatchSeq(this.pool);
  }

  readProgress(): Promise<PipelineState> {
    return readPipelineState(this.pool);
  }

  readRetained(
    afterMs: number,
    untilMs: number,
  ): Promise<{ transactions: StoredTransaction[]; labels: StoredLabel[] }> {
    return readRetainedRows(this.pool, afterMs, untilMs);
  }

  readFeatureCheckpoint(): Promise<FeatureCheckpointRecord | null> {
    return readFeatureCheckpoint(this.pool);
  }

  writeFeatureCheckpoint(write: FeatureCheckpointWriteRecord): Promise<boolean> {
    return writeFeatureCheckpoint(this.pool, write);
  }

  transact<T>(work: (tx: PostgresPipelineTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      // A pass's statements are index probes over tens of thousands of rows: JIT compilation
      // (about 200 ms a statement here) costs more than it could save (issue 14).
      await client.query('SET LOCAL jit = off');
      return work(new PostgresPipelineTransaction(client));
    });
  }
}
