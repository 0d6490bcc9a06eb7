import { Counter, Histogram } from '@streamtrain/observability';
import type { Registry } from '@streamtrain/observability';

/**
 * Everything the ingest service counts. Consumer lag is not among them: the console exports it,
 * once per group, from the brokers (docs/OPERATIONS.md, "Consumer lag").
 */
export interface IngestMetrics {
  messages: Counter<'topic' | 'outcome'>;
  deadLetters: Counter<'topic' | 'code'>;
  batchSeconds: Histogram;
  batchMessages: Histogram;
  batchesWritten: Counter;
  batchFailures: Counter;
  labelCorrections: Counter;
  conflicts: Counter;
  truncatedDeadLetters: Counter;
}

/** Registers the ingest metrics on `registry`. */
export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    messages: new Counter({
      name: 'streamtrain_ingest_messages_total',
      help: 'Messages consumed, by outcome: landed (new in the warehouse), duplicate (already there) or dead_lettered.',
      labelNames: ['topic', 'outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'streamtrain_ingest_dead_letters_total',
      help: 'Messages sent to the dead-letter topic, by error code.',
      labelNames: ['topic', 'code'],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'streamtrain_ingest_batch_duration_seconds',
      help: 'Time to validate, write and commit one batch.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchMessages: new Histogram({
      name: 'streamtrain_ingest_batch_messages',
      help: 'Messages in one warehouse write.',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    batchesWritten: new Counter({
      name: 'streamtrain_ingest_batches_total',
      help: 'Arrival batches written to the warehouse (each announced once on RabbitMQ).',
      registers,
    }),
    batchFailures: new Counter({
      name: 'streamtrain_ingest_batch_failures_total',
      help: 'Batch writes that failed and were retried.',
      registers,
    }),
    labelCorrections: new Counter({
      name: 'streamtrain_ingest_label_corrections_total',
      help: 'Labels revised by a later, opposite verdict for the same transaction (e.g. a reversed chargeback).',
      registers,
    }),
    conflicts: new Counter({
      name: 'streamtrain_ingest_transaction_conflicts_total',
      help: 'Transactions whose id was stored before with other content (recorded in transaction_conflicts; the first version is kept).',
      registers,
    }),
    truncatedDeadLetters: new Counter({
      name: 'streamtrain_ingest_dead_letters_truncated_total',
      help: 'Dead letters sent as a truncated copy because the dead-letter topic refused the full value.',
      registers,
    }),
  };
}
