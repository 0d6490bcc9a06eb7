import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StreamtrainError } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import type { Logger } from '@streamtrain/observability';
import {
  csvCandidate,
  csvColumnPositions,
  csvFieldCountProblem,
  labelCodec,
  readCsvRows,
  transactionCodec,
} from '@streamtrain/simulator';
import type { RecordCodec } from '@streamtrain/simulator';
import { sendImportDeadLettersOnce } from '@streamtrain/warehouse';
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
  /** Rows new to the warehouse, label corrections included. */
  landed: number;
  /** Rows stored before with the same content (an earlier import, a repeated line). */
  duplicates: number;
  /** Rows whose id was stored before with other content: recorded in `transaction_conflicts`, the first version kept. */
  conflicts: number;
  /** Labels that revised the verdict in hand (a reversed chargeback): recorded in `label_corrections`. */
  corrected: number;
  /** Bad lines sent to the dead-letter topic by this import. */
  deadLettered: number;
  /** Bad lines an earlier import of the same file already sent (unchanged), not sent again. */
  alreadyDeadLettered: number;
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
 * same file again changes nothing: no row lands twice and no bad line is dead-lettered twice.
 */
export async function importFile(options: FileImportOptions): Promise<FileImportSummary> {
  const source = fileSourceName(options.file);
  const codec: RecordCodec<unknown> =
    options.kind === 'transactions' ? transactionCodec : labelCodec;
  const summary: FileImportSummary = {
    lines: 0,
    landed: 0,
    duplicates: 0,
    conflicts: 0,
    corrected: 0,
    deadLettered: 0,
    alreadyDeadLettered: 0,
    batches: 0,
  };
  const batchSize = options.batchSize ?? 5_000;
  const now = options.now ?? Date.now;
  let pending: SourceMessage[] = [];

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
    const { result, rejected } = await writeBatchRejectingBadRows(
      options.pool,
      classified,
      pending,
      { nowMs: now(), service: 'ingest-import' },
    );
    // Each bad line once: one already sent by an earlier import of this file is not sent again.
    const letters = [...classified.deadLetters, ...rejected];
    const sent = await sendImportDeadLettersOnce(
      options.pool,
      letters.map((letter) => ({
        source,
        line: Number(letter.reason.sourceOffset),
        valueDigest: digest(letter.value?.toString('utf8') ?? ''),
        code: letter.reason.code,
      })),
      (fresh) =>
        sendDeadLetters(
          options.deadLetterProducer,
          options.deadLetterTopic,
          fresh.map((position) => letters[position] as (typeof letters)[number]),
        ),
    );
    const valid = classified.transactions.length + classified.labels.length - rejected.length;
    const landed = result.insertedTransactions + result.insertedLabels + result.correctedLabels;
    summary.landed += landed;
    summary.duplicates += valid - landed - result.conflicts;
    summary.conflicts += result.conflicts;
    summary.corrected += result.correctedLabels;
    if (result.conflicts > 0) {
      options.logger.warn(
        { file: options.file, batchId: classified.batchId, conflicts: result.conflicts },
        'transaction ids seen before with other content; first version kept, conflicts recorded',
      );
    }
    summary.deadLettered += sent.length;
    summary.alreadyDeadLettered += letters.length - sent.length;
    if (result.event !== null) summary.batches += 1;
    pending = [];
    options.onProgress?.({ ...summary });
  };

  const messages =
    options.format === 'csv'
      ? csvMessages(options.file, codec, source)
      : jsonlMessages(options.file, source);
  for await (const message of messages) {
    summary.lines += 1;
    pending.push(message);
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  options.logger.info({ file: options.file, ...summary }, 'file imported');
  return summary;
}

/** Each non-blank line of a JSONL file as a message at offset = line number. */
async function* jsonlMessages(file: string, source: string): AsyncGenerator<SourceMessage> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    yield {
      topic: source,
      partition: 0,
      offset: String(lineNumber),
      key: null,
      value: Buffer.from(line),
    };
  }
}

/**
 * Each CSV record after the header as a message at offset = its first line: valid rows as the JSON
 * the codec makes of them; a row that does not parse, or has more or fewer fields than the header,
 * as its original text with a reason saying what is wrong.
 */
async function* csvMessages(
  file: string,
  codec: RecordCodec<unknown>,
  source: string,
): AsyncGenerator<SourceMessage> {
  let positions: Map<string, number> | undefined;
  let headerWidth = 0;
  for await (const row of readCsvRows(createReadStream(file))) {
    if (positions === undefined) {
      if (row.fields === undefined) {
        throw new StreamtrainError(
          'CONTRACT_SCHEMA_MISMATCH',
          `${file}:${row.line}: the CSV header does not parse: ${row.problem ?? 'no fields'}`,
        );
      }
      positions = csvColumnPositions(codec, row.fields);
      headerWidth = row.fields.length;
      continue;
    }
    const base = { topic: source, partition: 0, offset: String(row.line), key: null };
    const problem =
      row.fields === undefined
        ? `CSV row does not parse: ${row.problem ?? 'no fields'}`
        : csvFieldCountProblem(codec, positions, headerWidth, row.fields);
    if (problem !== undefined || row.fields === undefined) {
      yield {
        ...base,
        value: Buffer.from(row.raw),
        refusal: {
          code: 'CONTRACT_SCHEMA_MISMATCH',
          reason: `${codec.kind}: line ${row.line}: ${problem ?? 'no fields'}`,
        },
      };
    } else {
      yield {
        ...base,
        value: Buffer.from(JSON.stringify(csvCandidate(codec, positions, row.fields))),
      };
    }
  }
}
