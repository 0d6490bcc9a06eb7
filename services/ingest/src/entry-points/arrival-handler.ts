import type { BatchHandler, KafkaProducer } from '@streamtrain/kafka';
import { retry } from '@streamtrain/observability';
import type { Logger } from '@streamtrain/observability';
import type { Pool } from '@streamtrain/warehouse';
import { classifyMessages } from '../domain/arrival-batch';
import type { DeadLetter, SourceMessage } from '../domain/arrival-batch';
import type { IngestMetrics } from '../adapters/ingest-metrics';
import { sendDeadLetters } from '../adapters/dead-letter-sink';
import { writeBatchRejectingBadRows } from '../adapters/batch-writer';
import type { BatchWrite } from '../adapters/batch-writer';

/** What the arrival handler needs. */
export interface ArrivalHandlerDeps {
  pool: Pool;
  deadLetterProducer: KafkaProducer;
  deadLetterTopic: string;
  labelsTopic: string;
  maxBatchMessages: number;
  maxFutureSkewMs: number;
  metrics: IngestMetrics;
  logger: Logger;
  /** Told after each commit that enqueued an event, so the relay publishes it at once. */
  onEventEnqueued: () => void;
  /** Wall clock, for the future-timestamp check. @default Date.now */
  now?: () => number;
  /** Retries of one warehouse write (at most 2 s apart) before the batch is handed back to kafkajs. @default 15 */
  writeRetries?: number;
}

/** An arrival handler and what readiness needs to know of it. */
export interface ArrivalHandler {
  handle: BatchHandler;
  /**
   * Partitions whose batch has been failing since before `sinceMs` (wall clock), as
   * `topic:partition`: a readiness check reports them rather than answering 200 over a stuck
   * partition.
   */
  failingPartitions(sinceMs: number): string[];
}

/**
 * Handles one fetched partition batch: validates, dead-letters the bad messages (before the
 * offsets move past them), writes the rest and the arrival event in one warehouse transaction,
 * and only then commits the Kafka offsets. A row the warehouse refuses is dead-lettered with the
 * warehouse's reason and the rest lands. A batch larger than `maxBatchMessages` is written in
 * several transactions, each committed as it goes, with heartbeats in between; a batch whose
 * partition was revoked meanwhile is dropped (its new owner redoes it, idempotently).
 */
export function createArrivalHandler(deps: ArrivalHandlerDeps): ArrivalHandler {
  const now = deps.now ?? Date.now;
  const failingSince = new Map<string, number>();
  const deadLetter = async (
    topic: string,
    letters: readonly DeadLetter[],
    batchId: string,
  ): Promise<void> => {
    if (letters.length === 0) return;
    await sendDeadLetters(deps.deadLetterProducer, deps.deadLetterTopic, letters, {
      onTruncated: (letter, originalBytes) => {
        deps.metrics.truncatedDeadLetters.inc();
        deps.logger.warn(
          { deadLetter: letter.reason, batchId, originalBytes },
          'dead-letter topic refused the full value; sent a truncated copy',
        );
      },
    });
    for (const letter of letters) {
      deps.metrics.deadLetters.inc({ topic, code: letter.reason.code });
      // Nested: the reason carries `service`, which the logger already binds.
      deps.logger.warn({ deadLetter: letter.reason, batchId }, 'message dead-lettered');
    }
    deps.metrics.messages.inc({ topic, outcome: 'dead_lettered' }, letters.length);
  };
  const handle: BatchHandler = async (batch, control) => {
    const partitionKey = `${batch.topic}:${batch.partition}`;
    for (let start = 0; start < batch.messages.length; start += deps.maxBatchMessages) {
      if (control.isStale()) {
        deps.logger.info(
          { topic: batch.topic, partition: batch.partition },
          'partition revoked; dropping the rest of the batch',
        );
        return;
      }
      const chunk = batch.messages.slice(start, start + deps.maxBatchMessages);
      const endTimer = deps.metrics.batchSeconds.startTimer();
      const messages: SourceMessage[] = chunk.map((message) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
      }));
      const nowMs = now();
      const classified = classifyMessages(messages, {
        labelsTopic: deps.labelsTopic,
        maxFutureSkewMs: deps.maxFutureSkewMs,
        nowMs,
        service: 'ingest',
      });
      await deadLetter(batch.topic, classified.deadLetters, classified.batchId);
      const attempt = async (bail: (error: Error) => void): Promise<BatchWrite> => {
        // Heartbeats between attempts keep the membership while the warehouse is away (a
        // restart): the session timeout is short so that a crashed member is replaced fast.
        await control.heartbeat().catch(() => undefined);
        if (control.isStale()) bail(new Error('partition revoked during retries'));
        return writeBatchRejectingBadRows(deps.pool, classified, messages, {
          nowMs,
          service: 'ingest',
        });
      };
      const write = await retry(attempt, {
        retries: deps.writeRetries ?? 15,
        maxDelayMs: 2_000,
        onRetry: (error, attempt, delayMs) => {
          if (!failingSince.has(partitionKey)) failingSince.set(partitionKey, now());
          deps.metrics.batchFailures.inc();
          deps.logger.warn(
            { err: error, attempt, delayMs, batchId: classified.batchId },
            'warehouse write failed; retrying',
          );
        },
      }).catch((error: unknown) => {
        // A partition that moved to another member is no longer this one's to report stuck.
        if (control.isStale()) failingSince.delete(partitionKey);
        throw error;
      });
      failingSince.delete(partitionKey);
      await deadLetter(batch.topic, write.rejected, classified.batchId);
      const { result } = write;
      const lastOffset = chunk[chunk.length - 1]?.offset;
      if (lastOffset !== undefined) await control.commit(lastOffset);
      if (result.event !== null) {
        deps.metrics.batchesWritten.inc();
        deps.onEventEnqueued();
        // The batch id on this line is the one pipeline and trainer log: one batch can be
        // followed through the three services.
        deps.logger.info(
          {
            batchId: classified.batchId,
            topic: batch.topic,
            partition: batch.partition,
            transactions: result.insertedTransactions,
            labels: result.insertedLabels,
            lastOffset,
          },
          'arrival batch landed',
        );
      }
      if (result.correctedLabels > 0) {
        deps.metrics.labelCorrections.inc(result.correctedLabels);
        deps.logger.info(
          { batchId: classified.batchId, corrected: result.correctedLabels },
          'labels corrected by a later verdict',
        );
      }
      if (result.conflicts > 0) {
        deps.metrics.conflicts.inc(result.conflicts);
        deps.logger.warn(
          { batchId: classified.batchId, conflicts: result.conflicts },
          'transaction ids seen before with other content; first version kept, conflicts recorded',
        );
      }
      const valid =
        classified.transactions.length + classified.labels.length - write.rejected.length;
      const landed = result.insertedTransactions + result.insertedLabels + result.correctedLabels;
      deps.metrics.messages.inc({ topic: batch.topic, outcome: 'landed' }, landed);
      deps.metrics.messages.inc({ topic: batch.topic, outcome: 'duplicate' }, valid - landed);
      deps.metrics.batchMessages.observe(chunk.length);
      endTimer();
      await control.heartbeat();
    }
  };
  return {
    handle,
    failingPartitions: (sinceMs) =>
      [...failingSince].filter(([, since]) => since <= sinceMs).map(([key]) => key),
  };
}
