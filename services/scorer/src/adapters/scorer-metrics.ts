import { Counter, Gauge, Histogram } from '@streamtrain/observability';
import type { Registry } from '@streamtrain/observability';
import type { VersionQuality } from '../domain/live-quality';

/** Everything the scorer counts. */
export interface ScorerMetrics {
  scored: Counter<'path'>;
  skipped: Counter<'reason'>;
  scoreSeconds: Histogram<'path'>;
  httpRequests: Counter<'route' | 'status'>;
  modelLoads: Counter<'outcome'>;
}

/** Values the gauges read when scraped. */
export interface ScorerGaugeSources {
  quality: () => readonly VersionQuality[];
  modelVersion: () => number;
  stateTransactions: () => number;
  stateLabels: () => number;
  qualityPending: () => number;
}

/** Registers the scorer metrics on `registry`; the gauges read `sources` on scrape. */
export function createScorerMetrics(
  registry: Registry,
  sources: ScorerGaugeSources,
): ScorerMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  gauge(
    'streamtrain_scorer_model_version',
    'Registry number of the model version serving (0 before the first champion).',
    sources.modelVersion,
  );
  gauge(
    'streamtrain_scorer_state_transactions',
    'Transactions held in the online feature state.',
    sources.stateTransactions,
  );
  gauge(
    'streamtrain_scorer_state_labels',
    'Labels held in the online feature state.',
    sources.stateLabels,
  );
  gauge(
    'streamtrain_scorer_quality_pending',
    'Served scores waiting for their label to mature.',
    sources.qualityPending,
  );
  const live = (name: string, help: string, pick: (q: VersionQuality) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['model_version'],
      registers,
      collect() {
        this.reset();
        for (const row of sources.quality()) {
          const value = pick(row);
          if (value !== null) this.set({ model_version: String(row.modelVersion) }, value);
        }
      },
    });
  };
  live(
    'streamtrain_scorer_live_auc',
    'ROC AUC of the scores served by a model version, over its rolling window of matured labels.',
    (q) => q.auc,
  );
  live(
    'streamtrain_scorer_live_average_precision',
    'Average precision of the scores served by a model version, over its rolling window.',
    (q) => q.averagePrecision,
  );
  live(
    'streamtrain_scorer_live_card_precision_at_100',
    'Card precision at 100 per day of the scores served by a model version, over its rolling window.',
    (q) => q.cardPrecisionAt100,
  );
  live(
    'streamtrain_scorer_live_examples',
    'Matured scores in the rolling live-quality window of a model version.',
    (q) => q.examples,
  );
  return {
    scored: new Counter({
      name: 'streamtrain_scorer_scored_total',
      help: 'Transactions scored, by path (stream, http).',
      labelNames: ['path'],
      registers,
    }),
    skipped: new Counter({
      name: 'streamtrain_scorer_skipped_total',
      help: 'Stream messages not scored, by reason (ingest dead-letters them).',
      labelNames: ['reason'],
      registers,
    }),
    scoreSeconds: new Histogram({
      name: 'streamtrain_scorer_score_duration_seconds',
      help: 'Time to compute features and scores of one stream batch or HTTP request.',
      labelNames: ['path'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    httpRequests: new Counter({
      name: 'streamtrain_scorer_http_requests_total',
      help: 'Scoring API requests, by route and status code.',
      labelNames: ['route', 'status'],
      registers,
    }),
    modelLoads: new Counter({
      name: 'streamtrain_scorer_model_loads_total',
      help: 'Champion loads, by outcome (loaded, refused).',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
