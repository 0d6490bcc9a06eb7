import {
  FEATURE_SET_VERSION,
  featureNames,
  historyRange,
  toFeatureInput,
} from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { averagePrecision } from '@streamtrain/metrics';
import { FraudModel, ReplayBuffer, gateCandidate, statisticalGate } from '@streamtrain/model';
import type { GatePolicy, StatisticalGatePolicy } from '@streamtrain/model';
import {
  InMemoryPipelineStore,
  PipelineFeatureState,
  runPipelinePass,
} from '@streamtrain/pipeline';
import { createSimulation, eventTimeMs } from '@streamtrain/simulator';
import type { SimulatedEvent, SimulatorOptions } from '@streamtrain/simulator';
import {
  ContinuousTrainer,
  InMemoryTrainerStore,
  isHoldout,
  metricsGate,
  promoteEveryVersion,
  replayBufferComposer,
  retrainOnWindow,
} from '@streamtrain/training';
import type {
  AveragingBackoff,
  Example,
  FitOptions,
  GateStrategy,
  ModelAlias,
  ModelFactory,
  ReadyBatch,
  TrainableModel,
} from '@streamtrain/training';
import { FOLD_LOOKBACK_DAYS, hasValueIn } from './evaluation';
import type { KnownCardEvidence } from './evaluation';
import { ScoredLog } from './scored-log';
import { DAY_MS, simDayOf } from './sim-time';

/** How the event stream is cut into micro-batches: by event time, or by number of events. */
export type MicroBatch =
  | { readonly kind: 'time'; readonly ms: number }
  | { readonly kind: 'events'; readonly count: number };

/** The in-run batch peers, trained from scratch through `retrainOnWindow`. */
export interface PeerConfig {
  /** Days of matured examples each weekly retrain learns from (ending `maturityDays` before it). */
  readonly windowDays: number;
  /** The simulated day on which the frozen model is trained, on every matured example before it. */
  readonly frozenDay: number;
  /** Passes over the window's examples. */
  readonly epochs: number;
}

/** What a replay simulates and how it trains; the defaults live in `options.ts`. */
export interface ReplayConfig {
  /** The simulation (seed, population, days); the rest takes the simulator's defaults. */
  readonly simulation: SimulatorOptions;
  readonly microBatch: MicroBatch;
  /** The pipeline's maturity window (`PIPELINE_MATURITY_DAYS`). */
  readonly maturityDays: number;
  /** The trainer's `TRAINER_EPOCHS`, `TRAINER_BATCH_SIZE`, `TRAINER_POSITIVE_WEIGHT`, `TRAINER_SEED`. */
  readonly epochs: number;
  readonly batchSize: number;
  readonly positiveWeight: number;
  readonly modelSeed: number;
  /** The trainer's `TRAINER_MIN_EXAMPLES`. */
  readonly minTrainExamples: number;
  /** The trainer's `TRAINER_HOLDOUT_SIZE`. */
  readonly holdoutSize: number;
  /** The trainer's gate: the AP tolerance (`TRAINER_GATE=tolerance`) or the paired bootstrap. */
  readonly gate:
    | { readonly kind: 'tolerance'; readonly policy: GatePolicy }
    | { readonly kind: 'bootstrap'; readonly policy: StatisticalGatePolicy };
  /** The trainer's replay buffer (`TRAINER_REPLAY_*`); `null` trains on fresh examples only. */
  readonly replayBuffer: { readonly maxPositives: number; readonly reservoirSize: number } | null;
  /** The trainer's `TRAINER_WARM_START_FROM`. */
  readonly warmStartFrom: ModelAlias;
  /**
   * Adam's state at a warm start: `restore` (the trainer: the moments saved in the artifact) or
   * `reset` (a fresh optimizer every step, the trainer before it kept them; for the ablation).
   */
  readonly optimizerState: 'restore' | 'reset';
  /** The trainer's `TRAINER_HOLDOUT_SETTLED_DAYS`: gate only on settled holdout examples. */
  readonly holdoutSettledDays: number;
  /** The trainer's `TRAINER_WEIGHT_AVERAGING`. */
  readonly weightAveraging: number;
  /** The trainer's `TRAINER_WEIGHT_AVERAGING_BACKOFF_*`; `null`: always average. */
  readonly weightAveragingBackoff: AveragingBackoff | null;
  readonly peers: PeerConfig;
  /** Days of the rolling AP in progress lines. */
  readonly rollingDays: number;
}

/** Where a running replay is, for a progress line. */
export interface ReplayProgress {
  /** Simulated day being replayed, from 1. */
  readonly simDay: number;
  readonly simDays: number;
  readonly events: number;
  readonly transactions: number;
  /** Events per second of wall time since the previous report. */
  readonly eventsPerSecond: number;
  readonly championVersion: number | null;
  readonly versions: number;
  readonly promotions: number;
  readonly weeklyRetrains: number;
  readonly frozenTrained: boolean;
  /** AP of the last `rollingDays` days of scored transactions (recently labelled cards left out). */
  readonly rollingAp: number | null;
  readonly elapsedMs: number;
}

/** A version that became champion. */
export interface Promotion {
  readonly version: number;
  /** Event-time watermark when it was promoted. */
  readonly atMs: number;
  /** Simulated day of `atMs`, fractional. */
  readonly day: number;
}

/** Where the replay's wall time went, in seconds. */
export interface ReplayTimings {
  readonly simulation: number;
  readonly pipeline: number;
  readonly scoring: number;
  readonly training: number;
  readonly peers: number;
}

/** The scores of a batch peer over the same transactions. */
export interface PeerRun {
  readonly log: ScoredLog;
  readonly retrains: number;
  readonly firstDay: number | null;
}

/** Everything a replay observed. */
export interface ReplayResult {
  readonly log: ScoredLog;
  readonly frozen: PeerRun;
  readonly weekly: PeerRun;
  /** Ground truth and label reports per customer, to tell which cards were known compromised. */
  readonly knownCards: KnownCardEvidence;
  readonly startMs: number;
  readonly days: number;
  readonly events: number;
  readonly transactions: number;
  readonly frauds: number;
  readonly labels: number;
  /** Transactions that arrived before the first champion existed, so were never scored. */
  readonly unscored: number;
  readonly batches: number;
  readonly versions: number;
  readonly promotions: readonly Promotion[];
  readonly examples: {
    readonly total: number;
    readonly positives: number;
    readonly holdout: number;
    readonly corrected: number;
  };
  /** Micro-batches with no matured example, which the trainer records as `no-examples`. */
  readonly batchesWithoutExamples: number;
  /** Training examples still waiting for a step when the replay ended. */
  readonly pendingAtEnd: number;
  /** Candidates kept out, by the first words of the gate's reason. */
  readonly rejections: Readonly<Record<string, number>>;
  /** Steps averaged with their start version, and those whose averaging backed off. */
  readonly averaging: {
    readonly averaged: number;
    readonly backedOff: number;
    /** Per averaging step: its version, label cutoff day, share and losses (lineage). */
    readonly steps: readonly {
      readonly version: number;
      readonly day: number | null;
      readonly alpha: number;
      readonly freshFraudLoss: number | null;
      readonly referenceLoss: number | null;
    }[];
  };
  readonly timings: ReplayTimings;
}

const PROGRESS_INTERVAL_MS = 5000;

/** The gist of a gate's reason to keep the champion, so rejections can be counted by kind. */
function rejectionKind(reason: string): string {
  if (reason.includes('below the floor')) return 'AP more than the tolerance below the champion';
  if (reason.startsWith('no champion yet')) return 'no champion yet and the holdout too small';
  if (reason.includes('examples, fewer')) return 'too few holdout examples';
  if (reason.includes('positives, fewer')) return 'too few holdout frauds';
  return reason.replace(/\d+(\.\d+)?/g, 'N');
}

function trainerGate(gate: ReplayConfig['gate']): GateStrategy {
  if (gate.kind === 'bootstrap') return statisticalGate(gate.policy);
  return metricsGate((candidate, champion) => gateCandidate(candidate, champion, gate.policy));
}

function fraudModels(seed: number, optimizerState: 'restore' | 'reset'): ModelFactory {
  const names = featureNames();
  return {
    create: () => FraudModel.create(names, { seed }),
    fromArtifact: (artifact) => FraudModel.fromArtifact(artifact, { optimizerState }),
  };
}

/** One serving model of a registry in the replay, reloaded when its champion changes. */
class Serving {
  private model: TrainableModel | null = null;
  private versionId: string | null = null;
  version: number | null = null;

  constructor(
    private readonly store: InMemoryTrainerStore,
    private readonly models: ModelFactory,
  ) {}

  get ready(): boolean {
    return this.model !== null;
  }

  async refresh(): Promise<void> {
    const champion = await this.store.readAlias('champion');
    if (champion === null || champion.versionId === this.versionId) return;
    this.model?.dispose();
    this.model = await this.models.fromArtifact(champion.artifact);
    this.versionId = champion.versionId;
    this.version = champion.version;
  }

  predict(x: Float32Array): Float32Array | null {
    return this.model === null ? null : this.model.predict(x);
  }

  dispose(): void {
    this.model?.dispose();
  }
}

/**
 * Replays a simulation through the product's own code, in-process, with the in-memory stores:
 * the events in event-time order, cut into micro-batches, and for each batch
 *
 * 1. ingest: the batch lands in the in-memory warehouse;
 * 2. the pipeline: `runPipelinePass` computes point-in-time features, advances the watermark and
 *    matures examples, announcing `features.ready`;
 * 3. the scorer: the champion of the moment scores the batch's transactions on those features
 *    (and so do the batch peers' current models);
 * 4. the trainer: `ContinuousTrainer` accepts each announced batch and takes a step when due.
 *
 * The batch peers go through `retrainOnWindow`: the frozen model once on `frozenDay`, the weekly
 * model every 7 days from the first day its window is complete.
 */
export async function runReplay(
  config: ReplayConfig,
  onProgress?: (progress: ReplayProgress) => void,
): Promise<ReplayResult> {
  const simulation = createSimulation(config.simulation);
  const { startMs } = simulation;
  const days = simulation.config.days;
  const endMs = startMs + days * DAY_MS;
  const width = featureNames().length;
  const maturityMs = config.maturityDays * DAY_MS;
  const models = fraudModels(config.modelSeed, config.optimizerState);
  const fit: FitOptions = {
    epochs: config.epochs,
    batchSize: config.batchSize,
    positiveWeight: config.positiveWeight,
    shuffleSeed: config.modelSeed,
  };

  const warehouse = new InMemoryPipelineStore();
  const featureState = new PipelineFeatureState();
  const registry = new InMemoryTrainerStore('fraud', warehouse);
  const frozenRegistry = new InMemoryTrainerStore('frozen-peer', warehouse);
  const weeklyRegistry = new InMemoryTrainerStore('weekly-peer', warehouse);
  const trainer = new ContinuousTrainer(registry, models, {
    featureSetVersion: FEATURE_SET_VERSION,
    backend: 'replay',
    fit,
    holdoutSize: config.holdoutSize,
    minExamples: config.minTrainExamples,
    gate: trainerGate(config.gate),
    warmStartFrom: config.warmStartFrom,
    holdoutSettledMs: config.holdoutSettledDays * DAY_MS,
    weightAveraging: config.weightAveraging,
    ...(config.weightAveragingBackoff === null
      ? {}
      : { weightAveragingBackoff: config.weightAveragingBackoff }),
    ...(config.replayBuffer === null
      ? {}
      : {
          composeTrainingSet: replayBufferComposer(
            new ReplayBuffer<Example>({ ...config.replayBuffer, seed: config.modelSeed }),
          ),
        }),
  });
  const peerPolicy = {
    featureSetVersion: FEATURE_SET_VERSION,
    backend: 'replay',
    fit: { ...fit, epochs: config.peers.epochs },
    holdoutSize: config.holdoutSize,
    gate: promoteEveryVersion,
  };
  const champion = new Serving(registry, models);
  const frozen = new Serving(frozenRegistry, models);
  const weekly = new Serving(weeklyRegistry, models);

  const log = new ScoredLog();
  const frozenLog = new ScoredLog();
  const weeklyLog = new ScoredLog();
  const fraudDays = new Map<number, number[]>();
  const reportDays = new Map<number, number[]>();
  const promotions: Promotion[] = [];
  const rejections: Record<string, number> = {};
  const timings = { simulation: 0, pipeline: 0, scoring: 0, training: 0, peers: 0 };
  let batchesWithoutExamples = 0;
  let examplesTotal = 0;
  let versions = 0;
  let weeklyRetrains = 0;
  let frozenFirstDay: number | null = null;
  let weeklyFirstDay: number | null = null;
  let watermarkMs = Number.NEGATIVE_INFINITY;
  let announced = 0;
  let lastDay = -1;
  const counts = { events: 0, transactions: 0, frauds: 0, labels: 0, unscored: 0, batches: 0 };

  const started = performance.now();
  let lastReport = { at: started, events: 0 };
  const timedAsync = async <T>(key: keyof typeof timings, run: () => Promise<T>): Promise<T> => {
    const at = performance.now();
    try {
      return await run();
    } finally {
      timings[key] += (performance.now() - at) / 1000;
    }
  };

  const rollingAp = (day: number): number | null => {
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = log.firstIndexOfDay(day - config.rollingDays + 1); i < log.length; i += 1) {
      const row = log.row(i);
      if (hasValueIn(reportDays.get(row.customer), row.day - FOLD_LOOKBACK_DAYS, row.day)) continue;
      scores.push(row.score);
      labels.push(row.isFraud ? 1 : 0);
    }
    return averagePrecision(scores, labels);
  };

  const report = (day: number): void => {
    if (onProgress === undefined) return;
    const now = performance.now();
    const seconds = (now - lastReport.at) / 1000;
    onProgress({
      simDay: day + 1,
      simDays: days,
      events: counts.events,
      transactions: counts.transactions,
      eventsPerSecond: seconds > 0 ? (counts.events - lastReport.events) / seconds : 0,
      championVersion: champion.version,
      versions,
      promotions: promotions.length,
      weeklyRetrains,
      frozenTrained: frozen.ready,
      rollingAp: rollingAp(day),
      elapsedMs: now - started,
    });
    lastReport = { at: now, events: counts.events };
  };

  // The batch peers, on day boundaries: each window ends where maturity ends, so every example
  // in it has its final label.
  const retrainPeers = async (day: number): Promise<void> => {
    const dayStartMs = startMs + day * DAY_MS;
    const toMs = dayStartMs - maturityMs;
    if (day === config.peers.frozenDay && toMs > startMs) {
      const outcome = await retrainOnWindow(frozenRegistry, models, peerPolicy, {
        fromMs: startMs,
        toMs,
        labelCutoffMs: watermarkMs,
      });
      if (outcome !== null) {
        await frozen.refresh();
        frozenFirstDay = day;
      }
    }
    const fromMs = toMs - config.peers.windowDays * DAY_MS;
    const firstDay = config.maturityDays + config.peers.windowDays;
    if (fromMs >= startMs && (day - firstDay) % 7 === 0) {
      const outcome = await retrainOnWindow(weeklyRegistry, models, peerPolicy, {
        fromMs,
        toMs,
        labelCutoffMs: watermarkMs,
      });
      if (outcome !== null) {
        await weekly.refresh();
        weeklyRetrains += 1;
        weeklyFirstDay ??= day;
      }
    }
  };

  const score = (targets: readonly FeatureInput[], isFraud: readonly boolean[]): void => {
    const x = new Float32Array(targets.length * width);
    targets.forEach((tx, i) => {
      const values = warehouse.featuresOf(tx.transactionId);
      if (values !== undefined) x.set(values, i * width);
    });
    const scores = champion.predict(x);
    const frozenScores = frozen.predict(x);
    const weeklyScores = weekly.predict(x);
    targets.forEach((tx, i) => {
      const day = simDayOf(tx.eventTimeMs, startMs);
      const customer = log.customerOf(tx.customerId);
      frozenLog.customerOf(tx.customerId);
      weeklyLog.customerOf(tx.customerId);
      const fraud = isFraud[i] as boolean;
      counts.transactions += 1;
      if (fraud) {
        counts.frauds += 1;
        const list = fraudDays.get(customer);
        if (list === undefined) fraudDays.set(customer, [day]);
        else if (list[list.length - 1] !== day) list.push(day);
      }
      if (scores === null) counts.unscored += 1;
      else log.push({ day, customer, score: scores[i] as number, isFraud: fraud });
      if (frozenScores !== null) {
        frozenLog.push({ day, customer, score: frozenScores[i] as number, isFraud: fraud });
      }
      if (weeklyScores !== null) {
        weeklyLog.push({ day, customer, score: weeklyScores[i] as number, isFraud: fraud });
      }
    });
  };

  const processBatch = async (batch: readonly SimulatedEvent[]): Promise<void> => {
    counts.batches += 1;
    const batchId = `replay-${String(counts.batches).padStart(6, '0')}`;
    const targets: FeatureInput[] = [];
    const isFraud: boolean[] = [];
    const labels: KnownLabel[] = [];
    let latestMs = watermarkMs;
    for (const event of batch) {
      latestMs = Math.max(latestMs, eventTimeMs(event));
      if (event.kind === 'transaction') {
        targets.push(toFeatureInput(event.tx));
        isFraud.push(event.isFraud);
      } else {
        const label: KnownLabel = {
          transactionId: event.label.transactionId,
          isFraud: event.label.isFraud,
          reportedAtMs: Date.parse(event.label.reportedAt),
        };
        labels.push(label);
        if (label.isFraud) {
          const customer = log.customerOf(event.customerId);
          frozenLog.customerOf(event.customerId);
          weeklyLog.customerOf(event.customerId);
          const reportDay = (label.reportedAtMs - startMs) / DAY_MS;
          const reports = reportDays.get(customer);
          if (reports === undefined) reportDays.set(customer, [reportDay]);
          else reports.push(reportDay);
        }
      }
    }
    counts.labels += labels.length;
    warehouse.land(batchId, targets, labels);
    const pass = await timedAsync('pipeline', () =>
      runPipelinePass(warehouse, [batchId], {
        maturityMs,
        featureChunk: 100_000,
        featureState,
        now: () => latestMs,
      }),
    );
    watermarkMs = pass.watermarkMs ?? latestMs;
    examplesTotal += pass.examples;
    if (pass.examples === 0) batchesWithoutExamples += 1;
    if (targets.length > 0) {
      await timedAsync('scoring', () => Promise.resolve(score(targets, isFraud)));
    }
    const ready = warehouse.announcements().slice(announced);
    announced += ready.length;
    for (const event of ready) {
      const batchReady: ReadyBatch = {
        batchId: event.batchId,
        exampleCount: event.exampleCount,
        watermarkMs: event.watermark === null ? null : Date.parse(event.watermark),
      };
      await trainer.accept(batchReady);
      // The peers judge on the same holdout members; they train on windows, never on batches.
      const refs = event.exampleCount > 0 ? await warehouse.exampleRefs(event.batchId) : [];
      const holdout = refs.filter((ref) => isHoldout(ref.transactionId));
      for (const peer of [frozenRegistry, weeklyRegistry]) {
        await peer.acceptBatch({
          batchId: event.batchId,
          outcome: 'no-examples',
          trainingExamples: 0,
          holdout,
          watermarkMs: batchReady.watermarkMs,
        });
      }
    }
    const outcome = await timedAsync('training', () => trainer.trainIfDue());
    if (outcome.trained) {
      versions += 1;
      if (outcome.promoted) {
        await champion.refresh();
        promotions.push({
          version: outcome.version,
          atMs: watermarkMs,
          day: (watermarkMs - startMs) / DAY_MS,
        });
      } else {
        const kind = rejectionKind(outcome.reason);
        rejections[kind] = (rejections[kind] ?? 0) + 1;
      }
    }
  };

  const newDay = async (day: number): Promise<void> => {
    for (let d = lastDay + 1; d <= day; d += 1) {
      await timedAsync('peers', () => retrainPeers(d));
    }
    lastDay = day;
    // Nothing older than a future batch's feature look-back, the weekly window and (until the
    // frozen model is trained) the frozen window is read again.
    const lookBackMs = historyRange([{ ...probe, eventTimeMs: startMs + day * DAY_MS }]).fromMs;
    const windowMs = startMs + day * DAY_MS - maturityMs - (config.peers.windowDays + 1) * DAY_MS;
    if (day > config.peers.frozenDay) warehouse.forgetBefore(Math.min(lookBackMs, windowMs));
  };

  let batch: SimulatedEvent[] = [];
  let batchKey = Number.NaN;
  const events = simulation.events();
  for (;;) {
    const at = performance.now();
    const simulated = events.next();
    timings.simulation += (performance.now() - at) / 1000;
    if (simulated.done === true) break;
    const event = simulated.value;
    const timeMs = eventTimeMs(event);
    // Past the last day only late labels remain: nothing left to score.
    if (timeMs >= endMs) break;
    counts.events += 1;
    const key =
      config.microBatch.kind === 'time'
        ? Math.floor((timeMs - startMs) / config.microBatch.ms)
        : Math.floor((counts.events - 1) / config.microBatch.count);
    if (key !== batchKey && batch.length > 0) {
      await processBatch(batch);
      batch = [];
      const day = simDayOf(watermarkMs, startMs);
      if (day !== lastDay) await newDay(day);
      if (performance.now() - lastReport.at >= PROGRESS_INTERVAL_MS) report(day);
    }
    batchKey = key;
    batch.push(event);
  }
  if (batch.length > 0) await processBatch(batch);
  report(days - 1);
  champion.dispose();
  frozen.dispose();
  weekly.dispose();
  const pending = await registry.pendingBatches();
  const exampleCounts = warehouse.exampleCounts();

  return {
    log,
    frozen: { log: frozenLog, retrains: frozenFirstDay === null ? 0 : 1, firstDay: frozenFirstDay },
    weekly: { log: weeklyLog, retrains: weeklyRetrains, firstDay: weeklyFirstDay },
    knownCards: { fraudDays, reportDays },
    startMs,
    days,
    events: counts.events,
    transactions: counts.transactions,
    frauds: counts.frauds,
    labels: counts.labels,
    unscored: counts.unscored,
    batches: counts.batches,
    versions,
    promotions,
    examples: {
      total: examplesTotal - exampleCounts.corrected,
      positives: exampleCounts.positives,
      holdout: registry.holdoutMembers().length,
      corrected: exampleCounts.corrected,
    },
    batchesWithoutExamples,
    pendingAtEnd: pending.reduce((sum, b) => sum + b.trainingExamples, 0),
    rejections,
    averaging: averagingOf(registry, startMs),
    timings,
  };
}

function averagingOf(registry: InMemoryTrainerStore, startMs: number): ReplayResult['averaging'] {
  const steps = registry.versions().flatMap((version) => {
    const averaging = version.lineage.weightAveraging;
    if (averaging === undefined) return [];
    const cutoff = version.lineage.labelCutoff;
    const round = (value: number | null | undefined): number | null =>
      value === null || value === undefined ? null : Math.round(value * 1000) / 1000;
    return [
      {
        version: version.version,
        day:
          cutoff === null ? null : Math.round(((Date.parse(cutoff) - startMs) / DAY_MS) * 10) / 10,
        alpha: averaging.alpha,
        freshFraudLoss: round(averaging.freshFraudLoss),
        referenceLoss: round(averaging.referenceLoss),
      },
    ];
  });
  return {
    averaged: steps.filter((step) => step.alpha > 0).length,
    backedOff: steps.filter((step) => step.alpha === 0).length,
    steps,
  };
}

const probe: FeatureInput = {
  transactionId: 'probe',
  customerId: 'probe',
  terminalId: 'probe',
  amount: 0,
  eventTimeMs: 0,
};
