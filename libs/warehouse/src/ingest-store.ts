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
  /** Labels revised by a later, opposite verdict (they count in the event's `labelCount`). */
  correctedLabels: number;
  /** Rows whose id was stored before with other content: recorded in `transaction_conflicts`. */
  conflicts: number;
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

async function insertTransactions(
  client: PoolClient,
  batchId: string,
  rows: readonly TransactionRecord[],
): Promise<{
  count: number;
  conflicts: number;
  minEventTime: string | null;
  maxEventTime: string | null;
}> {
  if (rows.length === 0) return { count: 0, conflicts: 0, minEventTime: null, maxEventTime: null };
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
  await pipeline(Readable.from(copyLines(batchId, rows)), copy);
  // DO NOTHING also skips a later row of the same command with the same id, so a batch that
  // carries an id twice (a producer retry) writes its first occurrence, in COPY order.
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
  const count = Number(summary?.count ?? 0);
  // Every row not inserted is a duplicate or a conflict: look only when there are some.
  const conflicts = count < rows.length ? await recordConflicts(client) : 0;
  return {
    count,
    conflicts,
    minEventTime: summary?.min?.toISOString() ?? null,
    maxEventTime: summary?.max?.toISOString() ?? null,
  };
}

/**
 * Records the staged rows whose id is already stored from another source position with other
 * content (amount, customer, terminal, event time or channel). An unchanged redelivery is a
 * duplicate, not a conflict; a redelivered conflict is recorded once. Returns how many are new.
 */
async function recordConflicts(client: PoolClient): Promise<number> {
  const result = await client.query(
    `INSERT INTO transaction_conflicts (transaction_id, source_topic, source_partition, source_offset,
       batch_id, existing_amount, incoming_amount, existing, incoming)
     SELECT s.transaction_id, s.source_topic, s.source_partition, s.source_offset, s.batch_id,
            t.amount, s.amount,
            jsonb_build_object('customerId', t.customer_id, 'terminalId', t.terminal_id,
              'amount', t.amount, 'eventTime', t.event_time, 'channel', t.channel, 'batchId', t.batch_id,
              'sourceTopic', t.source_topic, 'sourcePartition', t.source_partition, 'sourceOffset', t.source_offset),
            jsonb_build_object('customerId', s.customer_id, 'terminalId', s.terminal_id,
              'amount', s.amount, 'eventTime', s.event_time, 'channel', s.channel)
     FROM transactions_stage s JOIN transactions t USING (transaction_id)
     WHERE (t.source_topic, t.source_partition, t.source_offset)
             IS DISTINCT FROM (s.source_topic, s.source_partition, s.source_offset)
       AND (t.customer_id, t.terminal_id, t.amount, t.event_time, t.channel)
             IS DISTINCT FROM (s.customer_id, s.terminal_id, s.amount, s.event_time, s.channel)
     ON CONFLICT DO NOTHING`,
  );
  return result.rowCount ?? 0;
}

/**
 * The labels of a batch in the order they apply: per transaction id by report time, then by
 * source offset. Round k holds the k-th label of every id, so one statement per round applies
 * them as if one at a time (a batch rarely holds two labels of one transaction).
 */
function labelRounds(rows: readonly LabelRecord[]): LabelRecord[][] {
  const byId = new Map<string, LabelRecord[]>();
  for (const row of rows) {
    const list = byId.get(row.transactionId);
    if (list === undefined) byId.set(row.transactionId, [row]);
    else list.push(row);
  }
  const rounds: LabelRecord[][] = [];
  for (const list of byId.values()) {
    if (list.length > 1) {
      list.sort(
        (a, b) =>
          Date.parse(a.reportedAt) - Date.parse(b.reportedAt) ||
          Number(a.sourceOffset) - Number(b.sourceOffset),
      );
    }
    list.forEach((row, round) => {
      (rounds[round] ??= []).push(row);
    });
  }
  return rounds;
}

async function insertLabels(
  client: PoolClient,
  batchId: string,
  rows: readonly LabelRecord[],
): Promise<{ inserted: number; corrected: number }> {
  let inserted = 0;
  let corrected = 0;
  for (const round of labelRounds(rows)) {
    // A label for a new id is inserted. One for a known id is a correction only when its verdict
    // differs and it was reported later than the verdict in hand: so a redelivery, or a replay of
    // older labels after a restart, changes nothing.
    const { rows: counts } = await client.query<{ inserted: string; corrected: string }>(
      `WITH applied AS (
         INSERT INTO labels AS l (transaction_id, is_fraud, reported_at, batch_id, source_topic, source_partition, source_offset)
         SELECT id, fraud, reported, $7, topic, part, off
         FROM unnest($1::text[], $2::boolean[], $3::timestamptz[], $4::text[], $5::int[], $6::bigint[])
           AS i(id, fraud, reported, topic, part, off)
         ON CONFLICT (transaction_id) DO UPDATE
           SET is_fraud = EXCLUDED.is_fraud, reported_at = EXCLUDED.reported_at,
               batch_id = EXCLUDED.batch_id, source_topic = EXCLUDED.source_topic,
               source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset,
               revision = l.revision + 1, revised_at = now()
           WHERE l.is_fraud <> EXCLUDED.is_fraud AND EXCLUDED.reported_at > l.reported_at
         RETURNING l.*
       ), recorded AS (
         INSERT INTO label_corrections (transaction_id, revision, is_fraud, reported_at, batch_id,
           source_topic, source_partition, source_offset)
         SELECT transaction_id, revision, is_fraud, reported_at, batch_id, source_topic,
                source_partition, source_offset
         FROM applied WHERE revision > 1
       )
       SELECT count(*) FILTER (WHERE revision = 1) AS inserted,
              count(*) FILTER (WHERE revision > 1) AS corrected
       FROM applied`,
      [
        round.map((row) => row.transactionId),
        round.map((row) => row.isFraud),
        round.map((row) => row.reportedAt),
        round.map((row) => row.sourceTopic),
        round.map((row) => row.sourcePartition),
        round.map((row) => row.sourceOffset),
        batchId,
      ],
    );
    inserted += Number(counts[0]?.inserted ?? 0);
    corrected += Number(counts[0]?.corrected ?? 0);
  }
  return { inserted, corrected };
}

/** A row of an arrival batch that the warehouse refused, with PostgreSQL's reason. */
export interface RejectedRow {
  kind: 'transaction' | 'label';
  /** Its position in the batch's `transactions` or `labels`. */
  index: number;
  reason: string;
}

/**
 * True for an error caused by the data of a row (SQLSTATE class 22, data exception, e.g. a date
 * out of range; class 23, integrity violation), as opposed to a connection or server failure:
 * retrying the same rows cannot succeed, finding and dead-lettering the row can.
 */
export function isRowDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/**
 * Finds the rows of a batch that the warehouse refuses, by bisection inside savepoints that are
 * all rolled back: nothing is written. Run it in a transaction of its own after a write failed
 * with {@link isRowDataError}; its cost (about two writes of the batch) is paid only then.
 */
export async function probeRejectedRows(
  client: PoolClient,
  input: ArrivalBatchInput,
): Promise<RejectedRow[]> {
  const rejected: RejectedRow[] = [];
  const attempt = async (write: () => Promise<unknown>): Promise<string | null> => {
    await client.query('SAVEPOINT probe');
    try {
      await write();
      return null;
    } catch (error) {
      if (!isRowDataError(error)) throw error;
      return (error as Error).message;
    } finally {
      await client.query('ROLLBACK TO SAVEPOINT probe');
    }
  };
  const bisect = async (
    kind: RejectedRow['kind'],
    indexes: readonly number[],
    write: (indexes: readonly number[]) => Promise<unknown>,
  ): Promise<void> => {
    if (indexes.length === 0) return;
    const reason = await attempt(() => write(indexes));
    if (reason === null) return;
    if (indexes.length === 1) {
      rejected.push({ kind, index: indexes[0] as number, reason });
      return;
    }
    const middle = Math.ceil(indexes.length / 2);
    await bisect(kind, indexes.slice(0, middle), write);
    await bisect(kind, indexes.slice(middle), write);
  };
  await bisect(
    'transaction',
    input.transactions.map((_, index) => index),
    (indexes) =>
      insertTransactions(
        client,
        input.batchId,
        indexes.map((index) => input.transactions[index] as TransactionRecord),
      ),
  );
  await bisect(
    'label',
    input.labels.map((_, index) => index),
    (indexes) =>
      insertLabels(
        client,
        input.batchId,
        indexes.map((index) => input.labels[index] as LabelRecord),
      ),
  );
  return rejected;
}

/** A label revised by a later, opposite verdict. */
export interface LabelCorrection {
  transactionId: string;
  isFraud: boolean;
  reportedAt: Date;
  /** 2 for the first correction, and so on. */
  revision: number;
  batchId: string;
}

/**
 * The label corrections that arrived in the given ingest batches, for the pipeline to re-label
 * the examples they concern (`labels` already holds the revised verdict under the same batch).
 */
export async function labelCorrectionsIn(
  queryable: Pick<PoolClient, 'query'>,
  batchIds: readonly string[],
): Promise<LabelCorrection[]> {
  const { rows } = await queryable.query<{
    transaction_id: string;
    is_fraud: boolean;
    reported_at: Date;
    revision: number;
    batch_id: string;
  }>(
    `SELECT transaction_id, is_fraud, reported_at, revision, batch_id FROM label_corrections
     WHERE batch_id = ANY($1::text[]) ORDER BY transaction_id, revision`,
    [batchIds],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    isFraud: row.is_fraud,
    reportedAt: row.reported_at,
    revision: row.revision,
    batchId: row.batch_id,
  }));
}

/**
 * Writes one arrival batch inside the caller's transaction: transactions and labels idempotently
 * (by transaction id; a different version of a stored id is recorded as a conflict, a later
 * opposite label as a correction), and, when anything was new, the
 * batch record and its `batch.arrived` event in the outbox. Commit, then commit Kafka offsets.
 */
export async function writeArrivalBatch(
  client: PoolClient,
  input: ArrivalBatchInput,
  now: Date = new Date(),
): Promise<ArrivalBatchResult> {
  const transactions = await insertTransactions(client, input.batchId, input.transactions);
  const labels = await insertLabels(client, input.batchId, input.labels);
  const insertedLabels = labels.inserted;
  const newLabels = labels.inserted + labels.corrected;
  if (transactions.count === 0 && newLabels === 0) {
    return {
      insertedTransactions: 0,
      insertedLabels: 0,
      correctedLabels: 0,
      conflicts: transactions.conflicts,
      event: null,
    };
  }
  const event: BatchArrived = {
    schemaVersion: 1,
    type: 'batch.arrived',
    batchId: input.batchId,
    transactionCount: transactions.count,
    labelCount: newLabels,
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
      newLabels,
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
  return {
    insertedTransactions: transactions.count,
    insertedLabels,
    correctedLabels: labels.corrected,
    conflicts: transactions.conflicts,
    event,
  };
}
