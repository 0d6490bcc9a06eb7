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
  | 'BROKER_UNAVAILABLE'
  | 'KAFKA_AUTH_FAILED'
  | 'KAFKA_TLS_FAILED'
  | 'IMPORT_FILE_UNREADABLE'
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
