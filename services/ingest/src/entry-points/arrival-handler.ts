import type { BatchHandler, KafkaProducer } from '@streamtrain/kafka';
import { retry } from '@streamtrain/observability';
import type { Logger } from '@streamtrain/observability';
import { inTransaction, writeArrivalBatch } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { classifyMessages } from '../domain/arrival-batch';
import type { IngestMetrics } from '../adapters/ingest-metrics';
import { sendDeadLetters } from '../adapters/dead-letter-sink';

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
}

/**
 * Handles one fetched partition batch: validates, dead-letters the bad messages (before the
 * offsets move past them), writes the rest and the arrival event in one warehouse transaction,
 * and only then commits the Kafka offsets. A batch larger than `maxBatchMessages` is written in
 * several transactions, each committed as it goes, with heartbeats in between; a batch whose
 * partition was revoked meanwhile is dropped (its new owner redoes it, idempotently).
 */
export function createArrivalHandler(deps: ArrivalHandlerDeps): BatchHandler {
  const now = deps.now ?? Date.now;
  return async (batch, control) => {
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
      const classified = classifyMessages(
        chunk.map((message) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
        })),
        {
          labelsTopic: deps.labelsTopic,
          maxFutureSkewMs: deps.maxFutureSkewMs,
          nowMs: now(),
          service: 'ingest',
        },
      );
      if (classified.deadLetters.length > 0) {
        await sendDeadLetters(
          deps.deadLetterProducer,
          deps.deadLetterTopic,
          classified.deadLetters,
        );
        for (const letter of classified.deadLetters) {
          deps.metrics.deadLetters.inc({ topic: batch.topic, code: letter.reason.code });
          // Nested: the reason carries `service`, which the logger already binds.
          deps.logger.warn(
            { deadLetter: letter.reason, batchId: classified.batchId },
            'message dead-lettered',
          );
        }
        deps.metrics.messages.inc(
          { topic: batch.topic, outcome: 'dead_lettered' },
          classified.deadLetters.length,
        );
      }
      const result = await retry(
        (bail) => {
          if (control.isStale()) bail(new Error('partition revoked during retries'));
          return inTransaction(deps.pool, (client) => writeArrivalBatch(client, classified));
        },
        {
          retries: 6,
          onRetry: (error, attempt, delayMs) => {
            deps.metrics.batchFailures.inc();
            deps.logger.warn(
              { err: error, attempt, delayMs, batchId: classified.batchId },
              'warehouse write failed; retrying',
            );
          },
        },
      );
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
      const valid = classified.transactions.length + classified.labels.length;
      const landed = result.insertedTransactions + result.insertedLabels;
      deps.metrics.messages.inc({ topic: batch.topic, outcome: 'landed' }, landed);
      deps.metrics.messages.inc({ topic: batch.topic, outcome: 'duplicate' }, valid - landed);
      deps.metrics.batchMessages.observe(chunk.length);
      endTimer();
      await control.heartbeat();
    }
  };
}
