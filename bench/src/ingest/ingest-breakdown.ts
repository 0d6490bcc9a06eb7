import { decodeTransaction } from '@streamtrain/contracts';
import type { Transaction } from '@streamtrain/contracts';
import { inTransaction, writeArrivalBatch } from '@streamtrain/warehouse';
import type { Pool, TransactionRecord } from '@streamtrain/warehouse';

/** In-process rate of one step of the ingest path. */
export interface StepRate {
  readonly items: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Microseconds per item. */
  readonly microsEach: number;
}

function rate(items: number, seconds: number): StepRate {
  return { items, seconds, perSecond: items / seconds, microsEach: (seconds * 1e6) / items };
}

/**
 * Validation alone: `decodeTransaction` (size check, `JSON.parse`, the zod contract) on message
 * bytes, one thread, no I/O: what ingest's classify step costs per message.
 */
export function measureDecode(transactions: Iterable<Transaction>): StepRate {
  const buffers: Buffer[] = [];
  for (const tx of transactions) buffers.push(Buffer.from(JSON.stringify(tx)));
  // Warm-up: let V8 optimise the zod parsers before timing.
  for (const buffer of buffers.slice(0, 5_000)) decodeTransaction(buffer);
  const started = performance.now();
  let bad = 0;
  for (const buffer of buffers) if (!decodeTransaction(buffer).ok) bad += 1;
  const seconds = (performance.now() - started) / 1000;
  if (bad > 0) throw new Error(`${bad} simulated transactions did not decode`);
  return rate(buffers.length, seconds);
}

/** Only `JSON.parse` of the same bytes, for scale. */
export function measureJsonParse(transactions: Iterable<Transaction>): StepRate {
  const buffers: Buffer[] = [];
  for (const tx of transactions) buffers.push(Buffer.from(JSON.stringify(tx)));
  const started = performance.now();
  let count = 0;
  for (const buffer of buffers) {
    if ((JSON.parse(buffer.toString('utf8')) as { amount?: unknown }).amount !== undefined) {
      count += 1;
    }
  }
  return rate(count, (performance.now() - started) / 1000);
}

/** Record building, two ways: what one message's warehouse record costs in JavaScript. */
export interface RecordBuilding {
  /** `{ ...source, transactionId, … }`: how services/ingest/src/domain/arrival-batch.ts builds them. */
  readonly spread: StepRate;
  /** The same fields written out in one object literal. */
  readonly literal: StepRate;
}

/**
 * Builds one warehouse record per decoded transaction, first as ingest's `classifyMessages` does
 * (the source fields spread into the record literal), then with every field written out. The
 * profile shows `classifyMessages` itself among the busiest frames; this isolates why.
 */
export function measureRecordBuilding(transactions: Iterable<Transaction>): RecordBuilding {
  const decoded = [...transactions];
  const topic = 'bench.tx';
  const spread = (): number => {
    const started = performance.now();
    const records: TransactionRecord[] = [];
    decoded.forEach((tx, index) => {
      const source = { sourceTopic: topic, sourcePartition: 0, sourceOffset: String(index) };
      records.push({
        ...source,
        transactionId: tx.transactionId,
        customerId: tx.customerId,
        terminalId: tx.terminalId,
        amount: tx.amount,
        eventTime: tx.eventTime,
        channel: tx.channel,
      });
    });
    return (performance.now() - started) / 1000;
  };
  const literal = (): number => {
    const started = performance.now();
    const records: TransactionRecord[] = [];
    decoded.forEach((tx, index) => {
      records.push({
        sourceTopic: topic,
        sourcePartition: 0,
        sourceOffset: String(index),
        transactionId: tx.transactionId,
        customerId: tx.customerId,
        terminalId: tx.terminalId,
        amount: tx.amount,
        eventTime: tx.eventTime,
        channel: tx.channel,
      });
    });
    return (performance.now() - started) / 1000;
  };
  // Alternating rounds, best of three each: the machine is shared.
  const spreadSeconds: number[] = [];
  const literalSeconds: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    spreadSeconds.push(spread());
    literalSeconds.push(literal());
  }
  return {
    spread: rate(decoded.length, Math.min(...spreadSeconds)),
    literal: rate(decoded.length, Math.min(...literalSeconds)),
  };
}

/**
 * The warehouse write alone: `writeArrivalBatch` (staging COPY, deduplicating INSERT … SELECT,
 * batch record, outbox row) in one transaction per batch, batches one after another on one
 * connection: what ingest's write step costs per transaction, without validation or Kafka.
 */
export async function measureWarehouseWrite(
  pool: Pool,
  transactions: Iterable<Transaction>,
  batchSize: number,
  topic: string,
): Promise<StepRate> {
  const batches: TransactionRecord[][] = [];
  let current: TransactionRecord[] = [];
  let offset = 0;
  for (const tx of transactions) {
    current.push({
      transactionId: tx.transactionId,
      customerId: tx.customerId,
      terminalId: tx.terminalId,
      amount: tx.amount,
      eventTime: tx.eventTime,
      channel: tx.channel,
      sourceTopic: topic,
      sourcePartition: 0,
      sourceOffset: String(offset),
    });
    offset += 1;
    if (current.length >= batchSize) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);
  const started = performance.now();
  for (const batch of batches) {
    const first = batch[0] as TransactionRecord;
    const last = batch[batch.length - 1] as TransactionRecord;
    await inTransaction(pool, (client) =>
      writeArrivalBatch(client, {
        batchId: `${topic}:0:${first.sourceOffset}-${last.sourceOffset}`,
        transactions: batch,
        labels: [],
        offsets: [
          {
            topic,
            partition: 0,
            firstOffset: first.sourceOffset,
            lastOffset: last.sourceOffset,
          },
        ],
      }),
    );
  }
  return rate(offset, (performance.now() - started) / 1000);
}
