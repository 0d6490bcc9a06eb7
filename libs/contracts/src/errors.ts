/**
 * Stable error codes. A code never changes meaning once released: dashboards, alerts and
 * dead-letter consumers key on it.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONTRACT_INVALID_JSON'
  | 'CONTRACT_SCHEMA_MISMATCH'
  | 'CONTRACT_UNKNOWN_VERSION'
  | 'CONTRACT_PAYLOAD_TOO_LARGE'
  | 'INGEST_EVENT_TIME_IN_FUTURE'
  | 'INGEST_DECODE_FAILED'
  | 'INGEST_WRITE_REJECTED'
  | 'INGEST_DEAD_LETTER_TRUNCATED'
  | 'WAREHOUSE_UNAVAILABLE'
  | 'WAREHOUSE_TLS_FAILED'
  | 'BROKER_UNAVAILABLE'
  | 'KAFKA_AUTH_FAILED'
  | 'KAFKA_TLS_FAILED'
  | 'IMPORT_FILE_UNREADABLE'
  | 'AMQP_TLS_FAILED'
  | 'AMQP_PUBLISH_UNROUTABLE'
  | 'AMQP_PUBLISH_NACKED'
  | 'MODEL_BACKEND_UNAVAILABLE'
  | 'MODEL_ARTIFACT_INVALID'
  | 'PIPELINE_BATCH_NOT_FOUND'
  | 'REGISTRY_OPERATION_REFUSED'
  | 'ORCHESTRATOR_RUN_BUSY'
  | 'ORCHESTRATOR_STEP_FAILED'
  | 'TRAINER_LEASE_LOST'
  | 'SHUTDOWN_TIMEOUT';

/** Options every {@link StreamtrainError} accepts. */
export interface StreamtrainErrorOptions {
  /** Whether trying the same operation again may succeed. @default false */
  retriable?: boolean;
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * The one base error of the project: a stable `code`, whether it is `retriable`, and its `cause`.
 * Subclass only when the subclass carries context of its own.
 */
export class StreamtrainError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: StreamtrainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamtrainError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A message that cannot be accepted: its `code` and `message` are what the dead-letter record says. */
export class InvalidMessageError extends StreamtrainError {
  /** One line per problem, e.g. `amount: Too big: expected number to be <=1000000`. */
  readonly issues: readonly string[];

  constructor(code: ErrorCode, issues: readonly string[], options: StreamtrainErrorOptions = {}) {
    super(code, issues.join('; '), options);
    this.name = 'InvalidMessageError';
    this.issues = issues;
  }
}

// Node's codes for a server certificate that does not verify (node:tls / OpenSSL).
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The TLS verification code (e.g. `SELF_SIGNED_CERT_IN_CHAIN`) when `error`, or one of its
 * causes, says that a server's certificate did not verify; undefined for any other error.
 */
export function tlsVerifyFailure(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth += 1) {
    const { code, cause, originalError } = current as {
      code?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) return code;
    current = cause ?? originalError;
  }
  return undefined;
}
