import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Transaction } from '@streamtrain/contracts';
import type { Pool } from '@streamtrain/warehouse';

/** COPY text of the transactions, in chunks of `chunk` lines, columns as `transactions` has them. */
export function copyTextChunks(
  transactions: Iterable<Transaction>,
  topic: string,
  chunk = 2_000,
): string[] {
  const chunks: string[] = [];
  let text = '';
  let lines = 0;
  let index = 0;
  for (const tx of transactions) {
    // Simulator ids, times and channels hold no tab, newline or backslash: no escaping needed.
    text += `${tx.transactionId}\t${tx.customerId}\t${tx.terminalId}\t${tx.amount}\t${tx.eventTime}\t${tx.channel}\tbench-copy\t${topic}\t${index % 4}\t${Math.floor(index / 4)}\n`;
    index += 1;
    lines += 1;
    if (lines >= chunk) {
      chunks.push(text);
      text = '';
      lines = 0;
    }
  }
  if (text !== '') chunks.push(text);
  return chunks;
}

/** What one COPY measured. */
export interface CopyResult {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

/**
 * `COPY <table> FROM STDIN` of the prepared text over one connection, into a fresh table shaped
 * like `transactions` (`LIKE transactions INCLUDING ALL`: the same primary key and indexes when
 * `indexed`, a bare heap otherwise). Nothing else: no staging, no deduplication, no outbox.
 */
export async function bareCopy(
  pool: Pool,
  table: string,
  chunks: readonly string[],
  rows: number,
  indexed: boolean,
): Promise<CopyResult> {
  await pool.query(
    `CREATE TABLE ${table} (LIKE transactions INCLUDING ${indexed ? 'ALL' : 'DEFAULTS'})`,
  );
  const client = await pool.connect();
  try {
    const started = performance.now();
    const copy = client.query(
      copyFrom(
        `COPY ${table} (transaction_id, customer_id, terminal_id, amount, event_time, channel,
          batch_id, source_topic, source_partition, source_offset) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(chunks), copy);
    const seconds = (performance.now() - started) / 1000;
    const { rows: counted } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table}`,
    );
    if (Number(counted[0]?.n) !== rows) {
      throw new Error(`COPY landed ${counted[0]?.n} rows of ${rows}`);
    }
    return { rows, seconds, rowsPerSecond: rows / seconds };
  } finally {
    client.release();
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
