import type { Transaction } from '@streamtrain/contracts';
import type { KafkaClient } from '@streamtrain/kafka';
import type { KeyedMessage } from '@streamtrain/simulator';
import { fmt, progress } from '../harness/progress';

/** What filling the topic took. */
export interface FilledTopic {
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** The simulator publisher's message of a transaction: JSON value, key = customer id. */
export function* transactionMessages(transactions: Iterable<Transaction>): Generator<KeyedMessage> {
  for (const tx of transactions) yield { key: tx.customerId, value: JSON.stringify(tx) };
}

/**
 * Produces the transactions to `topic` as the simulator's publisher does (JSON value, key =
 * customer id, acks = all), a few sends in flight, before anything is measured.
 */
export function fillTopic(
  kafka: KafkaClient,
  topic: string,
  transactions: Iterable<Transaction>,
  chunkSize = 5_000,
  inFlight = 4,
): Promise<FilledTopic> {
  return fillTopicWith(kafka, topic, transactionMessages(transactions), chunkSize, inFlight);
}

/** {@link fillTopic} with the messages as given (e.g. some of them malformed on purpose). */
export async function fillTopicWith(
  kafka: KafkaClient,
  topic: string,
  messagesToSend: Iterable<KeyedMessage>,
  chunkSize = 5_000,
  inFlight = 4,
): Promise<FilledTopic> {
  const producer = await kafka.producer();
  const started = performance.now();
  let messages = 0;
  let bytes = 0;
  let lastReport = started;
  const sending = new Set<Promise<void>>();
  const failures: unknown[] = [];
  const send = (chunk: KeyedMessage[]): void => {
    const promise: Promise<void> = producer
      .send(topic, chunk)
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => sending.delete(promise));
    sending.add(promise);
  };
  try {
    let chunk: KeyedMessage[] = [];
    for (const message of messagesToSend) {
      bytes += Buffer.byteLength(message.value);
      chunk.push(message);
      messages += 1;
      if (chunk.length >= chunkSize) {
        if (sending.size >= inFlight) await Promise.race(sending);
        if (failures.length > 0) throw failures[0];
        send(chunk);
        chunk = [];
      }
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        progress(`ingest: produced ${fmt(messages)} messages`);
      }
    }
    if (chunk.length > 0) send(chunk);
    await Promise.all([...sending]);
    if (failures.length > 0) throw failures[0];
  } finally {
    await producer.disconnect();
  }
  return { messages, bytes, seconds: (performance.now() - started) / 1000 };
}
