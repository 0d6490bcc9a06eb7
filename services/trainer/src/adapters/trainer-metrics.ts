import { Counter, Gauge, Histogram } from '@streamtrain/observability';
import type { Registry } from '@streamtrain/observability';

/** Everything the trainer counts. */
export interface TrainerMetrics {
  versions: Counter<'outcome'>;
  skipped: Counter<'reason'>;
  samples: Counter;
  trainSeconds: Histogram;
  championAp: Gauge;
  candidateAp: Gauge;
}

/** Registers the trainer metrics on `registry`. */
export function createTrainerMetrics(registry: Registry): TrainerMetrics {
  const registers = [registry];
  return {
    versions: new Counter({
      name: 'streamtrain_trainer_versions_total',
      help: 'Model versions registered, by gate outcome (promoted, rejected).',
      labelNames: ['outcome'],
      registers,
    }),
    skipped: new Counter({
      name: 'streamtrain_trainer_skipped_batches_total',
      help: 'features.ready events that trained nothing, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    samples: new Counter({
      name: 'streamtrain_trainer_samples_total',
      help: 'Examples trained on.',
      registers,
    }),
    trainSeconds: new Histogram({
      name: 'streamtrain_trainer_train_duration_seconds',
      help: 'Time of one warm-started training step, gate included.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    championAp: new Gauge({
      name: 'streamtrain_trainer_champion_average_precision',
      help: 'Average precision of the champion on the latest gate holdout.',
      registers,
    }),
    candidateAp: new Gauge({
      name: 'streamtrain_trainer_candidate_average_precision',
      help: 'Average precision of the latest candidate on the gate holdout.',
      registers,
    }),
  };
}
