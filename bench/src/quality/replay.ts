import { computeFeatures, featureNames, historyRange, toFeatureInput } from '@streamtrain/features';
import type {
  FeatureInput,
  FeatureOptions,
  FeatureVector,
  KnownLabel,
} from '@streamtrain/features';
import { averagePrecision, rocAuc } from '@streamtrain/metrics';
import { FraudModel, ReplayBuffer, gateCandidate, gateOnHoldout } from '@streamtrain/model';
import type {
  GatePolicy,
  ModelArtifact,
  ModelMetrics,
  StatisticalGatePolicy,
} from '@streamtrain/model';
import { createSimulation, eventTimeMs } from '@streamtrain/simulator';
import type {
  LabelEvent,
  SimulatedEvent,
  SimulatorOptions,
  TransactionEvent,
} from '@streamtrain/simulator';
import { FOLD_LOOKBACK_DAYS, hasValueIn } from './evaluation';
import type { KnownCardEvidence } from './evaluation';
import { ExampleStore, HoldoutWindow, compareExamples } from './example-store';
import type { HoldoutEntry, StoredTransaction } from './example-store';
import { isHoldout } from './holdout';
import { RollingHistory } from './rolling-history';
import { ScoredLog } from './scored-log';
import { DAY_MS, simDayOf } from './sim-time';

/** How the event stream is cut into micro-batches: by event time, or by number of events. */
export type MicroBatch =
  | { readonly kind: 'time'; readonly ms: number }
  | { readonly kind: 'events'; readonly count: number };

/** What a replay simulates and how it trains; the defaults live in `options.ts`. */
export interface ReplayConfig {
  /** The simulation (seed, population, days); the rest takes the simulator's defaults. */
  readonly simulation: SimulatorOptions;
  readonly microBatch: MicroBatch;
  /** The pipeline's maturity window (`PIPELINE_MATURITY_DAYS`). */
  readonly maturityDays: number;
  /** How long a genuine example stays correctable by a late fraud label (replay only). */
  readonly correctionDays: number;
  /** The trainer's `TRAINER_EPOCHS`, `TRAINER_BATCH_SIZE`, `TRAINER_POSITIVE_WEIGHT`, `TRAINER_SEED`. */
  readonly epochs: number;
  readonly batchSize: number;
  readonly positiveWeight: number;
  readonly modelSeed: number;
  /**
   * `reset`: each batch warm-starts from the latest version's artifact, so Adam's moments start
   * over, as the trainer does; `keep`: the latest version stays in memory with its optimizer.
   */
  readonly optimizerState: 'reset' | 'artifact' | 'keep';
  /**
   * The trainer's `TRAINER_MIN_EXAMPLES`: batches' training examples wait until at least this many
   * are pending, then one step trains on all of them. (The trainer's wall-clock
   * `TRAINER_MAX_WAIT_MS` has no event-time counterpart and is not replayed.)
   */
  readonly minTrainExamples: number;
  /** The trainer's `TRAINER_HOLDOUT_SIZE`. */
  readonly holdoutSize: number;
  /** The trainer's gate policy. */
  readonly gate: GatePolicy;
  /** Days of the rolling AP in progress lines. */
  readonly rollingDays: number;
  /** Feature options (the label-profile window); the defaults when unset. */
  readonly featureOptions?: Partial<FeatureOptions>;
  /** A replay buffer mixed into every step (its contents added to the step's examples), or none. */
  readonly replay?: { readonly maxPositives: number; readonly reservoirSize: number };
  /** `gateOnHoldout` with this policy instead of `gateCandidate` with `gate`. */
  readonly statisticalGate?: StatisticalGatePolicy;
  /** What a step warm-starts from: the latest version (the trainer today) or the champion. */
  readonly warmStart?: 'latest' | 'champion';
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
  readonly features: number;
  readonly scoring: number;
  readonly training: number;
  readonly gate: number;
  readonly artifacts: number;
}

/** Everything a replay observed. */
export interface ReplayResult {
  readonly log: ScoredLog;
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
  readonly labelsTooLate: number;
  readonly timings: ReplayTimings;
}

const PROGRESS_INTERVAL_MS = 5000;

interface Champion {
  readonly model: FraudModel;
  readonly version: number;
}

function flatten(
  rows: readonly (ArrayLike<number> & Iterable<number>)[],
  width: number,
): Float32Array {
  const flat = new Float32Array(rows.length * width);
  rows.forEach((row, i) => flat.set(row, i * width));
  return flat;
}

/** What `FraudModel.evaluate` returns, from scores already computed. */
function metricsOf(scores: Float32Array, labels: readonly number[]): ModelMetrics {
  return {
    auc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    examples: labels.length,
    positives: labels.reduce((sum, label) => sum + label, 0),
  };
}

/** The gist of a gate's reason to keep the champion, so rejections can be counted by kind. */
function rejectionKind(reason: string): string {
  if (reason.includes('below the floor')) return 'AP more than the tolerance below the champion';
  if (reason.startsWith('no champion yet')) return 'no champion yet and the holdout too small';
  if (reason.includes('examples, fewer')) return 'too few holdout examples';
  if (reason.includes('positives, fewer')) return 'too few holdout frauds';
  return reason.replace(/\d+(\.\d+)?/g, 'N');
}

/**
 * Replays a simulation through the live system's logic, in-process: the events in event-time
 * order, cut into micro-batches, and for each batch what the scorer, the pipeline and the trainer
 * do with the same library code:
 *
 * 1. the champion of the moment scores the batch's transactions, on features computed point in
 *    time by `computeFeatures` from the rolling history and the labels reported so far;
 * 2. their features are stored;
 * 3. the watermark advances to the batch's latest event time and examples mature as
 *    `matureExamples` matures them;
 * 4. once the pending training examples reach `minTrainExamples`, the latest version is
 *    warm-started (with its optimizer state, or from its artifact so that
 *    Adam restarts as in the trainer: `optimizerState`), trained on the batch's non-holdout
 *    examples, measured with the champion on the most recent holdout examples, and promoted if
 *    `gateCandidate` says so.
 */
export async function runReplay(
  config: ReplayConfig,
  onProgress?: (progress: ReplayProgress) => void,
): Promise<ReplayResult> {
  const simulation = createSimulation(config.simulation);
  const { startMs } = simulation;
  const days = simulation.config.days;
  const endMs = startMs + days * DAY_MS;
  const featureOptions = config.featureOptions ?? {};
  const names = featureNames(featureOptions);
  const width = names.length;
  const maturityMs = config.maturityDays * DAY_MS;

  const history = new RollingHistory();
  const store = new ExampleStore({ maturityMs, correctionMs: config.correctionDays * DAY_MS });
  const holdout = new HoldoutWindow(config.holdoutSize);
  const log = new ScoredLog();
  const fraudDays = new Map<number, number[]>();
  const reportDays = new Map<number, number[]>();
  const promotions: Promotion[] = [];
  const rejections: Record<string, number> = {};
  const timings = { simulation: 0, features: 0, scoring: 0, training: 0, gate: 0, artifacts: 0 };
  const examples = { total: 0, positives: 0, holdout: 0, corrected: 0 };
  let batchesWithoutExamples = 0;
  // Training examples of the batches waiting for a step, as `trainer_batches` rows marked pending.
  const pending = new Set<StoredTransaction>();
  let champion: Champion | null = null;
  let latest: ModelArtifact | null = null;
  let championArtifact: ModelArtifact | null = null;
  const buffer =
    config.replay === undefined
      ? null
      : new ReplayBuffer<StoredTransaction>({ ...config.replay, seed: config.modelSeed });
  let versions = 0;
  let watermarkMs = Number.NEGATIVE_INFINITY;
  const counts = { events: 0, transactions: 0, frauds: 0, labels: 0, unscored: 0, batches: 0 };
  let prunedDay = -1;

  const started = performance.now();
  let lastReport = { at: started, events: 0 };
  const timed = <T>(key: keyof typeof timings, run: () => T): T => {
    const at = performance.now();
    try {
      return run();
    } finally {
      timings[key] += (performance.now() - at) / 1000;
    }
  };
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
      championVersion: champion?.version ?? null,
      versions,
      promotions: promotions.length,
      rollingAp: rollingAp(day),
      elapsedMs: now - started,
    });
    lastReport = { at: now, events: counts.events };
  };

  const scoreAndStore = (transactions: readonly TransactionEvent[]): void => {
    const targets: FeatureInput[] = transactions.map((event) => toFeatureInput(event.tx));
    history.addTransactions(targets);
    const vectors: FeatureVector[] = timed('features', () =>
      computeFeatures(targets, history.historyFor(targets), history.knownLabels(), featureOptions),
    );
    const scores =
      champion === null
        ? null
        : timed('scoring', () =>
            (champion as Champion).model.predict(
              flatten(
                vectors.map((vector) => vector.values),
                width,
              ),
            ),
          );
    transactions.forEach((event, i) => {
      const target = targets[i] as FeatureInput;
      const day = simDayOf(target.eventTimeMs, startMs);
      const customer = log.customerOf(target.customerId);
      counts.transactions += 1;
      if (event.isFraud) {
        counts.frauds += 1;
        const list = fraudDays.get(customer);
        if (list === undefined) fraudDays.set(customer, [day]);
        else if (list[list.length - 1] !== day) list.push(day);
      }
      if (scores === null) {
        counts.unscored += 1;
      } else {
        log.push({ day, customer, score: scores[i] as number, isFraud: event.isFraud });
      }
      store.store({
        transactionId: target.transactionId,
        eventTimeMs: target.eventTimeMs,
        // float32 is what the model takes; converting once here keeps the gate's copies cheap.
        features: Float32Array.from((vectors[i] as FeatureVector).values),
        holdout: isHoldout(target.transactionId),
      });
    });
  };

  let kept: FraudModel | null = null;
  const nextCandidate = async (): Promise<FraudModel> => {
    if (config.optimizerState === 'keep') {
      kept ??= FraudModel.create(names, { seed: config.modelSeed });
      return kept;
    }
    const from = config.warmStart === 'champion' ? championArtifact : latest;
    return timedAsync('artifacts', async () =>
      from === null
        ? FraudModel.create(names, { seed: config.modelSeed })
        : FraudModel.fromArtifact(from, {
            optimizerState: config.optimizerState === 'artifact' ? 'restore' : 'reset',
          }),
    );
  };

  // The champion's holdout scores are cached on the holdout entries until the next promotion: its
  // weights do not change, so only entries new to the holdout need scoring.
  const championScores = (recent: readonly HoldoutEntry[]): Float32Array => {
    const { model, version } = champion as Champion;
    const missing = recent.filter((entry) => entry.scoredBy !== version);
    if (missing.length > 0) {
      const scores = model.predict(
        flatten(
          missing.map((entry) => entry.example.features),
          width,
        ),
      );
      missing.forEach((entry, i) => {
        entry.score = scores[i] as number;
        entry.scoredBy = version;
      });
    }
    return Float32Array.from(recent, (entry) => entry.score);
  };

  const trainAndGate = async (batchExamples: readonly StoredTransaction[]): Promise<void> => {
    const candidate = await nextCandidate();
    const training = buffer === null ? batchExamples : [...batchExamples, ...buffer.contents()];
    buffer?.add(batchExamples, (example) => example.label === 1);
    let candidateScores: Float32Array = new Float32Array(0);
    let promoted = false;
    try {
      await timedAsync('training', () =>
        candidate.train(
          flatten(
            training.map((example) => example.features),
            width,
          ),
          training.map((example) => example.label ?? 0),
          {
            epochs: config.epochs,
            batchSize: config.batchSize,
            positiveWeight: config.positiveWeight,
            shuffleSeed: config.modelSeed,
          },
        ),
      );
      const recent = holdout.current();
      const decision = timed('gate', () => {
        const y = recent.map((entry) => entry.example.label ?? 0);
        candidateScores = candidate.predict(
          flatten(
            recent.map((entry) => entry.example.features),
            width,
          ),
        );
        if (config.statisticalGate !== undefined) {
          return gateOnHoldout(
            {
              labels: y,
              candidate: candidateScores,
              champion: champion === null ? null : championScores(recent),
            },
            config.statisticalGate,
          );
        }
        return gateCandidate(
          metricsOf(candidateScores, y),
          champion === null ? null : metricsOf(championScores(recent), y),
          config.gate,
        );
      });
      versions += 1;
      if (config.optimizerState !== 'keep') {
        latest = await timedAsync('artifacts', () => candidate.toArtifact());
        if (decision.promote) championArtifact = latest;
      }
      if (decision.promote) {
        champion?.model.dispose();
        const model =
          config.optimizerState === 'keep'
            ? await timedAsync('artifacts', () => candidate.clone())
            : candidate;
        champion = { model, version: versions };
        recent.forEach((entry, i) => {
          entry.score = candidateScores[i] as number;
          entry.scoredBy = versions;
        });
        promoted = true;
        promotions.push({
          version: versions,
          atMs: watermarkMs,
          day: (watermarkMs - startMs) / DAY_MS,
        });
      } else {
        const kind = rejectionKind(decision.reason);
        rejections[kind] = (rejections[kind] ?? 0) + 1;
      }
    } finally {
      if (config.optimizerState !== 'keep' && !promoted) candidate.dispose();
    }
  };

  const processBatch = async (batch: readonly SimulatedEvent[]): Promise<void> => {
    counts.batches += 1;
    const transactions: TransactionEvent[] = [];
    const labels: LabelEvent[] = [];
    let latestMs = watermarkMs;
    for (const event of batch) {
      latestMs = Math.max(latestMs, eventTimeMs(event));
      if (event.kind === 'transaction') transactions.push(event);
      else labels.push(event);
    }
    // Labels first: one reported before a transaction in this batch is known when it is scored
    // (computeFeatures still only uses a label reported at or before each target's own time).
    const known: KnownLabel[] = labels.map((event) => ({
      transactionId: event.label.transactionId,
      isFraud: event.label.isFraud,
      reportedAtMs: Date.parse(event.label.reportedAt),
    }));
    history.addLabels(known);
    labels.forEach((event, i) => {
      if (!event.label.isFraud) return;
      const reportedAtMs = (known[i] as KnownLabel).reportedAtMs;
      const customer = log.customerOf(event.customerId);
      const reportDay = (reportedAtMs - startMs) / DAY_MS;
      const reports = reportDays.get(customer);
      if (reports === undefined) reportDays.set(customer, [reportDay]);
      else reports.push(reportDay);
      store.reportFraud(event.label.transactionId, reportedAtMs);
    });
    counts.labels += labels.length;
    if (transactions.length > 0) scoreAndStore(transactions);

    watermarkMs = latestMs;
    const matured = store.advance(watermarkMs);
    const training: StoredTransaction[] = [];
    const newHoldout: StoredTransaction[] = [];
    for (const example of matured.examples) {
      if (!example.holdout) training.push(example);
      else if (!matured.corrections.has(example)) newHoldout.push(example);
      if (example.label === 1) examples.positives += 1;
      if (example.holdout) examples.holdout += 1;
    }
    examples.total += matured.examples.length - matured.corrections.size;
    examples.corrected += matured.corrections.size;
    holdout.add(newHoldout);
    if (matured.examples.length === 0) batchesWithoutExamples += 1;
    for (const example of training) pending.add(example);
    if (pending.size > 0 && pending.size >= config.minTrainExamples) {
      const step = [...pending].sort(compareExamples);
      pending.clear();
      await trainAndGate(step);
    }
  };

  let batch: SimulatedEvent[] = [];
  let batchKey = Number.NaN;
  const events = simulation.events();
  for (;;) {
    const simulated = timed('simulation', () => events.next());
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
      if (day !== prunedDay) {
        prunedDay = day;
        // Anything before the look-back of a transaction at the start of this day is never read.
        history.prune(
          historyRange([{ ...probe, eventTimeMs: startMs + day * DAY_MS }], featureOptions).fromMs,
        );
      }
      if (performance.now() - lastReport.at >= PROGRESS_INTERVAL_MS) report(day);
    }
    batchKey = key;
    batch.push(event);
  }
  if (batch.length > 0) await processBatch(batch);
  report(days - 1);
  (champion as Champion | null)?.model.dispose();
  (kept as FraudModel | null)?.dispose();

  return {
    log,
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
    examples,
    batchesWithoutExamples,
    pendingAtEnd: pending.size,
    rejections,
    labelsTooLate: store.labelsTooLate,
    timings,
  };
}

const probe: FeatureInput = {
  transactionId: 'probe',
  customerId: 'probe',
  terminalId: 'probe',
  amount: 0,
  eventTimeMs: 0,
};
