import { logLevel } from 'kafkajs';
import type { logCreator } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs's own log lines into the service's pino logger. pino writes a child's bindings
 * and a line's fields side by side without merging them, so a field of kafkajs's entry that the
 * logger already binds (`component`, `service`, …) is renamed `kafkajs_<name>` instead of
 * appearing twice in one JSON object. kafkajs's namespace (`Connection`, `Runner`, …) goes
 * under `kafkajs`.
 */
export function pinoLogCreator(logger: Logger): logCreator {
  const bound = new Set([...Object.keys(logger.bindings()), 'level', 'time', 'msg', 'kafkajs']);
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _library, ...extra } = log;
      const fields: Record<string, unknown> = { kafkajs: namespace };
      for (const [name, value] of Object.entries(extra)) {
        fields[bound.has(name) ? `kafkajs_${name}` : name] = value;
      }
      logger[LEVELS[level] ?? 'info'](fields, message);
    };
}
