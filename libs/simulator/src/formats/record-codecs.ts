import { FraudLabelV1, TransactionV1 } from '@streamtrain/contracts';
import type { FraudLabel, Transaction } from '@streamtrain/contracts';
import type { z } from 'zod';
import { formatCsvRow } from './csv';
import { GroundTruthV1 } from '../events';
import type { GroundTruth } from '../events';

/** The file formats the simulator writes and reads. */
export const FILE_FORMATS = ['jsonl', 'csv'] as const;
/** A file format: JSON Lines, or CSV with a header row. */
export type FileFormat = (typeof FILE_FORMATS)[number];

/**
 * How one kind of record maps to CSV columns and back; the schema validates what is read, in
 * either format.
 */
export interface RecordCodec<T> {
  /** What the records are, for error messages. */
  readonly kind: string;
  /** Validates a record read from a file. */
  readonly schema: z.ZodType<T>;
  /** CSV header, in column order. */
  readonly columns: readonly string[];
  /** The CSV fields of a record, in column order. */
  toFields(record: T): string[];
  /** A candidate record from CSV fields by column name; the schema then validates it. */
  fromFields(fields: Readonly<Record<string, string>>): unknown;
}

/** A number from a CSV field; an empty field is NaN (not 0, as `Number('')` would say). */
function csvNumber(field: string | undefined): number {
  return field === undefined || field.trim() === '' ? Number.NaN : Number(field);
}

/** A boolean from a CSV field; anything but `true`/`false` is left as text for the schema to refuse. */
function csvBoolean(field: string | undefined): boolean | string | undefined {
  if (field === 'true') return true;
  if (field === 'false') return false;
  return field;
}

/** Transactions: the fields of `TransactionV1`, in its order. */
export const transactionCodec: RecordCodec<Transaction> = {
  kind: 'transaction',
  schema: TransactionV1,
  columns: [
    'schemaVersion',
    'transactionId',
    'customerId',
    'terminalId',
    'amount',
    'eventTime',
    'channel',
  ],
  toFields: (tx) => [
    String(tx.schemaVersion),
    tx.transactionId,
    tx.customerId,
    tx.terminalId,
    String(tx.amount),
    tx.eventTime,
    tx.channel,
  ],
  fromFields: (fields) => ({
    schemaVersion: csvNumber(fields.schemaVersion),
    transactionId: fields.transactionId,
    customerId: fields.customerId,
    terminalId: fields.terminalId,
    amount: csvNumber(fields.amount),
    eventTime: fields.eventTime,
    channel: fields.channel,
  }),
};

/** Fraud labels: the fields of `FraudLabelV1`, in its order. */
export const labelCodec: RecordCodec<FraudLabel> = {
  kind: 'label',
  schema: FraudLabelV1,
  columns: ['schemaVersion', 'transactionId', 'isFraud', 'reportedAt'],
  toFields: (label) => [
    String(label.schemaVersion),
    label.transactionId,
    String(label.isFraud),
    label.reportedAt,
  ],
  fromFields: (fields) => ({
    schemaVersion: csvNumber(fields.schemaVersion),
    transactionId: fields.transactionId,
    isFraud: csvBoolean(fields.isFraud),
    reportedAt: fields.reportedAt,
  }),
};

/** Ground truth: transaction id, whether it is fraud, and the scenario. */
export const groundTruthCodec: RecordCodec<GroundTruth> = {
  kind: 'ground truth',
  schema: GroundTruthV1,
  columns: ['transactionId', 'isFraud', 'scenario'],
  toFields: (truth) => [truth.transactionId, String(truth.isFraud), String(truth.scenario)],
  fromFields: (fields) => ({
    transactionId: fields.transactionId,
    isFraud: csvBoolean(fields.isFraud),
    scenario: csvNumber(fields.scenario),
  }),
};

/** One line of a record in `format`, without its line ending. */
export function encodeRecord<T>(codec: RecordCodec<T>, format: FileFormat, record: T): string {
  return format === 'jsonl' ? JSON.stringify(record) : formatCsvRow(codec.toFields(record));
}
