import type { KafkaAdmin } from '@streamtrain/kafka';
import type { Logger } from '@streamtrain/observability';

/** Room for the `x-dlq-*` headers and the record overhead on top of the largest source value. */
export const DEAD_LETTER_HEADROOM_BYTES = 65_536;

/**
 * Makes the dead-letter topic able to hold any message its source topics accept: created (when
 * `create`) or raised to a `max.message.bytes` of the largest source topic's plus headroom for
 * the reason headers. With broker defaults a value the source topic allowed was refused by the
 * dead-letter topic and crash-looped ingest (issue 13); the truncated fallback of
 * `sendDeadLetters` covers a limit lowered later by hand.
 */
export async function ensureDeadLetterTopic(
  admin: KafkaAdmin,
  options: {
    topic: string;
    sources: readonly string[];
    create: boolean;
    partitions: number;
    logger: Logger;
  },
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const sources = options.sources.filter((topic) => existing.has(topic));
  const sourceLimits = await admin.maxMessageBytes(sources);
  const required = Math.max(0, ...Object.values(sourceLimits)) + DEAD_LETTER_HEADROOM_BYTES;
  if (!existing.has(options.topic)) {
    if (!options.create) return;
    await admin.ensureTopics([
      {
        topic: options.topic,
        partitions: options.partitions,
        configEntries: { 'max.message.bytes': String(required) },
      },
    ]);
    return;
  }
  const current = (await admin.maxMessageBytes([options.topic]))[options.topic];
  if (current !== undefined && current < required) {
    await admin.setMaxMessageBytes(options.topic, required);
    options.logger.info(
      { topic: options.topic, from: current, to: required },
      'raised the dead-letter topic’s max.message.bytes to hold any source message',
    );
  }
}
