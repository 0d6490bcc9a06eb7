import { topologyOf } from '@streamtrain/amqp';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { ReplayBuffer, gateCandidate, loadBackend, statisticalGate } from '@streamtrain/model';
import { createMetricsRegistry } from '@streamtrain/observability';
import type { Logger } from '@streamtrain/observability';
import { ContinuousTrainer, metricsGate, replayBufferComposer } from '@streamtrain/training';
import type { Example } from '@streamtrain/training';
import { PostgresTrainerStore, listModelVersions } from '@streamtrain/warehouse';
import { connectionOptionsFrom, createEventService } from '@streamtrain/service-kit';
import type { EventService } from '@streamtrain/service-kit';
import type { TrainerConfig } from './config';
import { createTrainerMetrics } from './adapters/trainer-metrics';
import { createFeaturesReadyHandler } from './entry-points/features-ready-handler';
import { fraudModelFactory } from './adapters/fraud-model-factory';

/** RabbitMQ `features.ready` → warm-started tfjs step → gate → registry → `model.published`. */
export function createTrainerService(
  config: TrainerConfig,
  logger: Logger,
  onFatal: (error: Error) => void,
): EventService {
  const registry = createMetricsRegistry('trainer');
  const metrics = createTrainerMetrics(registry);
  const topology = topologyOf(config.AMQP_EXCHANGE).trainer;
  let trainer: ContinuousTrainer | undefined;
  return createEventService({
    name: 'trainer',
    logger,
    registry,
    onFatal,
    ...connectionOptionsFrom(config),
    outboxTable: 'trainer_outbox',
    beforeStop: [
      {
        name: 'finish the training step in hand',
        run: async () => {
          await trainer?.idle();
        },
      },
    ],
    async consume({ pool, wakeRelay, http }) {
      const { backend } = await loadBackend({
        preferred: config.TFJS_BACKEND,
        logger: logger.child({ component: 'tfjs' }),
      });
      http.get('/v1/models', async () => ({
        modelName: config.TRAINER_MODEL_NAME,
        versions: await listModelVersions(pool, config.TRAINER_MODEL_NAME, 50),
      }));
      const gate = {
        minExamples: config.TRAINER_GATE_MIN_EXAMPLES,
        minPositives: config.TRAINER_GATE_MIN_POSITIVES,
        maxApDrop: config.TRAINER_GATE_MAX_AP_DROP,
      };
      const continuous = new ContinuousTrainer(
        new PostgresTrainerStore(pool, config.TRAINER_MODEL_NAME, featureNames().length),
        fraudModelFactory(config.TRAINER_SEED),
        {
          featureSetVersion: FEATURE_SET_VERSION,
          backend,
          fit: {
            epochs: config.TRAINER_EPOCHS,
            batchSize: config.TRAINER_BATCH_SIZE,
            positiveWeight: config.TRAINER_POSITIVE_WEIGHT,
            shuffleSeed: config.TRAINER_SEED,
          },
          holdoutSize: config.TRAINER_HOLDOUT_SIZE,
          minExamples: config.TRAINER_MIN_EXAMPLES,
          gate:
            config.TRAINER_GATE === 'bootstrap'
              ? statisticalGate({
                  ...gate,
                  confidence: config.TRAINER_GATE_CONFIDENCE,
                  replicates: config.TRAINER_GATE_REPLICATES,
                  seed: config.TRAINER_SEED,
                })
              : metricsGate((candidate, champion) => gateCandidate(candidate, champion, gate)),
          warmStartFrom: config.TRAINER_WARM_START_FROM,
          holdoutSettledMs: config.TRAINER_HOLDOUT_SETTLED_DAYS * 86_400_000,
          ...(config.TRAINER_REPLAY_POSITIVES + config.TRAINER_REPLAY_RESERVOIR === 0
            ? {}
            : {
                composeTrainingSet: replayBufferComposer(
                  new ReplayBuffer<Example>({
                    maxPositives: config.TRAINER_REPLAY_POSITIVES,
                    reservoirSize: config.TRAINER_REPLAY_RESERVOIR,
                    seed: config.TRAINER_SEED,
                  }),
                ),
              }),
        },
      );
      trainer = continuous;
      return {
        queue: topology.queue,
        routingKeys: topology.routingKeys,
        handler: createFeaturesReadyHandler({
          trainer: continuous,
          metrics,
          logger: logger.child({ component: 'trainer' }),
          onEventEnqueued: wakeRelay,
        }),
      };
    },
  });
}
