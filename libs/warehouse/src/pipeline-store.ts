import type { PoolClient, Pool } from 'pg';
import type { FeaturesReady } from '@streamtrain/contracts';
import { enqueueOutbox } from './outbox';
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

/** Stores feature vectors idempotently (a recomputation replaces the stored vector). */
export async function upsertFeatures(
  client: PoolClient,
  batchId: string,
  featureSetVersion: number,
  rows: readonly FeatureRecord[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO features (transaction_id, feature_set_version, event_time, batch_id, feature_values)
     SELECT id, $4, t, $5, string_to_array(v, ',')::double precision[]
     FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS f(id, t, v)
     ON CONFLICT (transaction_id) DO UPDATE
       SET feature_values = EXCLUDED.feature_values, feature_set_version = EXCLUDED.feature_set_version,
           computed_at = now()`,
    [
      rows.map((row) => row.transactionId),
      rows.map((row) => new Date(row.eventTimeMs)),
      rows.map((row) => row.values.join(',')),
      featureSetVersion,
      batchId,
    ],
  );
  return result.rowCount ?? 0;
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
  const { rows } = await db.query<{
    transaction_id: string;
    event_time: Date;
    fraud_reported_at: Date | null;
    genuine_reported_at: Date | null;
    current_label: number | null;
  }>(
    `WITH candidates AS (
       SELECT t.transaction_id, t.event_time FROM transactions t
       WHERE t.event_time <= $2 AND ($3::timestamptz IS NULL OR t.event_time > $3)
       UNION
       SELECT t.transaction_id, t.event_time FROM transactions t
       WHERE t.batch_id = ANY($4::text[]) AND t.event_time <= $2
       UNION
       SELECT t.transaction_id, t.event_time FROM labels l JOIN transactions t USING (transaction_id)
       WHERE l.batch_id = ANY($4::text[]) AND l.is_fraud AND l.reported_at <= $1
       UNION
       SELECT t.transaction_id, t.event_time
       FROM labels l JOIN transactions t USING (transaction_id)
         JOIN training_examples x USING (transaction_id)
       WHERE l.batch_id = ANY($4::text[]) AND NOT l.is_fraud AND x.label = 1 AND l.reported_at <= $1
     )
     SELECT c.transaction_id, c.event_time,
            (SELECT min(l.reported_at) FROM labels l
             WHERE l.transaction_id = c.transaction_id AND l.is_fraud) AS fraud_reported_at,
            (SELECT max(l.reported_at) FROM labels l
             WHERE l.transaction_id = c.transaction_id AND NOT l.is_fraud) AS genuine_reported_at,
            e.label AS current_label
     FROM candidates c JOIN features f USING (transaction_id)
     LEFT JOIN training_examples e USING (transaction_id)`,
    [
      new Date(query.watermarkMs),
      new Date(query.matureBeforeMs),
      query.previousMatureBeforeMs === null ? null : new Date(query.previousMatureBeforeMs),
      query.batchIds,
    ],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    eventTimeMs: row.event_time.getTime(),
    fraudReportedAtMs: row.fraud_reported_at?.getTime() ?? null,
    genuineReportedAtMs: row.genuine_reported_at?.getTime() ?? null,
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
  const result = await client.query(
    `INSERT INTO training_examples (transaction_id, example_set_id, label, event_time, matured_at, corrected)
     SELECT id, $5, label, t, $6, corrected
     FROM unnest($1::text[], $2::smallint[], $3::timestamptz[], $4::boolean[]) AS x(id, label, t, corrected)
     ON CONFLICT (transaction_id) DO UPDATE
       SET label = EXCLUDED.label, corrected = true, example_set_id = EXCLUDED.example_set_id,
           matured_at = EXCLUDED.matured_at
       WHERE EXCLUDED.corrected AND training_examples.label <> EXCLUDED.label`,
    [
      examples.map((example) => example.transactionId),
      examples.map((example) => example.label),
      examples.map((example) => new Date(example.eventTimeMs)),
      examples.map((example) => example.corrected),
      exampleSetId,
      new Date(maturedAtMs),
    ],
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

  saveFeatures(
    batchId: string,
    featureSetVersion: number,
    rows: readonly FeatureRecord[],
  ): Promise<number> {
    return upsertFeatures(this.client, batchId, featureSetVersion, rows);
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

  recordBatch(batch: {
    batchId: string;
    featureCount: number;
    exampleCount: number;
    watermarkMs: number | null;
  }): Promise<void> {
    return recordPipelineBatch(this.client, batch);
  }

  announce(ready: FeaturesReady): Promise<void> {
    return enqueueOutbox(this.client, 'pipeline_outbox', {
      eventId: `features:${ready.batchId}`,
      routingKey: ready.type,
      payload: ready,
    });
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

  transact<T>(work: (tx: PostgresPipelineTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => work(new PostgresPipelineTransaction(client)));
  }
}
