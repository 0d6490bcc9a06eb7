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
