import type { Logger } from 'pino';
import { StreamtrainError } from '@streamtrain/contracts';

/** What every service is built as. `stop` may be called any number of times. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One named step of a shutdown sequence. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Runs shutdown steps in order, each in its own try/catch so a failing step does not skip the
 * ones after it (stop intake → drain → commit → close clients → flush logs). Resolves to the
 * errors met; an empty list means a clean stop.
 */
export async function runShutdownSteps(
  steps: readonly ShutdownStep[],
  logger: Logger,
): Promise<Error[]> {
  const errors: Error[] = [];
  for (const step of steps) {
    try {
      await step.run();
      logger.debug({ step: step.name }, 'shutdown step done');
    } catch (error) {
      logger.error({ err: error, step: step.name }, 'shutdown step failed');
      errors.push(error as Error);
    }
  }
  return errors;
}

/**
 * Memoises an async function: repeated calls share the first call's promise, as kafkajs's
 * `sharedPromiseTo` and BullMQ's `closing` do for `disconnect`/`close`.
 */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** Rejects with SHUTDOWN_TIMEOUT when `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StreamtrainError('SHUTDOWN_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link runMain}. */
export interface RunMainOptions {
  logger: Logger;
  /** Hard limit on the graceful stop. @default 30000 */
  shutdownTimeoutMs?: number;
}

/**
 * The body of every `main.ts`: starts the service, stops it on SIGTERM/SIGINT within a hard
 * timeout, and sets the exit code (non-zero when start or stop failed). A programmer error
 * crashes the process so the supervisor restarts it.
 */
export async function runMain(service: Service, options: RunMainOptions): Promise<void> {
  const { logger } = options;
  const timeoutMs = options.shutdownTimeoutMs ?? 30_000;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ signal }, 'stopping');
      try {
        await withTimeout(service.stop(), timeoutMs, 'graceful shutdown');
        logger.info('stopped');
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      } finally {
        logger.flush();
      }
      // Stopped: nothing is left to hand over, so exit now, even while start still waits for a
      // dependency or a client's retry timers (a Kafka connect in hand retries for a minute)
      // would keep the process alive (pino flushes its destination on exit).
      process.exit();
    })());
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    await service.start();
    logger.info('started');
  } catch (error) {
    // A start that a signal's stop ended (a wait for a broker aborted) is a requested stop, not a
    // failure: that stop exits (0 when it went well).
    if (stopping !== undefined) return await stopping;
    logger.fatal({ err: error }, 'start failed');
    process.exitCode = 1;
    await stop('start-failed');
  }
}
