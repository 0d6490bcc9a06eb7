import type { KafkaClient } from '@streamtrain/kafka';
import { uniqueName } from '@streamtrain/testkit';
import { fmt, progress } from '../harness/progress';

/** Consumer settings of the reference: the ingest service's defaults, so only the work differs. */
export const INGEST_DEFAULT_FETCH = Object.freeze({
  maxBytesPerPartition: 4_194_304,
  maxBytes: 8 * 4_194_304,
  minBytes: 131_072,
  maxWaitTimeMs: 500,
  partitionsConsumedConcurrently: 4,
});

/** What the bare consumer measured. */
export interface BareConsumeResult {
  readonly messages: number;
  /** From the first batch in hand to the last message parsed. */
  readonly seconds: number;
  /** From `run()` (connect, join the group) to the last message parsed. */
  readonly secondsFromStart: number;
  readonly messagesPerSecond: number;
  readonly batches: number;
  /** Messages that were not JSON or not a transaction (counted and skipped, as a DLQ would). */
  readonly rejected: number;
}

/**
 * The ceiling of consuming in Node: the project's consumer (`kafka` says on which client library;
 * offsets committed per batch) doing `JSON.parse` on every message and nothing else. A message
 * that does not parse to a transaction is counted in `rejected` and skipped.
 */
export async function bareConsume(
  kafka: KafkaClient,
  topic: string,
  expected: number,
  timeoutMs: number,
): Promise<BareConsumeResult> {
  const consumer = kafka.consumer({ groupId: uniqueName('bench_bare'), ...INGEST_DEFAULT_FETCH });
  let parsed = 0;
  let rejected = 0;
  let batches = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  const report = setInterval(
    () => progress(`ingest: bare consumer parsed ${fmt(parsed)}/${fmt(expected)}`),
    5_000,
  );
  let fatal: Error | undefined;
  try {
    await consumer.run({
      topics: [topic],
      fromBeginning: true,
      onFatal: (error) => {
        fatal = error;
        finish();
      },
      handler: async (batch, control) => {
        firstAt ??= performance.now();
        for (const message of batch.messages) {
          try {
            const value = JSON.parse((message.value as Buffer).toString('utf8')) as {
              amount?: unknown;
            };
            if (typeof value.amount !== 'number') rejected += 1;
          } catch {
            rejected += 1;
          }
        }
        parsed += batch.messages.length;
        batches += 1;
        const last = batch.messages[batch.messages.length - 1];
        if (last !== undefined) await control.commit(last.offset);
        lastAt = performance.now();
        if (parsed >= expected) finish();
      },
    });
    const timer = setTimeout(() => {
      fatal = new Error(`bare consumer: ${parsed}/${expected} after ${timeoutMs} ms`);
      finish();
    }, timeoutMs);
    await done;
    clearTimeout(timer);
    if (fatal !== undefined) throw fatal;
  } finally {
    clearInterval(report);
    await consumer.disconnect();
  }
  const seconds = (lastAt - (firstAt ?? started)) / 1000;
  return {
    messages: parsed,
    seconds,
    secondsFromStart: (lastAt - started) / 1000,
    messagesPerSecond: parsed / seconds,
    batches,
    rejected,
  };
}
