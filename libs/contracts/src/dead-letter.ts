/**
 * Headers of a dead-letter record on `tx.dlq`. The record's value is the original bytes,
 * unchanged, so it can be inspected and replayed; these headers say why and where it came from.
 */
export const DEAD_LETTER_HEADERS = {
  code: 'x-dlq-code',
  reason: 'x-dlq-reason',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  failedAt: 'x-dlq-failed-at',
  service: 'x-dlq-service',
} as const;

/** Why and where a message was dead-lettered. */
export interface DeadLetterReason {
  code: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  failedAt: string;
  service: string;
}

/** The headers that carry a {@link DeadLetterReason}. */
export function deadLetterHeaders(reason: DeadLetterReason): Record<string, string> {
  return {
    [DEAD_LETTER_HEADERS.code]: reason.code,
    [DEAD_LETTER_HEADERS.reason]: reason.reason,
    [DEAD_LETTER_HEADERS.sourceTopic]: reason.sourceTopic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(reason.sourcePartition),
    [DEAD_LETTER_HEADERS.sourceOffset]: reason.sourceOffset,
    [DEAD_LETTER_HEADERS.failedAt]: reason.failedAt,
    [DEAD_LETTER_HEADERS.service]: reason.service,
  };
}
