import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import type { BatchArrived, Channel, OffsetRange } from '@streamtrain/contracts';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import { enqueueOutbox } from './outbox';

/** A validated transaction with where it came from. */
export interface TransactionRecord {
  transactionId: string;
  customerId: string;
  terminalId: string;
  amount: number;
  eventTime: string;
  channel: Channel;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
}

/** A validated fraud label with where it came from. */
export interface LabelRecord {
  transactionId: string;
  isFraud: boolean;
  reportedAt: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
}

/** What one ingest write carries. */
export interface ArrivalBatchInput {
  batchId: string;
  transactions: readonly TransactionRecord[];
  labels: readonly LabelRecord[];
  offsets: readonly OffsetRange[];
}

/** What one ingest write did. */
export interface ArrivalBatchResult {
  /** Rows new to the warehouse (duplicates of earlier deliveries are not counted). */
  insertedTransactions: number;
  insertedLabels: number;
  /** The event enqueued in the outbox, or null when nothing was new. */
  event: BatchArrived | null;
}

// COPY text format: backslash, tab, newline and carriage return must be escaped.
function copyField(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

function* copyLines(
  batchId: string,
  rows: readonly TransactionRecord[],
  chunk = 2_000,
): Generator<string> {
  for (let start = 0; start < rows.length; start += chunk) {
    let text = '';
    const end = Math.min(rows.length, start + chunk);
    for (let i = start; i < end; i += 1) {
      const row = rows[i] as TransactionRecord;
      text += `${copyField(row.transactionId)}\t${copyField(row.customerId)}\t${copyField(row.terminalId)}\t${row.amount}\t${row.eventTime}\t${row.channel}\t${batchId}\t${copyField(row.sourceTopic)}\t${row.sourcePartition}\t${row.sourceOffset}\n`;
    }
    yield text;
  }
}

/**
 * The first record of each transaction id, in order: a batch that carries an id twice (a
 * producer retry) writes it once. Cheaper here than `DISTINCT ON` in SQL, which sorts.
 */
function firstOfEach(rows: readonly TransactionRecord[]): TransactionRecord[] {
  const seen = new Set<string>();
  const unique: TransactionRecord[] = [];
  for (const row of rows) {
    if (seen.has(row.transactionId)) continue;
    seen.add(row.transactionId);
    unique.push(row);
  }
  return unique;
}

async function insertTransactions(
  client: PoolClient,
  batchId: string,
  rows: readonly TransactionRecord[],
): Promise<{ count: number; minEventTime: string | null; maxEventTime: string | null }> {
  if (rows.length === 0) return { count: 0, minEventTime: null, maxEventTime: null };
  // A per-connection staging table, emptied at every commit: COPY is several times faster than
  // multi-row INSERT, and the INSERT … SELECT below adds the idempotency COPY lacks.
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS transactions_stage
       (LIKE transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
  );
  const copy = client.query(
    copyFrom(
      `COPY transactions_stage (transaction_id, customer_id, terminal_id, amount, event_time, channel,
        batch_id, source_topic, source_partition, source_offset) FROM STDIN`,
    ),
  );
  await pipeline(Readable.from(copyLines(batchId, firstOfEach(rows))), copy);
  const { rows: result } = await client.query<{
    count: string;
    min: Date | null;
    max: Date | null;
  }>(
    `WITH inserted AS (
       INSERT INTO transactions SELECT * FROM transactions_stage
       ON CONFLICT (transaction_id) DO NOTHING
       RETURNING event_time
     )
     SELECT count(*) AS count, min(event_time) AS min, max(event_time) AS max FROM inserted`,
  );
  const summary = result[0];
  return {
    count: Number(summary?.count ?? 0),
    minEventTime: summary?.min?.toISOString() ?? null,
    maxEventTime: summary?.max?.toISOString() ?? null,
  };
}

async function insertLabels(
  client: PoolClient,
  batchId: string,
  rows: readonly LabelRecord[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO labels (transaction_id, is_fraud, reported_at, batch_id, source_topic, source_partition, source_offset)
     SELECT DISTINCT ON (id) id, fraud, reported, $7, topic, part, off
     FROM unnest($1::text[], $2::boolean[], $3::timestamptz[], $4::text[], $5::int[], $6::bigint[])
       AS l(id, fraud, reported, topic, part, off)
     ORDER BY id, off
     ON CONFLICT (transaction_id) DO NOTHING`,
    [
      rows.map((row) => row.transactionId),
      rows.map((row) => row.isFraud),
      rows.map((row) => row.reportedAt),
      rows.map((row) => row.sourceTopic),
      rows.map((row) => row.sourcePartition),
      rows.map((row) => row.sourceOffset),
      batchId,
    ],
  );
  return result.rowCount ?? 0;
}

/**
 * Writes one arrival batch inside the caller's transaction: transactions and labels idempotently
 * (by transaction id; duplicates inside the batch removed first), and, when anything was new, the
 * batch record and its `batch.arrived` event in the outbox. Commit, then commit Kafka offsets.
 */
export async function writeArrivalBatch(
  client: PoolClient,
  input: ArrivalBatchInput,
  now: Date = new Date(),
): Promise<ArrivalBatchResult> {
  const transactions = await insertTransactions(client, input.batchId, input.transactions);
  const insertedLabels = await insertLabels(client, input.batchId, input.labels);
  if (transactions.count === 0 && insertedLabels === 0) {
    return { insertedTransactions: 0, insertedLabels: 0, event: null };
  }
  const event: BatchArrived = {
    schemaVersion: 1,
    type: 'batch.arrived',
    batchId: input.batchId,
    transactionCount: transactions.count,
    labelCount: insertedLabels,
    minEventTime: transactions.minEventTime,
    maxEventTime: transactions.maxEventTime,
    offsets: [...input.offsets],
    occurredAt: now.toISOString(),
  };
  await client.query(
    `INSERT INTO ingest_batches (batch_id, transaction_count, label_count, min_event_time, max_event_time, offsets)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      input.batchId,
      transactions.count,
      insertedLabels,
      transactions.minEventTime,
      transactions.maxEventTime,
      JSON.stringify(input.offsets),
    ],
  );
  await enqueueOutbox(client, 'ingest_outbox', {
    eventId: input.batchId,
    routingKey: ROUTING_KEYS.batchArrived,
    payload: event,
  });
  return { insertedTransactions: transactions.count, insertedLabels, event };
}
