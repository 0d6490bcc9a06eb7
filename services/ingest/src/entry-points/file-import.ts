import { createHash } from 'node:crypto';
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
import type { Pool } from '@streamtrain/warehouse';
import { classifyMessages } from '../domain/arrival-batch';
import type { SourceMessage } from '../domain/arrival-batch';
import { sendDeadLetters } from '../adapters/dead-letter-sink';
import { writeBatchRejectingBadRows } from '../adapters/batch-writer';

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

const digest = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * The source name of a file: its base name and a digest of its absolute path, so files of the same
 * name in different folders are different sources (their batch ids and row positions do not
 * collide), and the same file imported again is the same source.
 */
export function fileSourceName(file: string): string {
  return `file:${path.basename(file)}#${digest(path.resolve(file))}`;
}

/**
 * The "other data stores" path: imports a JSONL or CSV file of transactions or labels through the
 * same validation and the same idempotent warehouse write as the Kafka path. Each line is a
 * message whose source is `file:<name>#<path digest>` ({@link fileSourceName}), partition 0, offset = line number, so bad lines are
 * dead-lettered with their position, batches are announced through the outbox, and importing the
 * same file again changes nothing.
 */
export async function importFile(options: FileImportOptions): Promise<FileImportSummary> {
  const source = fileSourceName(options.file);
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
  let headerNames: string[] = [];
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
      // A field outside the record's columns (an extra header column, or more fields than the
      // header names) is kept under its name, so the strict schema refuses the line exactly as
      // it refuses the same JSON with an extra key (issue 13).
      const record = codec.fromFields(byName) as Record<string, unknown>;
      fields.forEach((value, position) => {
        const name = headerNames[position] ?? `column ${position + 1}`;
        if (!codec.columns.includes(name)) record[name] = value;
      });
      return Buffer.from(JSON.stringify(record));
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
    // The lines' digest in the batch id: a file rewritten in place is new data, not a batch
    // already written, so its batch id does not collide with the earlier import's.
    classified.batchId = `${classified.batchId}~${digest(pending.map((message) => message.value?.toString('utf8') ?? '').join('\n'))}`;
    await sendDeadLetters(
      options.deadLetterProducer,
      options.deadLetterTopic,
      classified.deadLetters,
    );
    const { result, rejected } = await writeBatchRejectingBadRows(
      options.pool,
      classified,
      pending,
      { nowMs: now(), service: 'ingest-import' },
    );
    await sendDeadLetters(options.deadLetterProducer, options.deadLetterTopic, rejected);
    const valid = classified.transactions.length + classified.labels.length - rejected.length;
    const landed = result.insertedTransactions + result.insertedLabels + result.correctedLabels;
    summary.landed += landed;
    summary.duplicates += valid - landed;
    summary.deadLettered += classified.deadLetters.length + rejected.length;
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
      headerNames = parseCsvRow(line).map((name) => name.trim());
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
