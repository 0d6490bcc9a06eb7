import { logLevel } from 'kafkajs';
import type { logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import { createUnreachableReport } from './unreachable-report';
import type { UnreachableReportOptions } from './unreachable-report';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Options of {@link pinoLogCreator}. */
export type LogBridgeOptions = UnreachableReportOptions;

// kafkajs's lines for a socket that could not be opened: `connect ECONNREFUSED host:port`,
// `getaddrinfo ENOTFOUND host`, `Connection timeout`.
const UNREACHABLE = /\b(?:connect|getaddrinfo) (E[A-Z]+)\b(?: ([^\s,;]+))?|Connection (timeout)/;

/**
 * Routes kafkajs's own log lines into the service's pino logger. pino writes a child's bindings
 * and a line's fields side by side without merging them, so a field of kafkajs's entry that the
 * logger already binds (`component`, `service`, …) is renamed `kafkajs_<name>` instead of
 * appearing twice in one JSON object. kafkajs's namespace (`Connection`, `Runner`, …) goes
 * under `kafkajs`.
 *
 * A broker that cannot be reached is reported once, as one warning naming the broker and the
 * cause, instead of kafkajs's two error lines (with a stack) per retry; the repeats go to debug
 * level (each connect attempt's line marked `connectAttempt: true`), and a minute on, if it still
 * fails, one more warning says how many attempts failed.
 */
export function pinoLogCreator(logger: Logger, options: LogBridgeOptions = {}): logCreator {
  const bound = new Set([...Object.keys(logger.bindings()), 'level', 'time', 'msg', 'kafkajs']);
  const report = createUnreachableReport(logger, options);
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _library, ...extra } = log;
      const fields: Record<string, unknown> = { kafkajs: namespace };
      for (const [name, value] of Object.entries(extra)) {
        fields[bound.has(name) ? `kafkajs_${name}` : name] = value;
      }
      const unreachable = level === logLevel.ERROR ? UNREACHABLE.exec(message) : null;
      if (unreachable !== null) {
        const cause = unreachable[1] ?? 'timeout';
        const broker =
          typeof extra.broker === 'string' ? extra.broker : (unreachable[2] ?? 'unknown');
        const countsAsAttempt = namespace === 'Connection';
        if (report({ broker, cause, countsAsAttempt }, { kafkajs: namespace })) return;
        if (countsAsAttempt) fields.connectAttempt = true;
        logger.debug(fields, message);
        return;
      }
      logger[LEVELS[level] ?? 'info'](fields, message);
    };
}
