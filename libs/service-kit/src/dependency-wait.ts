import { setTimeout as sleep } from 'node:timers/promises';
import { amqpServerOf, connectAmqp } from '@streamtrain/amqp';
import type { AmqpClient, AmqpOptions } from '@streamtrain/amqp';
import type { Logger } from '@streamtrain/observability';
import type { EarlyOpsServer } from './early-ops-server';

/** Socket errors that say a server cannot be reached (yet), as opposed to one that refused us. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The socket error code in `error` or its causes (an `AggregateError`'s errors too, as Node's
 * connect to `localhost` raises) when it says the server cannot be reached; undefined otherwise
 * (wrong credentials, an untrusted certificate, a protocol error).
 */
export function unreachableCause(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors as unknown[]) {
      const found = unreachableCause(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return unreachableCause(cause, depth + 1);
}

/** Options of {@link connectWhenReachable}. */
export interface ConnectWhenReachableOptions<T> {
  /** What is waited for, as the log and `/readyz` name it: `RabbitMQ at 127.0.0.1:5672`. */
  dependency: string;
  connect: () => Promise<T>;
  logger: Logger;
  /** The service's ops server: `/readyz` says `connecting to <dependency>` meanwhile. */
  ops: EarlyOpsServer;
  /** Aborted when the service stops: the wait ends (rejecting) at once. */
  signal: AbortSignal;
  /** @default 500 */
  initialDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
  /** How long repeats stay at debug level before a warning counts them. @default 60000 */
  repeatAfterMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /**
   * Why a failed connect means "not reachable (yet)", or undefined for a failure to throw at once.
   * @default unreachableCause
   */
  unreachable?: (error: unknown) => string | undefined;
  /**
   * The connect logs an unreachable server by itself, once (the Kafka client does): the wait then
   * logs its attempts at debug level only, so there is still one warning. @default false
   */
  reportsItself?: boolean;
}

/**
 * Connects, waiting for as long as the server cannot be reached: `/readyz` answers 503 with
 * `startup: connecting to <dependency>`, the log has one warning (`cannot reach <dependency>
 * (ECONNREFUSED); retrying`), repeats at debug level and a count each `repeatAfterMs` it
 * persists, and one line once it is reached. Any other failure (credentials, TLS) is thrown at
 * once, so a misconfiguration fails fast. As a running service rides out a broker outage
 * (503 meanwhile), a starting one waits for the broker the same way.
 */
export async function connectWhenReachable<T>(options: ConnectWhenReachableOptions<T>): Promise<T> {
  const { dependency, logger, signal } = options;
  const now = options.now ?? Date.now;
  const initialDelayMs = options.initialDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const repeatAfterMs = options.repeatAfterMs ?? 60_000;
  const unreachable = options.unreachable ?? unreachableCause;
  options.ops.phase(`connecting to ${dependency}`);
  let failed = 0;
  let sinceReport = 0;
  let reportedAt = 0;
  for (;;) {
    signal.throwIfAborted();
    try {
      const connected = await options.connect();
      if (failed > 0) logger.info({ dependency, failed }, `reached ${dependency}`);
      return connected;
    } catch (error) {
      const cause = unreachable(error);
      if (cause === undefined || signal.aborted) throw error;
      failed += 1;
      sinceReport += 1;
      if (options.reportsItself === true) {
        logger.debug({ dependency, cause, failed }, `cannot reach ${dependency}; retrying`);
      } else if (failed === 1) {
        reportedAt = now();
        sinceReport = 0;
        logger.warn(
          { dependency, cause },
          `cannot reach ${dependency} (${cause}); retrying (repeats are logged at debug level)`,
        );
      } else if (now() - reportedAt >= repeatAfterMs) {
        logger.warn(
          { dependency, cause, attempts: sinceReport },
          `still cannot reach ${dependency} (${cause}): ${sinceReport} failed attempts since the last report`,
        );
        reportedAt = now();
        sinceReport = 0;
      } else {
        logger.debug({ dependency, cause, failed }, `cannot reach ${dependency}; retrying`);
      }
    }
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failed - 1, 16));
    await sleep(delayMs, undefined, { signal }).catch(() => signal.throwIfAborted());
  }
}

/**
 * {@link connectAmqp}, waiting (see {@link connectWhenReachable}) while RabbitMQ cannot be
 * reached: the one way every service connects to RabbitMQ at start.
 */
export function connectAmqpWhenReachable(
  amqp: AmqpOptions,
  wait: Pick<ConnectWhenReachableOptions<AmqpClient>, 'ops' | 'signal'> &
    Partial<ConnectWhenReachableOptions<AmqpClient>>,
): Promise<AmqpClient> {
  return connectWhenReachable({
    dependency: `RabbitMQ at ${amqpServerOf(amqp.url)}`,
    logger: amqp.logger,
    connect: () => connectAmqp(amqp),
    ...wait,
  });
}

/** What {@link connectKafkaWhenReachable} needs of the project's Kafka client. */
export interface ProbedKafka {
  /** One attempt to reach and authenticate, no retries (`KafkaClient.probe`). */
  probe(): Promise<void>;
}

/**
 * Waits (see {@link connectWhenReachable}) until a Kafka broker can be reached, with one attempt
 * of the client at a time: the one way every service meets Kafka at start, on either client
 * library. While the brokers cannot be reached (`BROKER_UNAVAILABLE`), `/readyz` names them and
 * the client's one warning is the only one; refused credentials or an untrusted certificate are
 * thrown at once. The service then creates its producers, consumers and admin as usual.
 */
export function connectKafkaWhenReachable(
  kafka: ProbedKafka,
  connection: { brokers: readonly string[]; logger: Logger },
  wait: Pick<ConnectWhenReachableOptions<void>, 'ops' | 'signal'> &
    Partial<ConnectWhenReachableOptions<void>>,
): Promise<void> {
  return connectWhenReachable({
    dependency: `Kafka at ${connection.brokers.join(',')}`,
    logger: connection.logger,
    connect: () => kafka.probe(),
    unreachable: (error) =>
      (error as { code?: unknown }).code === 'BROKER_UNAVAILABLE'
        ? (unreachableCause(error) ?? 'unreachable')
        : undefined,
    reportsItself: true,
    ...wait,
  });
}
