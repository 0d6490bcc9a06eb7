import { ROUTING_KEYS, StreamtrainError } from '@streamtrain/contracts';
import type { ModelPublished } from '@streamtrain/contracts';
import { metricsOf, retrainOnWindow, underPin, versionIdFor } from '@streamtrain/training';
import type { GateVerdict } from '@streamtrain/training';
import { FEATURE_SET_VERSION, featureNames, historyRange } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import type { ModelMetrics } from '@streamtrain/model';
import {
  PostgresTrainerStore,
  REGISTRY_OUTBOX,
  enqueueOutbox,
  inTransaction,
  latestEventTime,
  readAlias,
  readIngestBatchOffsets,
  readLabelsKnownBy,
  readPromotionPin,
  readTransactionsBetween,
  readVersionArtifact,
  recordModelVersion,
} from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import {
  RetrainParams,
  buildDatasets,
  retrainGate,
  retrainVersionId,
  retrainWindows,
} from '../domain/retrain-policy';
import type { RetrainDatasets, RetrainWindows, RunLineage } from '../domain/retrain-policy';
import { scoreArtifact, trainCandidate } from '../training/model-training';
import type { WorkflowDefinition, WorkflowStep } from './workflow';

/** What the retrain steps need. */
export interface RetrainDeps {
  pool: Pool;
  modelName: string;
  backend: string;
  /** Publishes newly enqueued outbox events now. */
  wakeRelay: () => void;
  /** How long the publish step waits for the broker's confirm. @default 30000 */
  publishTimeoutMs?: number;
  now?: () => number;
}

/** The extract step's payload: the warehouse window, in the feature code's shape. */
export interface ExtractedWindow {
  windows: RetrainWindows;
  history: (FeatureInput & { batchId: string })[];
  labels: KnownLabel[];
}

interface TrainPayload {
  artifact: unknown;
  parentVersionId: string | null;
  samples: number;
}

interface EvaluateOutput {
  candidate: ModelMetrics;
  champion: ModelMetrics | null;
  championVersionId: string | null;
}

/** Both models' scores of the test window, for the gate strategy. */
interface EvaluatePayload {
  candidateScores: number[];
  championScores: number[] | null;
}

interface RegisterOutput {
  versionId: string;
  version: number;
  promoted: boolean;
  gateReason: string;
  eventId: string | null;
  /** `retrain-window`: the candidate's and the champion's holdout metrics. */
  metrics?: { candidate: ModelMetrics; champion: ModelMetrics | null };
}

const payloadOf = <T>(context: { payloads: ReadonlyMap<string, unknown> }, step: string): T =>
  context.payloads.get(step) as T;
const outputOf = <T>(context: { outputs: ReadonlyMap<string, unknown> }, step: string): T =>
  context.outputs.get(step) as T;

const anchor = (eventTimeMs: number): FeatureInput => ({
  transactionId: '',
  customerId: '',
  terminalId: '',
  amount: 0,
  eventTimeMs,
});

/** Reads the warehouse window a retrain needs: the windows' transactions, their look-back and labels. */
export async function extractWindow(pool: Pool, windows: RetrainWindows): Promise<ExtractedWindow> {
  const range = historyRange([anchor(windows.trainFromMs), anchor(windows.testToMs)]);
  const [transactions, labels] = await Promise.all([
    readTransactionsBetween(pool, range.fromMs, range.toMs),
    readLabelsKnownBy(pool, range.fromMs, range.toMs, windows.labelCutoffMs),
  ]);
  return { windows, history: transactions, labels };
}

/** The steps of a retrain: extract, transform, train, evaluate, gate, register, publish. */
export function retrainSteps(deps: RetrainDeps): WorkflowStep<RetrainParams>[] {
  const { pool } = deps;
  return [
    {
      name: 'extract',
      describeInput: (context) => ({ params: context.params }),
      async run(context) {
        const latest = await latestEventTime(pool);
        if (latest === null) {
          throw new StreamtrainError(
            'ORCHESTRATOR_STEP_FAILED',
            'the warehouse holds no transactions',
          );
        }
        const extracted = await extractWindow(pool, retrainWindows(latest, context.params));
        return {
          input: { latestEventTime: new Date(latest).toISOString() },
          output: {
            windows: Object.fromEntries(
              Object.entries(extracted.windows).map(([key, ms]: [string, number]) => [
                key,
                new Date(ms).toISOString(),
              ]),
            ),
            transactions: extracted.history.length,
            labels: extracted.labels.length,
          },
          payload: extracted,
        };
      },
    },
    {
      name: 'transform',
      describeInput: (context) => ({
        transactions: payloadOf<ExtractedWindow>(context, 'extract').history.length,
      }),
      run(context) {
        const extracted = payloadOf<ExtractedWindow>(context, 'extract');
        const datasets = buildDatasets(
          extracted.history,
          extracted.labels,
          extracted.windows,
          context.params,
        );
        const positives = (labels: readonly number[]) =>
          labels.reduce((sum, label) => sum + label, 0);
        return Promise.resolve({
          input: { transactions: extracted.history.length, featureSetVersion: FEATURE_SET_VERSION },
          output: {
            trainExamples: datasets.train.labels.length,
            trainPositives: positives(datasets.train.labels),
            testExamples: datasets.test.labels.length,
            testPositives: positives(datasets.test.labels),
            sourceBatches: datasets.sourceBatchIds.length,
          },
          payload: datasets,
        });
      },
    },
    {
      name: 'train',
      describeInput: (context) => ({
        warmStart: context.params.warmStart,
        examples: payloadOf<RetrainDatasets>(context, 'transform').train.labels.length,
      }),
      async run(context) {
        const datasets = payloadOf<RetrainDatasets>(context, 'transform');
        const champion = context.params.warmStart
          ? await readAlias(pool, deps.modelName, 'champion')
          : null;
        const candidate = await trainCandidate(
          datasets.train,
          champion?.artifact ?? null,
          context.params,
        );
        const parentVersionId = champion?.record.versionId ?? null;
        return {
          input: { parentVersionId, examples: datasets.train.labels.length },
          output: {
            parentVersionId,
            loss: candidate.loss,
            samples: candidate.samples,
            seconds: candidate.seconds,
            backend: deps.backend,
          },
          payload: {
            artifact: candidate.artifact,
            parentVersionId,
            samples: candidate.samples,
          } satisfies TrainPayload,
        };
      },
    },
    {
      name: 'evaluate',
      describeInput: (context) => ({
        testExamples: payloadOf<RetrainDatasets>(context, 'transform').test.labels.length,
      }),
      async run(context) {
        const { test } = payloadOf<RetrainDatasets>(context, 'transform');
        const { artifact } = payloadOf<TrainPayload>(context, 'train');
        const champion = await readAlias(pool, deps.modelName, 'champion');
        const candidateScores = await scoreArtifact(artifact, test);
        const championScores =
          champion === null ? null : await scoreArtifact(champion.artifact, test);
        const output: EvaluateOutput = {
          candidate: metricsOf(candidateScores, test.labels),
          champion: championScores === null ? null : metricsOf(championScores, test.labels),
          championVersionId: champion?.record.versionId ?? null,
        };
        const payload: EvaluatePayload = {
          candidateScores: Array.from(candidateScores),
          championScores: championScores === null ? null : Array.from(championScores),
        };
        return { input: { championVersionId: output.championVersionId }, output, payload };
      },
    },
    {
      name: 'gate',
      describeInput: (context) => outputOf<EvaluateOutput>(context, 'evaluate'),
      async run(context) {
        const evaluation = outputOf<EvaluateOutput>(context, 'evaluate');
        const scores = payloadOf<EvaluatePayload>(context, 'evaluate');
        const { test } = payloadOf<RetrainDatasets>(context, 'transform');
        const pin = await readPromotionPin(pool, deps.modelName);
        const decision = underPin(
          retrainGate(context.params.gate)({
            labels: test.labels,
            candidateScores: Float32Array.from(scores.candidateScores),
            championScores:
              scores.championScores === null ? null : Float32Array.from(scores.championScores),
            candidate: evaluation.candidate,
            champion: evaluation.champion,
          }),
          pin,
        );
        return {
          input: { policy: context.params.gate, pinned: pin !== null },
          output: { ...decision, pinned: pin !== null } satisfies GateVerdict & {
            pinned: boolean;
          },
        };
      },
    },
    {
      name: 'register',
      describeInput: (context) => ({ versionId: retrainVersionId(deps.modelName, context.runId) }),
      async run(context) {
        const versionId = retrainVersionId(deps.modelName, context.runId);
        const existing = await readVersionArtifact(pool, versionId);
        if (existing !== null) {
          // Registered before a crash: the step's effect is there; report it.
          const output: RegisterOutput = {
            versionId,
            version: existing.record.version,
            promoted: existing.record.status !== 'rejected',
            gateReason: existing.record.gateReason,
            eventId: existing.record.status !== 'rejected' ? `model:${versionId}` : null,
          };
          return { input: { versionId }, output };
        }
        const gate = outputOf<GateVerdict>(context, 'gate');
        const evaluation = outputOf<EvaluateOutput>(context, 'evaluate');
        const trained = payloadOf<TrainPayload>(context, 'train');
        const extracted = payloadOf<ExtractedWindow>(context, 'extract');
        const datasets = payloadOf<RetrainDatasets>(context, 'transform');
        const offsets = await readIngestBatchOffsets(pool, datasets.sourceBatchIds);
        const output = await inTransaction(pool, async (client): Promise<RegisterOutput> => {
          const champion = await readAlias(client, deps.modelName, 'champion');
          const championMoved =
            (champion?.record.versionId ?? null) !== evaluation.championVersionId;
          const promote = gate.promote && !championMoved;
          const gateReason = championMoved
            ? `the champion changed during the run (to ${champion?.record.versionId ?? 'none'}); kept`
            : gate.reason;
          const { windows, params } = { windows: extracted.windows, params: context.params };
          const lineage: RunLineage = {
            exampleSetIds: [],
            sourceBatchIds: datasets.sourceBatchIds,
            offsets,
            labelCutoff: new Date(windows.labelCutoffMs).toISOString(),
            featureSetVersion: FEATURE_SET_VERSION,
            parentVersionId: trained.parentVersionId,
            window: {
              from: new Date(windows.trainFromMs).toISOString(),
              to: new Date(windows.trainToMs).toISOString(),
            },
            run: {
              windows,
              training: {
                epochs: params.epochs,
                batchSize: params.batchSize,
                positiveWeight: params.positiveWeight,
                seed: params.seed,
                warmStart: params.warmStart,
              },
            },
          };
          // The registry has the last word (a pin set since the gate step keeps the champion).
          const recorded = await recordModelVersion(client, {
            versionId,
            modelName: deps.modelName,
            parentVersionId: trained.parentVersionId,
            promote,
            gateReason,
            metrics: evaluation.candidate,
            championMetrics: evaluation.champion,
            lineage,
            artifact: trained.artifact,
            backend: deps.backend,
            trainedSamples: trained.samples,
          });
          const { version, promoted } = recorded;
          let eventId: string | null = null;
          if (promoted) {
            eventId = `model:${versionId}`;
            const published: ModelPublished = {
              schemaVersion: 1,
              type: 'model.published',
              modelName: deps.modelName,
              versionId,
              version,
              parentVersionId: trained.parentVersionId,
              trainedOnBatches: [],
              metrics: evaluation.candidate,
              occurredAt: new Date((deps.now ?? Date.now)()).toISOString(),
            };
            await enqueueOutbox(client, REGISTRY_OUTBOX, {
              eventId,
              routingKey: ROUTING_KEYS.modelPublished,
              payload: published,
            });
          }
          return {
            versionId,
            version,
            promoted,
            gateReason: recorded.gateReason,
            eventId,
          };
        });
        if (output.promoted) deps.wakeRelay();
        return { input: { versionId, promote: gate.promote }, output };
      },
    },
    publishStep(deps),
  ];
}

/** Waits until the registered version's `model.published` is confirmed (when it was promoted). */
function publishStep(deps: RetrainDeps): WorkflowStep<RetrainParams> {
  const { pool } = deps;
  return {
    name: 'publish',
    describeInput: (context) => ({
      eventId: outputOf<RegisterOutput>(context, 'register').eventId,
    }),
    async run(context) {
      const registered = outputOf<RegisterOutput>(context, 'register');
      if (registered.eventId === null) {
        return {
          input: { eventId: null },
          output: { published: false, reason: 'not promoted: nothing to announce' },
        };
      }
      deps.wakeRelay();
      const deadline = performance.now() + (deps.publishTimeoutMs ?? 30_000);
      for (;;) {
        const { rows } = await pool.query<{ published_at: Date | null }>(
          `SELECT published_at FROM ${REGISTRY_OUTBOX} WHERE event_id = $1`,
          [registered.eventId],
        );
        const publishedAt = rows[0]?.published_at ?? null;
        if (publishedAt !== null) {
          return {
            input: { eventId: registered.eventId },
            output: {
              published: true,
              eventId: registered.eventId,
              publishedAt: publishedAt.toISOString(),
            },
          };
        }
        if (performance.now() > deadline) {
          throw new StreamtrainError(
            'BROKER_UNAVAILABLE',
            `model.published ${registered.eventId} not confirmed yet; the outbox keeps it`,
            { retriable: true },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/**
 * The steps of `retrain-window`: `retrainOnWindow` from `@streamtrain/training` (the batch policy
 * the quality evaluation's batch peers run) on the pipeline's matured examples of the training
 * window, judged on the trainer's holdout and registered in one commit; then publish.
 */
export function windowRetrainSteps(deps: RetrainDeps): WorkflowStep<RetrainParams>[] {
  const { pool } = deps;
  return [
    {
      name: 'register',
      describeInput: (context) => ({ params: context.params }),
      async run(context) {
        const latest = await latestEventTime(pool);
        if (latest === null) {
          throw new StreamtrainError(
            'ORCHESTRATOR_STEP_FAILED',
            'the warehouse holds no transactions',
          );
        }
        const windows = retrainWindows(latest, context.params);
        const window = {
          fromMs: windows.trainFromMs,
          toMs: windows.trainToMs + 1,
          labelCutoffMs: windows.labelCutoffMs,
        };
        const from = new Date(window.fromMs).toISOString();
        const to = new Date(window.toMs).toISOString();
        const input = { window: { from, to }, labelCutoff: new Date(latest).toISOString() };
        // The same window gives the same version id: registered before a crash, report it.
        const versionId = versionIdFor(deps.modelName, `window:${from}/${to}`);
        const existing = await readVersionArtifact(pool, versionId);
        if (existing !== null) {
          const promoted = existing.record.status !== 'rejected';
          const output: RegisterOutput = {
            versionId,
            version: existing.record.version,
            promoted,
            gateReason: existing.record.gateReason,
            eventId: promoted ? `model:${versionId}` : null,
          };
          return { input, output };
        }
        const { params } = context;
        const outcome = await retrainOnWindow(
          new PostgresTrainerStore(pool, deps.modelName, featureNames().length),
          {
            create: () => FraudModel.create(featureNames(), { seed: params.seed }),
            fromArtifact: (artifact) => FraudModel.fromArtifact(artifact),
          },
          {
            featureSetVersion: FEATURE_SET_VERSION,
            backend: deps.backend,
            fit: {
              epochs: params.epochs,
              batchSize: params.batchSize,
              positiveWeight: params.positiveWeight,
              shuffleSeed: params.seed,
            },
            holdoutSize: params.holdoutSize,
            gate: retrainGate(params.gate),
            ...(deps.now === undefined ? {} : { now: deps.now }),
          },
          window,
        );
        if (outcome === null) {
          throw new StreamtrainError(
            'ORCHESTRATOR_STEP_FAILED',
            `no matured training example in ${from} .. ${to}`,
          );
        }
        const output: RegisterOutput = {
          versionId: outcome.versionId,
          version: outcome.version,
          promoted: outcome.promoted,
          gateReason: outcome.reason,
          eventId: outcome.promoted ? `model:${outcome.versionId}` : null,
          metrics: { candidate: outcome.candidate, champion: outcome.champion },
        };
        if (outcome.promoted) deps.wakeRelay();
        return { input, output };
      },
    },
    publishStep(deps),
  ];
}

/** The workflows defined in code: the same steps, trained from scratch or warm-started. */
export const RETRAIN_WORKFLOWS = [
  {
    name: 'retrain',
    description:
      'Retrain from scratch on the latest handbook windows; gate against the champion; publish.',
    warmStart: false,
  },
  {
    name: 'retrain-warm',
    description: 'Warm-start the champion on the latest training window; gate; publish.',
    warmStart: true,
  },
  {
    name: 'retrain-window',
    description:
      "retrainOnWindow (libs/training) on the pipeline's matured examples of the training window; gate on the trainer's holdout; publish.",
    warmStart: false,
  },
] as const;

/** The workflows this orchestrator runs, with their steps bound to `deps`. */
export function retrainWorkflows(deps: RetrainDeps): WorkflowDefinition<RetrainParams>[] {
  const steps = retrainSteps(deps);
  const windowSteps = windowRetrainSteps(deps);
  const summarise = (outputs: ReadonlyMap<string, unknown>) => {
    const registered = outputs.get('register') as RegisterOutput | undefined;
    const evaluation = outputs.get('evaluate') as EvaluateOutput | undefined;
    return {
      versionId: registered?.versionId ?? null,
      promoted: registered?.promoted ?? null,
      gateReason: registered?.gateReason ?? null,
      metrics: evaluation ?? registered?.metrics ?? null,
    };
  };
  return RETRAIN_WORKFLOWS.map(({ name, description, warmStart }) => ({
    name,
    description,
    parseParams: (raw) => RetrainParams.parse({ warmStart, ...(raw as object) }),
    steps: name === 'retrain-window' ? windowSteps : steps,
    summarise,
  }));
}
