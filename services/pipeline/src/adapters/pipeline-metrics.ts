import { Counter, Gauge, Histogram } from '@streamtrain/observability';
import type { Registry } from '@streamtrain/observability';

/** Everything the pipeline counts. */
export interface PipelineMetrics {
  batches: Counter;
  duplicates: Counter;
  features: Counter;
  examples: Counter;
  exampleCorrections: Counter<'to'>;
  batchSeconds: Histogram;
  watermark: Gauge;
  watermarkOutliers: Counter;
  stateTransactions: Gauge;
  checkpointSeconds: Histogram;
  featuresFromHistory: Counter;
}

/** Registers the pipeline metrics on `registry`. */
export function createPipelineMetrics(registry: Registry): PipelineMetrics {
  const registers = [registry];
  return {
    batches: new Counter({
      name: 'streamtrain_pipeline_batches_total',
      help: 'Arrival batches turned into features.',
      registers,
    }),
    duplicates: new Counter({
      name: 'streamtrain_pipeline_duplicate_batches_total',
      help: 'Redelivered batch events acknowledged without effect.',
      registers,
    }),
    features: new Counter({
      name: 'streamtrain_pipeline_features_total',
      help: 'Feature vectors computed and stored.',
      registers,
    }),
    examples: new Counter({
      name: 'streamtrain_pipeline_examples_total',
      help: 'Training examples matured (label known) or corrected.',
      registers,
    }),
    exampleCorrections: new Counter({
      name: 'streamtrain_pipeline_example_corrections_total',
      help: 'Training examples re-labelled: to fraud by a late fraud label, to genuine by a later "not fraud" verdict (a reversed chargeback).',
      labelNames: ['to'],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'streamtrain_pipeline_batch_duration_seconds',
      help: 'Time to compute and store one batch of features.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    watermark: new Gauge({
      name: 'streamtrain_pipeline_watermark_seconds',
      help: 'Event-time watermark (Unix seconds): the latest event time seen.',
      registers,
    }),
    watermarkOutliers: new Counter({
      name: 'streamtrain_pipeline_watermark_outliers_total',
      help: 'Events too far ahead of the stream to move the watermark (stored and featurised all the same).',
      registers,
    }),
    stateTransactions: new Gauge({
      name: 'streamtrain_pipeline_state_transactions',
      help: 'Transactions held by the incremental feature state (the look-back and its slack).',
      registers,
    }),
    checkpointSeconds: new Histogram({
      name: 'streamtrain_pipeline_state_checkpoint_duration_seconds',
      help: 'Time to write a checkpoint of the feature state to the warehouse.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    featuresFromHistory: new Counter({
      name: 'streamtrain_pipeline_features_from_history_total',
      help: 'Feature vectors computed from raw history rows: late transactions older than the feature state covers.',
      registers,
    }),
  };
}
