/**
 * An error and what it wraps (`cause`, kafkajs's `originalError`, and the `errors` of an
 * aggregate, which @platformatic/kafka reports retries as), breadth first, at most 32.
 */
export function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && chain.length < 32) {
    const current = queue.shift();
    if (current === undefined || current === null || chain.includes(current)) continue;
    chain.push(current);
    const inner = current as { cause?: unknown; originalError?: unknown; errors?: unknown };
    queue.push(inner.cause, inner.originalError);
    if (Array.isArray(inner.errors)) queue.push(...(inner.errors as unknown[]));
  }
  return chain;
}

/** The protocol error name (`MESSAGE_TOO_LARGE`, …) of an error of either client, if it has one. */
function protocolErrorOf(error: unknown): string | undefined {
  // kafkajs names it `type`, @platformatic/kafka `apiId`.
  const { type, apiId } = error as { type?: unknown; apiId?: unknown };
  if (typeof type === 'string') return type;
  return typeof apiId === 'string' ? apiId : undefined;
}

/**
 * True when the broker refused a record for its size (`MESSAGE_TOO_LARGE`,
 * `RECORD_LIST_TOO_LARGE`), however deep the client wrapped it when it gave up retrying.
 */
export function isRecordTooLarge(error: unknown): boolean {
  return errorChain(error).some((inner) => {
    const protocolError = protocolErrorOf(inner);
    return protocolError === 'MESSAGE_TOO_LARGE' || protocolError === 'RECORD_LIST_TOO_LARGE';
  });
}

/** True when the error says the topic exists already (a create that lost a race). */
export function isTopicAlreadyExists(error: unknown): boolean {
  return errorChain(error).some((inner) => protocolErrorOf(inner) === 'TOPIC_ALREADY_EXISTS');
}

/**
 * True when a broker answered that it does not know the topic or partition
 * (`UNKNOWN_TOPIC_OR_PARTITION`) or has no leader for it yet (`LEADER_NOT_AVAILABLE`): for a topic
 * just created, its metadata has not reached that broker yet.
 */
export function isUnknownTopic(error: unknown): boolean {
  return errorChain(error).some((inner) => {
    const protocolError = protocolErrorOf(inner);
    return (
      protocolError === 'UNKNOWN_TOPIC_OR_PARTITION' || protocolError === 'LEADER_NOT_AVAILABLE'
    );
  });
}

/** Options of {@link retryWhileTopicUnknown}. */
export interface RetryWhileTopicUnknownOptions {
  /** Longest time to keep retrying. @default 30000 */
  timeoutMs?: number;
  /** First pause; it doubles up to `maxDelayMs`. @default 100 */
  initialDelayMs?: number;
  /** @default 2000 */
  maxDelayMs?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `operation`, again after a pause while it fails with {@link isUnknownTopic}: a topic that
 * was just created is unknown to a broker until the controller's metadata reaches it, which on a
 * loaded machine takes longer than kafkajs's `createTopics({ waitForLeaders })` allows (it treats
 * that answer as final). Any other error, or the same one past `timeoutMs`, is thrown.
 */
export async function retryWhileTopicUnknown<T>(
  operation: () => Promise<T>,
  options: RetryWhileTopicUnknownOptions = {},
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + (options.timeoutMs ?? 30_000);
  let delayMs = options.initialDelayMs ?? 100;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isUnknownTopic(error) || now() + delayMs > deadline) throw error;
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 2_000);
    }
  }
}
