import {
  inTransaction,
  isRowDataError,
  probeRejectedRows,
  writeArrivalBatch,
} from '@streamtrain/warehouse';
import type { ArrivalBatchResult, Pool } from '@streamtrain/warehouse';
import { withoutRejectedRows } from '../domain/arrival-batch';
import type { ClassifiedBatch, DeadLetter, SourceMessage } from '../domain/arrival-batch';

/** What one batch write did: the warehouse's result and the rows it refused, as dead letters. */
export interface BatchWrite {
  result: ArrivalBatchResult;
  /** Send these to the dead-letter topic before committing the batch's offsets. */
  rejected: DeadLetter[];
}

/**
 * Writes a classified batch in one transaction. When PostgreSQL refuses a row for its data (a
 * value validation let through), the refused rows are found by a probe that writes nothing,
 * taken out as dead letters with the warehouse's reason, and the rest is written: one bad row
 * never blocks a partition. A connection or server failure is thrown for the caller to retry.
 */
export async function writeBatchRejectingBadRows(
  pool: Pool,
  batch: ClassifiedBatch,
  messages: readonly SourceMessage[],
  options: { nowMs: number; service: string },
): Promise<BatchWrite> {
  try {
    const result = await inTransaction(pool, (client) => writeArrivalBatch(client, batch));
    return { result, rejected: [] };
  } catch (error) {
    if (!isRowDataError(error)) throw error;
  }
  const rejectedRows = await inTransaction(pool, (client) => probeRejectedRows(client, batch));
  const { batch: rest, deadLetters } = withoutRejectedRows(batch, rejectedRows, messages, options);
  const result = await inTransaction(pool, (client) => writeArrivalBatch(client, rest));
  return { result, rejected: deadLetters };
}
