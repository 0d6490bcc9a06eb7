import { topologyOf } from '@streamtrain/amqp';
import { createMetricsRegistry } from '@streamtrain/observability';
import type { Logger } from '@streamtrain/observability';
import { connectionOptionsFrom, createEventService } from '@streamtrain/service-kit';
import { PostgresPipelineStore } from '@streamtrain/warehouse';
import type { EventService } from '@streamtrain/service-kit';
import type { PipelineConfig } from './config';
import { createPipelineMetrics } from './adapters/pipeline-metrics';
import { createBatchArrivedHandler } from './entry-points/batch-arrived-handler';
import type { PipelineStore } from './domain/pipeline-store';
import { PipelineFeatureState } from './domain/pipeline-feature-state';

const DAY_MS = 86_400_000;

/** RabbitMQ `batch.arrived` → warehouse → point-in-time features and examples → `features.ready`. */
export function createPipelineService(
  config: PipelineConfig,
  logger: Logger,
  onFatal: (error: Error) => void,
): EventService {
  const registry = createMetricsRegistry('pipeline');
  const metrics = createPipelineMetrics(registry);
  const topology = topologyOf(config.AMQP_EXCHANGE).pipeline;
  return createEventService({
    name: 'pipeline',
    logger,
    registry,
    onFatal,
    ...connectionOptionsFrom(config),
    outboxTable: 'pipeline_outbox',
    consume: ({ pool, wakeRelay }) => {
      const store: PipelineStore = new PostgresPipelineStore(pool);
      const featureState = new PipelineFeatureState({
        slackMs: config.PIPELINE_STATE_SLACK_DAYS * DAY_MS,
        checkpointEveryMs: config.PIPELINE_STATE_CHECKPOINT_SECONDS * 1000,
      });
      return Promise.resolve({
        queue: topology.queue,
        routingKeys: topology.routingKeys,
        handler: createBatchArrivedHandler({
          store,
          featureState,
          maturityMs: config.PIPELINE_MATURITY_DAYS * DAY_MS,
          maxGroup: config.AMQP_PREFETCH,
          metrics,
          logger: logger.child({ component: 'batch-arrived' }),
          onEventEnqueued: wakeRelay,
        }),
      });
    },
  });
}
