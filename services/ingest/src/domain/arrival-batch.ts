import { decodeFraudLabel, decodeTransaction } from '@streamtrain/contracts';
import type { DeadLetterReason, OffsetRange } from '@streamtrain/contracts';
import type { LabelRecord, RejectedRow, TransactionRecord } from '@streamtrain/warehouse';

/** A message as ingest sees it: bytes and where they came from. */
export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /**
   * Set when the message was refused before it could be decoded (e.g. a CSV row that does not
   * parse): it is dead-lettered with this code and reason.
   */
  refusal?: { code: string; reason: string };
}

/** A refused message: its original bytes and why. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  reason: DeadLetterReason;
}

/** One partition's messages sorted into what lands and what is dead-lettered. */
export interface ClassifiedBatch {
  batchId: string;
  transactions: TransactionRecord[];
  labels: LabelRecord[];
  deadLetters: DeadLetter[];
  offsets: OffsetRange[];
}

/** Options of {@link classifyMessages}. */
export interface ClassifyOptions {
  labelsTopic: string;
  /** Event times later than `nowMs + maxFutureSkewMs` are refused. */
  maxFutureSkewMs: number;
  nowMs: number;
  service: string;
}

/** A batch id that names its source exactly, so lineage can find the offsets again. */
export function batchIdOf(
  topic: string,
  partition: number,
  firstOffset: string,
  lastOffset: string,
): string {
  return `${topic}:${partition}:${firstOffset}-${lastOffset}`;
}

/**
 * Validates a run of consecutive messages of one partition. Never throws: each message either
 * becomes a record to write or a dead letter with a reason.
 */
export function classifyMessages(
  messages: readonly SourceMessage[],
  options: ClassifyOptions,
): ClassifiedBatch {
  const first = messages[0];
  const last = messages[messages.length - 1];
  if (first === undefined || last === undefined) {
    return { batchId: '', transactions: [], labels: [], deadLetters: [], offsets: [] };
  }
  const transactions: TransactionRecord[] = [];
  const labels: LabelRecord[] = [];
  const deadLetters: DeadLetter[] = [];
  const latestAllowedMs = options.nowMs + options.maxFutureSkewMs;
  const failedAt = new Date(options.nowMs).toISOString();
  const refuse = (message: SourceMessage, code: string, reason: string): void => {
    deadLetters.push({
      key: message.key,
      value: message.value,
      reason: {
        code,
        reason,
        sourceTopic: message.topic,
        sourcePartition: message.partition,
        sourceOffset: message.offset,
        failedAt,
        service: options.service,
      },
    });
  };
  for (const message of messages) {
    if (message.refusal !== undefined) {
      refuse(message, message.refusal.code, message.refusal.reason);
      continue;
    }
    if (message.topic === options.labelsTopic) {
      const decoded = decodeFraudLabel(message.value);
      if (!decoded.ok) {
        refuse(message, decoded.code, decoded.reason);
      } else if (Date.parse(decoded.value.reportedAt) > latestAllowedMs) {
        refuse(
          message,
          'INGEST_EVENT_TIME_IN_FUTURE',
          `label: reportedAt ${decoded.value.reportedAt} is in the future`,
        );
      } else {
        // Fields written out, not spread: a spread per message cost more than validating it.
        labels.push({
          sourceTopic: message.topic,
          sourcePartition: message.partition,
          sourceOffset: message.offset,
          transactionId: decoded.value.transactionId,
          isFraud: decoded.value.isFraud,
          reportedAt: decoded.value.reportedAt,
        });
      }
      continue;
    }
    const decoded = decodeTransaction(message.value);
    if (!decoded.ok) {
      refuse(message, decoded.code, decoded.reason);
    } else if (Date.parse(decoded.value.eventTime) > latestAllowedMs) {
      refuse(
        message,
        'INGEST_EVENT_TIME_IN_FUTURE',
        `transaction: eventTime ${decoded.value.eventTime} is in the future`,
      );
    } else {
      const tx = decoded.value;
      transactions.push({
        sourceTopic: message.topic,
        sourcePartition: message.partition,
        sourceOffset: message.offset,
        transactionId: tx.transactionId,
        customerId: tx.customerId,
        terminalId: tx.terminalId,
        amount: tx.amount,
        eventTime: tx.eventTime,
        channel: tx.channel,
      });
    }
  }
  return {
    batchId: batchIdOf(first.topic, first.partition, first.offset, last.offset),
    transactions,
    labels,
    deadLetters,
    offsets: [
      {
        topic: first.topic,
        partition: first.partition,
        firstOffset: first.offset,
        lastOffset: last.offset,
      },
    ],
  };
}

/**
 * Takes the rows the warehouse refused out of a batch and turns each into a dead letter with the
 * original bytes of its message and the warehouse's reason (code `INGEST_WRITE_REJECTED`), so the
 * rest of the batch lands and the partition moves on (issue 13).
 */
export function withoutRejectedRows(
  batch: ClassifiedBatch,
  rejected: readonly RejectedRow[],
  messages: readonly SourceMessage[],
  options: { nowMs: number; service: string },
): { batch: ClassifiedBatch; deadLetters: DeadLetter[] } {
  const positionOf = (topic: string, partition: number, offset: string): string =>
    `${topic}\u0000${partition}\u0000${offset}`;
  const byPosition = new Map(
    messages.map((message) => [
      positionOf(message.topic, message.partition, message.offset),
      message,
    ]),
  );
  const refusedTransactions = new Set<number>();
  const refusedLabels = new Set<number>();
  const failedAt = new Date(options.nowMs).toISOString();
  const deadLetters: DeadLetter[] = [];
  for (const row of rejected) {
    const record =
      row.kind === 'transaction' ? batch.transactions[row.index] : batch.labels[row.index];
    if (record === undefined) continue;
    (row.kind === 'transaction' ? refusedTransactions : refusedLabels).add(row.index);
    const message = byPosition.get(
      positionOf(record.sourceTopic, record.sourcePartition, record.sourceOffset),
    );
    deadLetters.push({
      key: message?.key ?? null,
      value: message?.value ?? null,
      reason: {
        code: 'INGEST_WRITE_REJECTED',
        reason: `${row.kind} ${record.transactionId}: the warehouse refused it: ${row.reason}`,
        sourceTopic: record.sourceTopic,
        sourcePartition: record.sourcePartition,
        sourceOffset: record.sourceOffset,
        failedAt,
        service: options.service,
      },
    });
  }
  return {
    batch: {
      ...batch,
      transactions: batch.transactions.filter((_, index) => !refusedTransactions.has(index)),
      labels: batch.labels.filter((_, index) => !refusedLabels.has(index)),
    },
    deadLetters,
  };
}
