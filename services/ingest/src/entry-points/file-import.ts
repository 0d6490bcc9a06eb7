import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { KafkaProducer } from '@streamtrain/kafka';
import type { Logger } from '@streamtrain/observability';
import {
  csvColumnPositions,
  labelCodec,
  parseCsvRow,
  transactionCodec,
} from '@streamtrain/simulator';
import type { RecordCodec } from '@streamtrain/simulator';
import { inTransaction, writeArrivalBatch } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { classifyMessages } from '../domain/arrival-batch';
import type { SourceMessage } from '../domain/arrival-batch';
import { sendDeadLetters } from '../adapters/dead-letter-sink';

/** Options of {@link importFile}. */
export interface FileImportOptions {
  file: string;
  kind: 'transactions' | 'labels';
  format: 'jsonl' | 'csv';
  pool: Pool;
  deadLetterProducer: KafkaProducer;
  deadLetterTopic: string;
  /** Lines per warehouse transaction. @default 5000 */
  batchSize?: number;
  maxFutureSkewMs: number;
  logger: Logger;
  onProgress?: (progress: FileImportSummary) => void;
  now?: () => number;
}

/** What an import did. */
export interface FileImportSummary {
  lines: number;
  landed: number;
  duplicates: number;
  deadLettered: number;
  batches: number;
}

/**
 * The "other data stores" path: imports a JSONL or CSV file of transactions or labels through the
 * same validation and the same idempotent warehouse write as the Kafka path. Each line is a
 * message whose source is `file:<name>`, partition 0, offset = line number, so bad lines are
 * dead-lettered with their position, batches are announced through the outbox, and importing the
 * same file again changes nothing.
 */
export async function importFile(options: FileImportOptions): Promise<FileImportSummary> {
  const source = `file:${path.basename(options.file)}`;
  const codec: RecordCodec<unknown> =
    options.kind === 'transactions' ? transactionCodec : labelCodec;
  const summary: FileImportSummary = {
    lines: 0,
    landed: 0,
    duplicates: 0,
    deadLettered: 0,
    batches: 0,
  };
  const batchSize = options.batchSize ?? 5_000;
  const now = options.now ?? Date.now;
  let positions: Map<string, number> | undefined;
  let pending: SourceMessage[] = [];

  const toBytes = (line: string): Buffer => {
    if (options.format === 'jsonl') return Buffer.from(line);
    try {
      const fields = parseCsvRow(line);
      const byName: Record<string, string> = {};
      for (const column of codec.columns) {
        const value = fields[positions?.get(column) ?? -1];
        if (value !== undefined) byName[column] = value;
      }
      return Buffer.from(JSON.stringify(codec.fromFields(byName)));
    } catch {
      return Buffer.from(line); // unparseable CSV: dead-lettered as invalid JSON, with its bytes
    }
  };

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const classified = classifyMessages(pending, {
      labelsTopic: options.kind === 'labels' ? source : '',
      maxFutureSkewMs: options.maxFutureSkewMs,
      nowMs: now(),
      service: 'ingest-import',
    });
    await sendDeadLetters(
      options.deadLetterProducer,
      options.deadLetterTopic,
      classified.deadLetters,
    );
    const result = await inTransaction(options.pool, (client) =>
      writeArrivalBatch(client, classified),
    );
    const valid = classified.transactions.length + classified.labels.length;
    const landed = result.insertedTransactions + result.insertedLabels;
    summary.landed += landed;
    summary.duplicates += valid - landed;
    summary.deadLettered += classified.deadLetters.length;
    if (result.event !== null) summary.batches += 1;
    pending = [];
    options.onProgress?.({ ...summary });
  };

  const lines = createInterface({ input: createReadStream(options.file), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    if (options.format === 'csv' && positions === undefined) {
      positions = csvColumnPositions(codec, line);
      continue;
    }
    summary.lines += 1;
    pending.push({
      topic: source,
      partition: 0,
      offset: String(lineNumber),
      key: null,
      value: toBytes(line),
    });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  options.logger.info({ file: options.file, ...summary }, 'file imported');
  return summary;
}
