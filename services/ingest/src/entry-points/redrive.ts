import type { KafkaClient, OutgoingMessage } from '@streamtrain/kafka';
import { decideRedrive, REDRIVEN_FROM_HEADER } from '../domain/redrive';
import type { RedriveFilter } from '../domain/redrive';

/** Options of {@link redriveDeadLetters}. */
export interface RedriveOptions {
  kafka: KafkaClient;
  deadLetterTopic: string;
  filter: RedriveFilter;
  /** Count what would be sent, send nothing. */
  dryRun: boolean;
  /** Consumer group of the reader (its offsets are committed only when not a dry run). */
  groupId: string;
}

/** What a re-drive did (or, in a dry run, would do), per error code. */
export interface RedriveSummary {
  read: number;
  sent: number;
  byCode: Record<string, { sent: number; skipped: number }>;
  /** Topic → messages sent (or to be sent) there. */
  byTopic: Record<string, number>;
  /** Letters of file imports, which go back by importing the file again. */
  fileSources: number;
}

/**
 * Sends the dead letters on `deadLetterTopic` that match the filter back to their source topic
 * (or `filter.to`), with their original key and bytes and a header naming the letter, so ingest
 * validates them again after a fix. Reads what the topic holds when it starts, then stops.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveSummary> {
  const summary: RedriveSummary = { read: 0, sent: 0, byCode: {}, byTopic: {}, fileSources: 0 };
  const admin = await options.kafka.admin();
  let ends: Map<number, bigint>;
  try {
    ends = new Map(
      (await admin.latestOffsets(options.deadLetterTopic)).map((p) => [
        p.partition,
        BigInt(p.offset),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([, end]) => end > 0n).map(([partition]) => partition));
  if (pending.size === 0) return summary;
  const producer = options.dryRun ? undefined : await options.kafka.producer();
  const consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeMs: 100 });
  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error === undefined ? resolve() : reject(error));
  });
  try {
    await consumer.run({
      topics: [options.deadLetterTopic],
      fromBeginning: true,
      onFatal: (error) => finish(error),
      handler: async (batch, control) => {
        const end = ends.get(batch.partition) ?? 0n;
        const outgoing = new Map<string, OutgoingMessage[]>();
        let last: string | undefined;
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          last = message.offset;
          summary.read += 1;
          const decision = decideRedrive(message.headers, options.filter);
          const counts = (summary.byCode[decision.code] ??= { sent: 0, skipped: 0 });
          if (decision.action === 'skip') {
            counts.skipped += 1;
            if (decision.why === 'file-source') summary.fileSources += 1;
            continue;
          }
          counts.sent += 1;
          summary.sent += 1;
          summary.byTopic[decision.topic] = (summary.byTopic[decision.topic] ?? 0) + 1;
          const list = outgoing.get(decision.topic) ?? [];
          list.push({
            key: message.key,
            value: message.value,
            headers: {
              [REDRIVEN_FROM_HEADER]: `${options.deadLetterTopic}:${batch.partition}:${message.offset}`,
            },
          });
          outgoing.set(decision.topic, list);
        }
        if (producer !== undefined) {
          for (const [topic, messages] of outgoing) await producer.send(topic, messages);
          if (last !== undefined) await control.commit(last);
        }
        // Done with a partition once its batch reaches the end it had at the start.
        if (batch.messages.some((message) => BigInt(message.offset) + 1n >= end))
          pending.delete(batch.partition);
        if (pending.size === 0) finish();
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
    await producer?.disconnect();
  }
  return summary;
}
