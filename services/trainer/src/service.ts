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
import { LeaderLease } from './adapters/leader-lease';
import { createFeaturesReadyHandler } from './entry-points/features-ready-handler';
import { registerModelsRoute } from './entry-points/models-route';
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
  let lease: LeaderLease | undefined;
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
      { name: 'release the trainer lease', run: () => lease?.release() },
    ],
    routes(http, pool) {
      // The registry is shown only with the token, like every route that shows it.
      registerModelsRoute(http, {
        token: config.TRAINER_API_TOKEN,
        list: async () => ({
          modelName: config.TRAINER_MODEL_NAME,
          versions: await listModelVersions(pool, config.TRAINER_MODEL_NAME, 50),
        }),
      });
    },
    async consume({ pool, wakeRelay }) {
      // One active trainer: a standby waits here until the active one stops or dies.
      lease = new LeaderLease({
        pool,
        name: `trainer:${config.WAREHOUSE_SCHEMA}:${config.TRAINER_MODEL_NAME}`,
        logger: logger.child({ component: 'lease' }),
        pollIntervalMs: config.TRAINER_LEASE_POLL_MS,
        onLost: onFatal,
      });
      const activeLease = lease;
      await activeLease.acquire();
      const { backend } = await loadBackend({
        preferred: config.TFJS_BACKEND,
        logger: logger.child({ component: 'tfjs' }),
      });
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
          weightAveraging: config.TRAINER_WEIGHT_AVERAGING,
          ...(config.TRAINER_WEIGHT_AVERAGING_BACKOFF_RATIO === 0
            ? {}
            : {
                weightAveragingBackoff: {
                  ratio: config.TRAINER_WEIGHT_AVERAGING_BACKOFF_RATIO,
                  steps: config.TRAINER_WEIGHT_AVERAGING_BACKOFF_STEPS,
                  consecutive: config.TRAINER_WEIGHT_AVERAGING_BACKOFF_CONSECUTIVE,
                },
              }),
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
        handler: leased(
          activeLease,
          createFeaturesReadyHandler({
            trainer: continuous,
            metrics,
            logger: logger.child({ component: 'trainer' }),
            onEventEnqueued: wakeRelay,
          }),
        ),
      };
    },
  });
}

/** Re-checks the lease before each delivery, whose training step may register and publish. */
function leased<E, V>(lease: LeaderLease, handler: (event: E) => Promise<V>) {
  return async (event: E): Promise<V> => {
    await lease.assertHeld();
    return handler(event);
  };
}
