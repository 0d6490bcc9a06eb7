import type { z } from 'zod';
import type { ErrorCode } from './errors';
import { FraudLabelV1, TransactionV1 } from './transaction';
import type { FraudLabel, Transaction } from './transaction';

/** Largest message accepted on a transactions or labels topic. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** The outcome of decoding one message: the value, or why it was refused. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; reason: string };

type Versioned<T> = Readonly<Record<number, z.ZodType<T>>>;

/** Every schema version of each message kind that this build understands. */
const TRANSACTION_VERSIONS: Versioned<Transaction> = { 1: TransactionV1 };
const LABEL_VERSIONS: Versioned<FraudLabel> = { 1: FraudLabelV1 };

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function decodeVersioned<T>(
  bytes: Buffer | null,
  versions: Versioned<T>,
  kind: string,
): Decoded<T> {
  if (bytes === null || bytes.length === 0) {
    return { ok: false, code: 'CONTRACT_INVALID_JSON', reason: `${kind}: empty message` };
  }
  if (bytes.length > MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      code: 'CONTRACT_PAYLOAD_TOO_LARGE',
      reason: `${kind}: ${bytes.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return {
      ok: false,
      code: 'CONTRACT_INVALID_JSON',
      reason: `${kind}: not valid JSON (${(error as Error).message})`,
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, code: 'CONTRACT_SCHEMA_MISMATCH', reason: `${kind}: not a JSON object` };
  }
  const version = (json as { schemaVersion?: unknown }).schemaVersion;
  const schema = typeof version === 'number' ? versions[version] : undefined;
  if (schema === undefined) {
    return {
      ok: false,
      code: 'CONTRACT_UNKNOWN_VERSION',
      reason: `${kind}: unknown schemaVersion ${JSON.stringify(version) ?? 'undefined'}; known: ${Object.keys(versions).join(', ')}`,
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      code: 'CONTRACT_SCHEMA_MISMATCH',
      reason: `${kind}: ${formatIssues(parsed.error)}`,
    };
  }
  return { ok: true, value: parsed.data };
}

/** Decodes a `tx.<channel>` message. Never throws: a bad message yields its code and reason. */
export function decodeTransaction(bytes: Buffer | null): Decoded<Transaction> {
  return decodeVersioned(bytes, TRANSACTION_VERSIONS, 'transaction');
}

/** Decodes a `tx.labels` message. Never throws: a bad message yields its code and reason. */
export function decodeFraudLabel(bytes: Buffer | null): Decoded<FraudLabel> {
  return decodeVersioned(bytes, LABEL_VERSIONS, 'label');
}

/**
 * Parses an event received from RabbitMQ against its schema; a mismatch is reported with every
 * problem, for the consumer to dead-letter.
 */
export function decodeEvent<T>(schema: z.ZodType<T>, bytes: Buffer, kind: string): Decoded<T> {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return {
      ok: false,
      code: 'CONTRACT_INVALID_JSON',
      reason: `${kind}: not valid JSON (${(error as Error).message})`,
    };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : {
        ok: false,
        code: 'CONTRACT_SCHEMA_MISMATCH',
        reason: `${kind}: ${formatIssues(parsed.error)}`,
      };
}
