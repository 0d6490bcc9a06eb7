import type { Logger } from 'pino';

/** Options of {@link createUnreachableReport}. */
export interface UnreachableReportOptions {
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /** How long repeats of an unreachable broker stay at debug level. @default 60000 */
  repeatAfterMs?: number;
}

/**
 * Told of each failed attempt to reach a broker; logs a warning for a new outage (and, a
 * minute on, one saying how many attempts failed since) and returns `true` then. It returns
 * `false` for a repeat, which the caller logs at debug level: one clear line instead of a
 * wall of retries, whichever client library retries.
 */
export type UnreachableReport = (
  failure: { broker: string; cause: string; countsAsAttempt: boolean },
  fields?: Record<string, unknown>,
) => boolean;

/** Creates an {@link UnreachableReport} that writes to `logger`. */
export function createUnreachableReport(
  logger: Logger,
  options: UnreachableReportOptions = {},
): UnreachableReport {
  const now = options.now ?? Date.now;
  const repeatAfterMs = options.repeatAfterMs ?? 60_000;
  const reported = new Map<string, { at: number; attempts: number }>();
  return ({ broker, cause, countsAsAttempt }, fields = {}) => {
    const key = `${broker} ${cause}`;
    const last = reported.get(key);
    // A new outage: none yet, or the last report is old and nothing failed since.
    if (last === undefined || (last.attempts === 0 && now() - last.at >= repeatAfterMs)) {
      reported.set(key, { at: now(), attempts: 0 });
      logger.warn(
        { ...fields, broker, cause },
        `cannot reach Kafka broker ${broker} (${cause}); retrying (repeats are logged at debug level)`,
      );
      return true;
    }
    if (countsAsAttempt) last.attempts += 1;
    if (countsAsAttempt && now() - last.at >= repeatAfterMs) {
      logger.warn(
        { ...fields, broker, cause, attempts: last.attempts },
        `still cannot reach Kafka broker ${broker} (${cause}): ${last.attempts} failed attempts since the last report`,
      );
      reported.set(key, { at: now(), attempts: 0 });
      return true;
    }
    return false;
  };
}
