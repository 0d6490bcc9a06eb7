import { deadLetterHeaders } from '@streamtrain/contracts';
import { isRecordTooLarge } from '@streamtrain/kafka';
import type { KafkaProducer } from '@streamtrain/kafka';
import type { DeadLetter } from '../domain/arrival-batch';

/** Options of {@link sendDeadLetters}. */
export interface DeadLetterSinkOptions {
  /** Most value bytes in one send, so a burst of refused messages is not one oversized request. @default 524288 */
  maxSendBytes?: number;
  /** Bytes of the value kept when the topic refuses the full copy. @default 16384 */
  truncatedValueBytes?: number;
  /** Told about each letter sent truncated. */
  onTruncated?: (letter: DeadLetter, originalBytes: number) => void;
}

/** Header of a dead letter whose value was cut: the original value's size in bytes. */
export const TRUNCATED_FROM_HEADER = 'x-dlq-truncated-from-bytes';

const toRecord = (letter: DeadLetter) => ({
  key: letter.key,
  value: letter.value,
  headers: deadLetterHeaders(letter.reason),
});

/**
 * Sends refused messages to the dead-letter topic: the original key and bytes unchanged, the
 * reason and source position in headers. Resolves once the broker has them, so the caller may
 * then move its offsets past them. A letter the topic cannot hold (its value over the topic's
 * `max.message.bytes`) is sent as a truncated copy that says so, with the source position to
 * find the original: a dead-letter write that cannot succeed never stops ingest (issue 13).
 */
export async function sendDeadLetters(
  producer: KafkaProducer,
  topic: string,
  letters: readonly DeadLetter[],
  options: DeadLetterSinkOptions = {},
): Promise<void> {
  const maxSendBytes = options.maxSendBytes ?? 524_288;
  let chunk: DeadLetter[] = [];
  let chunkBytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const letters = chunk;
    chunk = [];
    chunkBytes = 0;
    try {
      await producer.send(topic, letters.map(toRecord));
    } catch (error) {
      if (!isRecordTooLarge(error)) throw error;
      for (const letter of letters) await sendOne(producer, topic, letter, options);
    }
  };
  for (const letter of letters) {
    const bytes = (letter.value?.length ?? 0) + (letter.key?.length ?? 0);
    if (chunk.length > 0 && chunkBytes + bytes > maxSendBytes) await flush();
    chunk.push(letter);
    chunkBytes += bytes;
  }
  await flush();
}

async function sendOne(
  producer: KafkaProducer,
  topic: string,
  letter: DeadLetter,
  options: DeadLetterSinkOptions,
): Promise<void> {
  try {
    await producer.send(topic, [toRecord(letter)]);
    return;
  } catch (error) {
    if (!isRecordTooLarge(error)) throw error;
  }
  const keep = options.truncatedValueBytes ?? 16_384;
  const originalBytes = letter.value?.length ?? 0;
  const reason = {
    ...letter.reason,
    reason: `${letter.reason.reason} [value truncated from ${originalBytes} to ${Math.min(keep, originalBytes)} bytes: the dead-letter topic refused the full copy; the original is at ${letter.reason.sourceTopic}/${letter.reason.sourcePartition}@${letter.reason.sourceOffset}]`,
  };
  await producer.send(topic, [
    {
      key: letter.key === null ? null : letter.key.subarray(0, keep),
      value: letter.value === null ? null : letter.value.subarray(0, keep),
      headers: { ...deadLetterHeaders(reason), [TRUNCATED_FROM_HEADER]: String(originalBytes) },
    },
  ]);
  options.onTruncated?.(letter, originalBytes);
}
