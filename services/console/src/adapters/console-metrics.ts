import { Counter, Gauge, createKafkaLagMetrics } from '@streamtrain/observability';
import type { KafkaLagMetrics, Registry } from '@streamtrain/observability';

/** Everything the console exports besides Node's process metrics. */
export interface ConsoleMetrics {
  lag: KafkaLagMetrics;
  lastPromotion: Gauge<'model'>;
  championVersion: Gauge<'model'>;
  championLabelCutoff: Gauge<'model'>;
  championAveragePrecision: Gauge<'model'>;
  championAuc: Gauge<'model'>;
  labelLag: Gauge;
  watermarkDelay: Gauge;
  watermarkAge: Gauge;
  pipelineBacklog: Gauge;
  outboxBacklog: Gauge<'outbox'>;
  outboxOldestAge: Gauge<'outbox'>;
  deadLetters: Counter<'code' | 'source_topic'>;
  instancesUp: Gauge<'target_service'>;
  instancesConfigured: Gauge<'target_service'>;
}

/** Registers the console's metrics on `registry`. */
export function createConsoleMetrics(registry: Registry): ConsoleMetrics {
  const registers = [registry];
  return {
    lag: createKafkaLagMetrics(registry),
    lastPromotion: new Gauge({
      name: 'streamtrain_model_last_promotion_timestamp_seconds',
      help: 'When the current champion was promoted (Unix time); model staleness is time() minus this.',
      labelNames: ['model'],
      registers,
    }),
    championVersion: new Gauge({
      name: 'streamtrain_model_champion_version',
      help: 'Registry version number of the current champion.',
      labelNames: ['model'],
      registers,
    }),
    championLabelCutoff: new Gauge({
      name: 'streamtrain_model_champion_label_cutoff_timestamp_seconds',
      help: 'Event time of the newest label the champion was trained with (Unix time).',
      labelNames: ['model'],
      registers,
    }),
    championAveragePrecision: new Gauge({
      name: 'streamtrain_model_champion_average_precision',
      help: "The champion's Average Precision on its holdout when it was promoted.",
      labelNames: ['model'],
      registers,
    }),
    championAuc: new Gauge({
      name: 'streamtrain_model_champion_auc',
      help: "The champion's AUC ROC on its holdout when it was promoted.",
      labelNames: ['model'],
      registers,
    }),
    labelLag: new Gauge({
      name: 'streamtrain_label_lag_seconds',
      help: 'Event-time distance between the stream head and the label maturity frontier.',
      registers,
    }),
    watermarkDelay: new Gauge({
      name: 'streamtrain_pipeline_watermark_delay_seconds',
      help: "Event-time distance between the stream head and the pipeline's watermark.",
      registers,
    }),
    watermarkAge: new Gauge({
      name: 'streamtrain_pipeline_watermark_age_seconds',
      help: 'Wall-clock seconds since the pipeline last handled a batch (moved its watermark).',
      registers,
    }),
    pipelineBacklog: new Gauge({
      name: 'streamtrain_pipeline_backlog_batches',
      help: 'Ingest batches landed since the pipeline last handled one.',
      registers,
    }),
    outboxBacklog: new Gauge({
      name: 'streamtrain_outbox_backlog_events',
      help: 'Events in an outbox table not yet published to RabbitMQ.',
      labelNames: ['outbox'],
      registers,
    }),
    outboxOldestAge: new Gauge({
      name: 'streamtrain_outbox_oldest_event_age_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when none).',
      labelNames: ['outbox'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'streamtrain_dead_letters_total',
      help: 'Dead letters read from the dead-letter topic, by reason code and source topic (counted from the topic start at console start).',
      labelNames: ['code', 'source_topic'],
      registers,
    }),
    instancesUp: new Gauge({
      name: 'streamtrain_service_instances_up',
      help: 'Instances of a service answering /healthz, as the console probes them.',
      labelNames: ['target_service'],
      registers,
    }),
    instancesConfigured: new Gauge({
      name: 'streamtrain_service_instances_configured',
      help: 'Instances of a service the console is configured to probe.',
      labelNames: ['target_service'],
      registers,
    }),
  };
}
