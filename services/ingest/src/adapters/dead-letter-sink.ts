import { deadLetterHeaders } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import type { DeadLetter } from '../domain/arrival-batch';

/**
 * Sends refused messages to the dead-letter topic: the original key and bytes unchanged, the
 * reason and source position in headers. Resolves once the broker has them, so the caller may
 * then move its offsets past them.
 */
export async function sendDeadLetters(
  producer: KafkaProducer,
  topic: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  await producer.send(
    topic,
    letters.map((letter) => ({
      key: letter.key,
      value: letter.value,
      headers: deadLetterHeaders(letter.reason),
    })),
  );
}
