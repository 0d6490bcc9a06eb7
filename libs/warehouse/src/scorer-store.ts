import type { Pool, PoolClient } from 'pg';
import type { StoredLabel } from './pipeline-store';

type Queryable = Pool | PoolClient;

/** A transaction as the scorer's online feature state holds it. */
export interface RecentTransaction {
  transactionId: string;
  customerId: string;
  terminalId: string;
  amount: number;
  eventTimeMs: number;
}

/** The latest transaction event time in the warehouse, or null when it holds none. */
export async function readNewestEventTime(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ newest: Date | null }>(
    'SELECT max(event_time) AS newest FROM transactions',
  );
  return rows[0]?.newest?.getTime() ?? null;
}

/**
 * Every transaction with event time at or after `fromMs`: what the scorer warms its per-card and
 * per-terminal history from. Read-only on ingest's table.
 */
export async function readTransactionsSince(
  db: Queryable,
  fromMs: number,
): Promise<RecentTransaction[]> {
  const { rows } = await db.query<{
    transaction_id: string;
    customer_id: string;
    terminal_id: string;
    amount: number;
    event_time: Date;
  }>(
    `SELECT transaction_id, customer_id, terminal_id, amount, event_time FROM transactions
     WHERE event_time >= $1`,
    [new Date(fromMs)],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    customerId: row.customer_id,
    terminalId: row.terminal_id,
    amount: row.amount,
    eventTimeMs: row.event_time.getTime(),
  }));
}

/**
 * Every label (fraud or not) reported at or after `fromMs`. A label is reported after its
 * transaction, so this covers the labels of every transaction from `fromMs` on.
 */
export async function readLabelsReportedSince(
  db: Queryable,
  fromMs: number,
): Promise<StoredLabel[]> {
  const { rows } = await db.query<{ transaction_id: string; is_fraud: boolean; reported_at: Date }>(
    `SELECT transaction_id, is_fraud, reported_at FROM labels WHERE reported_at >= $1`,
    [new Date(fromMs)],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    isFraud: row.is_fraud,
    reportedAtMs: row.reported_at.getTime(),
  }));
}
