import { ConfigError } from '@streamtrain/config';
import { createLogger, runMain, withTimeout } from '@streamtrain/observability';
import type { Logger, Service } from '@streamtrain/observability';

/** Options of {@link runServiceMain}. */
export interface ServiceMainOptions<C extends { LOG_LEVEL: string; SHUTDOWN_TIMEOUT_MS: number }> {
  name: string;
  loadConfig: () => C;
  create: (config: C, logger: Logger, onFatal: (error: Error) => void) => Service;
}

/**
 * The whole of a service's `main.ts`: load config (a bad environment prints every problem and
 * exits with status 2), create the logger and the service, and run it until SIGTERM/SIGINT. An
 * unrecoverable broker failure stops the service and exits non-zero for the supervisor.
 */
export function runServiceMain<C extends { LOG_LEVEL: string; SHUTDOWN_TIMEOUT_MS: number }>(
  options: ServiceMainOptions<C>,
): void {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const logger = createLogger({ service: options.name, level: config.LOG_LEVEL });
  const service = options.create(config, logger, (error) => {
    logger.fatal({ err: error }, 'unrecoverable failure; exiting for the supervisor to restart');
    void service.stop().finally(() => process.exit(1));
  });
  // A programmer error still ends the process, but after a bounded graceful stop, so the consumer
  // group sees the member leave instead of waiting out its session (issue 13).
  const crash = (error: unknown): void => {
    logger.fatal(
      { err: error },
      'uncaught error; stopping and exiting for the supervisor to restart',
    );
    void withTimeout(service.stop(), config.SHUTDOWN_TIMEOUT_MS, 'stop after an uncaught error')
      .catch((stopError: unknown) => logger.error({ err: stopError }, 'stop failed'))
      .finally(() => {
        logger.flush();
        process.exit(1);
      });
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
  void runMain(service, { logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
}
