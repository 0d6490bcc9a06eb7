import { DEFAULT_NAMES } from '@streamtrain/contracts';
import { setTimeout as delay } from 'node:timers/promises';
import type { SimulatedEvent } from '../events';
import type { ProgressMeter, ProgressSnapshot } from '../progress';
import { toKafkaRecord } from './kafka-records';
import type { KeyedMessage } from './kafka-records';
import { TokenBucket } from './token-bucket';

/** Sends messages to one topic; resolves once the broker has them (e.g. the Kafka producer's send). */
export type SendBatch = (topic: string, messages: KeyedMessage[]) => Promise<void>;

/** Wall-clock time for pacing. Tests pass a virtual one. */
export interface PublishClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: PublishClock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, { signal });
    } catch (error) {
      if (signal?.aborted !== true) throw error;
    }
  },
};

/** Options of {@link publishEvents}. */
export interface PublishOptions {
  /** Sends one topic's share of a batch. */
  readonly send: SendBatch;
  /** Most messages per batch. With `ratePerSecond`, batches shrink to a tenth of a second's worth. @default 1000 */
  readonly batchSize?: number;
  /** Events per second, paced by wall clock. @default unlimited: as fast as the broker takes them */
  readonly ratePerSecond?: number;
  /** Stop after this many events (transactions and labels). @default unlimited */
  readonly limit?: number;
  /** Aborting stops pulling events; the batch in hand is still sent. */
  readonly signal?: AbortSignal;
  /** @default 'tx.labels' */
  readonly labelsTopic?: string;
  /** Put before every topic name (e.g. `trial.` gives `trial.tx.web`). @default '' */
  readonly topicPrefix?: string;
  /** Counts the events; its snapshots go to `onProgress`. */
  readonly progress?: ProgressMeter;
  /** Receives a snapshot about once per progress interval. */
  readonly onProgress?: (snapshot: ProgressSnapshot) => void;
  /** @default systemClock */
  readonly clock?: PublishClock;
}

/** What {@link publishEvents} did. */
export interface PublishSummary {
  /** Events sent. */
  readonly events: number;
  /** Batches sent (one or more `send` calls each, one per topic). */
  readonly batches: number;
  /** Why it stopped: the stream ended, the limit was reached, or the signal aborted. */
  readonly stoppedBy: 'end' | 'limit' | 'signal';
}

/**
 * Publishes a simulation's merged stream in batches grouped by topic, optionally paced. Within a
 * batch the transaction topics are sent before the labels topic: a label always follows its
 * transaction in the stream, so it never reaches the broker first.
 */
export async function publishEvents(
  events: Iterable<SimulatedEvent>,
  options: PublishOptions,
): Promise<PublishSummary> {
  const { send, signal, limit, ratePerSecond, progress, onProgress } = options;
  const clock = options.clock ?? systemClock;
  const topicPrefix = options.topicPrefix ?? '';
  const labelsTopic = options.labelsTopic ?? DEFAULT_NAMES.labelsTopic;
  const prefixedLabelsTopic = topicPrefix + labelsTopic;
  const maxBatch = options.batchSize ?? 1000;
  const batchSize =
    ratePerSecond === undefined
      ? maxBatch
      : Math.max(1, Math.min(maxBatch, Math.ceil(ratePerSecond / 10)));
  const bucket =
    ratePerSecond === undefined
      ? undefined
      : new TokenBucket(ratePerSecond, batchSize, clock.now());

  let batch = new Map<string, KeyedMessage[]>();
  let inBatch = 0;
  let sent = 0;
  let batches = 0;

  const flush = async (): Promise<void> => {
    if (inBatch === 0) return;
    const wait = bucket?.reserve(inBatch, clock.now()) ?? 0;
    if (wait > 0 && signal?.aborted !== true) await clock.sleep(wait, signal);
    const labels = batch.get(prefixedLabelsTopic);
    for (const [topic, messages] of batch) {
      if (topic !== prefixedLabelsTopic) await send(topic, messages);
    }
    if (labels !== undefined) await send(prefixedLabelsTopic, labels);
    sent += inBatch;
    batches += 1;
    batch = new Map();
    inBatch = 0;
    const snapshot = progress?.poll();
    if (snapshot !== undefined) onProgress?.(snapshot);
  };

  let stoppedBy: PublishSummary['stoppedBy'] = limit === 0 ? 'limit' : 'end';
  let pulled = 0;
  if (stoppedBy === 'end') {
    for (const event of events) {
      if (signal?.aborted === true) {
        stoppedBy = 'signal';
        break;
      }
      pulled += 1;
      const { topic, key, value } = toKafkaRecord(event, labelsTopic, topicPrefix);
      const messages = batch.get(topic);
      if (messages === undefined) batch.set(topic, [{ key, value }]);
      else messages.push({ key, value });
      inBatch += 1;
      const snapshot = progress?.record(event);
      if (snapshot !== undefined) onProgress?.(snapshot);
      if (inBatch >= batchSize) await flush();
      if (limit !== undefined && pulled >= limit) {
        stoppedBy = 'limit';
        break;
      }
    }
  }
  await flush();
  return { events: sent, batches, stoppedBy };
}
