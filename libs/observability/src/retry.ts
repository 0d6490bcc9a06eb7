/** Options of {@link retry}, after kafkajs's `src/retry`. */
export interface RetryOptions {
  /** Attempts after the first. @default 5 */
  retries?: number;
  /** First delay. @default 300 */
  initialDelayMs?: number;
  /** Growth factor per attempt. @default 2 */
  factor?: number;
  /** Cap on one delay. @default 30000 */
  maxDelayMs?: number;
  /** Random spread, as a fraction of the delay. @default 0.2 */
  jitter?: number;
  /** Narrows which errors are retried (after the built-in rules). @default every retriable error */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Thrown by the retried function to stop retrying at once. */
export class BailError extends Error {
  constructor(override readonly cause: unknown) {
    super('bail');
  }
}

/** The delay before retry number `attempt` (0-based), jittered and capped. */
export function backoffDelay(
  attempt: number,
  options: RetryOptions = {},
  random = Math.random,
): number {
  const base = (options.initialDelayMs ?? 300) * (options.factor ?? 2) ** attempt;
  const jitter = options.jitter ?? 0.2;
  const spread = base * jitter * (random() * 2 - 1);
  return Math.min(options.maxDelayMs ?? 30_000, Math.max(0, Math.round(base + spread)));
}

function isRetriable(error: unknown): boolean {
  if (error instanceof TypeError) return false; // a programmer error; retrying hides it
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return error.retriable !== false;
  }
  return true;
}

/**
 * Calls `fn` until it resolves, waiting with exponential backoff and jitter between attempts.
 * `fn` gets a `bail(error)` to give up at once; a `TypeError` or an error with `retriable: false`
 * is never retried.
 */
export async function retry<T>(
  fn: (bail: (error: unknown) => never, attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const retries = options.retries ?? 5;
  const bail = (error: unknown): never => {
    throw new BailError(error);
  };
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn(bail, attempt);
    } catch (error) {
      if (error instanceof BailError) throw error.cause;
      if (attempt >= retries || !isRetriable(error) || options.shouldRetry?.(error) === false)
        throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt + 1, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
