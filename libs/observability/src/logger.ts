import { hostname } from 'node:os';
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line. */
  service: string;
  /** pino level. @default 'info' */
  level?: string;
  /** Where lines go; stdout unless given (tests pass a stream to read them back). */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logs to stdout, the one log format of every program (services and CLIs): pino's
 * JSON with `service`, `pid` and `hostname` on every line, ISO time, the level as a word. Secrets
 * that may appear in config or errors are redacted. Components take `logger.child({ component })`;
 * code that handles a batch logs through `logger.child({ batchId })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          '*.password',
          '*.AMQP_URL',
          '*.DATABASE_URL',
          'config.*URL',
          'url',
          '*.KAFKA_SASL_PASSWORD',
          '*.KAFKA_SSL_KEY_PASSWORD',
          '*.KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET',
          '*.clientSecret',
          '*.keyPassword',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
