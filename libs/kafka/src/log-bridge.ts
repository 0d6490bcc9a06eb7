import { logLevel } from 'kafkajs';
import type { logCreator } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Options of {@link pinoLogCreator}. */
export interface LogBridgeOptions {
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /** How long repeats of an unreachable broker stay at debug level. @default 60000 */
  repeatAfterMs?: number;
}

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
 * level, and a minute on, if it still fails, one more warning says how many attempts failed.
 */
export function pinoLogCreator(logger: Logger, options: LogBridgeOptions = {}): logCreator {
  const bound = new Set([...Object.keys(logger.bindings()), 'level', 'time', 'msg', 'kafkajs']);
  const now = options.now ?? Date.now;
  const repeatAfterMs = options.repeatAfterMs ?? 60_000;
  const reported = new Map<string, { at: number; attempts: number }>();
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
        const key = `${broker} ${cause}`;
        const last = reported.get(key);
        const attempt = namespace === 'Connection' ? 1 : 0;
        // A new outage: none yet, or the last report is old and nothing failed since.
        if (last === undefined || (last.attempts === 0 && now() - last.at >= repeatAfterMs)) {
          reported.set(key, { at: now(), attempts: 0 });
          logger.warn(
            { kafkajs: namespace, broker, cause },
            `cannot reach Kafka broker ${broker} (${cause}); retrying (repeats are logged at debug level)`,
          );
          return;
        }
        last.attempts += attempt;
        if (attempt === 1 && now() - last.at >= repeatAfterMs) {
          logger.warn(
            { kafkajs: namespace, broker, cause, attempts: last.attempts },
            `still cannot reach Kafka broker ${broker} (${cause}): ${last.attempts} failed attempts since the last report`,
          );
          reported.set(key, { at: now(), attempts: 0 });
          return;
        }
        logger.debug(fields, message);
        return;
      }
      logger[LEVELS[level] ?? 'info'](fields, message);
    };
}
