import type { BaseOptions } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { errorChain } from './kafka-errors';
import { platformaticSasl, tlsOptions } from './security';
import type { KafkaClientOptions } from './types';
import { createUnreachableReport } from './unreachable-report';
import type { UnreachableReport } from './unreachable-report';

/** Retries of one operation, as the kafkajs adapter configures kafkajs (`retries: 8`). */
const RETRIES = 8;

/**
 * The wait before retry `attempt` (1, 2, …): kafkajs's schedule (300 ms doubling, at most 30 s)
 * with ±20 % jitter, so a fleet that lost its broker does not come back in step.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 300 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

// @platformatic/kafka's words for a socket that could not be opened.
const UNREACHABLE = /^Connection to (\S+) (failed|timed out)\.$/;

/** The broker and the cause (`ECONNREFUSED`, `timeout`, …) of a failed connect, if it is one. */
export function unreachableBroker(error: unknown): { broker: string; cause: string } | undefined {
  for (const inner of errorChain(error)) {
    const match = UNREACHABLE.exec((inner as Error).message ?? '');
    if (match === null) continue;
    const code = (inner as { cause?: { code?: unknown } }).cause?.code;
    const cause = match[2] === 'timed out' ? 'timeout' : typeof code === 'string' ? code : 'error';
    return { broker: match[1] as string, cause };
  }
  return undefined;
}

/**
 * Tells `report` of `error` when it is a failed connect (a repeat is logged at debug level,
 * `connectAttempt: true`); false when the error is something else.
 */
export function reportUnreachable(
  error: unknown,
  report: UnreachableReport,
  logger: Logger,
  fields: Record<string, unknown> = {},
): boolean {
  const unreachable = unreachableBroker(error);
  if (unreachable === undefined) return false;
  if (!report({ ...unreachable, countsAsAttempt: true })) {
    logger.debug(
      { ...unreachable, ...fields, connectAttempt: true },
      `connect to ${unreachable.broker} failed (${unreachable.cause})`,
    );
  }
  return true;
}

/**
 * The options every @platformatic/kafka client of one {@link KafkaClientOptions} shares: brokers,
 * TLS (with SNI, which managed clusters need) and SASL, timeouts, and the retry schedule of the
 * kafkajs adapter. A broker that cannot be reached is logged once as a warning and each repeat
 * at debug level (`connectAttempt: true`), as the kafkajs adapter does.
 */
export function platformaticBaseOptions(
  options: KafkaClientOptions,
  logger: Logger,
  report: UnreachableReport = createUnreachableReport(logger),
): BaseOptions {
  return {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectionTimeoutMs ?? 5_000,
    // kafkajs's request timeout; the library's own is 5 s.
    timeout: 30_000,
    retries: RETRIES,
    retryDelay: (_client, operationId, attempt, _retries, error) => {
      if (!reportUnreachable(error, report, logger, { operationId, attempt })) {
        logger.debug({ err: error, operationId, attempt }, `${operationId} failed; retrying`);
      }
      return backoffMs(attempt);
    },
    ...(options.ssl === undefined ? {} : { tls: tlsOptions(options.ssl), tlsServerName: true }),
    ...(options.sasl === undefined ? {} : { sasl: platformaticSasl(options.sasl) }),
  };
}
