#!/usr/bin/env node
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadBackend } from '@streamtrain/model';
import { evaluateTestPeriod, rollingQuality } from './evaluation';
import { HANDBOOK_FIGURES } from './handbook';
import {
  LIVE_DEFAULTS,
  parseBackend,
  parseCount,
  parseGateKind,
  parseMicroBatch,
  parsePositive,
  parseOptimizerState,
  parseWarmStart,
  patternChangeFrom,
  resolveTestPeriod,
} from './options';
import type { BackendOption, GateKind } from './options';
import { renderResultsSection, updateQualityDoc } from './quality-doc';
import { QUALITY_DOC_TEMPLATE } from './quality-doc-template';
import { runReplay } from './replay';
import type { MicroBatch, ReplayProgress } from './replay';
import { formatTable } from './report';
import type { PeerEvaluation, QualityReport } from './report';
import { dateOfSimDay } from './sim-time';
import { renderRollingApSvg } from './svg-plot';

/** Options as commander parses them. */
interface CliOptions {
  customers: number;
  terminals: number;
  days: number;
  seed: number;
  microBatch: MicroBatch;
  outDir: string;
  backend: BackendOption;
  testWeeks?: number;
  testStartDay?: number;
  epochs: number;
  positiveWeight: number;
  rollingDays: number;
  minTrainExamples: number;
  peerWindowDays: number;
  frozenDay: number;
  peerEpochs: number;
  gate: GateKind;
  replayPositives: number;
  replayReservoir: number;
  warmStartFrom: 'latest' | 'champion';
  optimizerState: 'restore' | 'reset';
  holdoutSettledDays: number;
  weightAveraging: number;
  weightAveragingBackoffRatio: number;
  weightAveragingBackoffSteps: number;
  weightAveragingBackoffConsecutive: number;
  patternChangeDay?: number;
}

function roundTimings<T extends object>(timings: T): T {
  return Object.fromEntries(
    Object.entries(timings).map(([step, seconds]) => [step, Math.round(Number(seconds) * 10) / 10]),
  ) as T;
}

const n = (value: number): string => Math.round(value).toLocaleString('en-US');

function formatProgress(progress: ReplayProgress, rollingDays: number): string {
  const champion =
    progress.championVersion === null ? 'no champion yet' : `champion v${progress.championVersion}`;
  return (
    `day ${progress.simDay}/${progress.simDays} · ${n(progress.transactions)} tx · ` +
    `${n(progress.eventsPerSecond)} events/s · ${champion} ` +
    `(${n(progress.versions)} versions, ${n(progress.promotions)} promotions) · ` +
    `peers: frozen ${progress.frozenTrained ? 'trained' : 'not yet'}, ` +
    `${n(progress.weeklyRetrains)} weekly retrains · ` +
    `${rollingDays}-day AP ${progress.rollingAp === null ? 'n/a' : progress.rollingAp.toFixed(3)} · ` +
    `${(progress.elapsedMs / 1000).toFixed(0)} s`
  );
}

async function run(options: CliOptions, argv: readonly string[]): Promise<void> {
  const testPeriod = resolveTestPeriod(options.days, options.testWeeks, options.testStartDay);
  const weeklyFirstDay = LIVE_DEFAULTS.maturityDays + options.peerWindowDays;
  if (Math.max(options.frozenDay, weeklyFirstDay) > testPeriod.startDay) {
    throw new InvalidArgumentError(
      `the batch peers start on day ${options.frozenDay} (frozen) and day ${weeklyFirstDay} ` +
        `(weekly), after the first test day ${testPeriod.startDay}: lower --frozen-day or ` +
        '--peer-window-days, or test later',
    );
  }
  const loaded = await loadBackend({
    preferred: options.backend,
    logger: {
      info: () => undefined,
      warn: (obj, msg) => {
        const { backend, err } = obj as { backend?: string; err?: unknown };
        console.error(
          `${msg}: ${backend ?? '?'} (${err instanceof Error ? err.message : String(err)})`,
        );
      },
    },
  });
  console.error(
    `quality: ${n(options.customers)} customers, ${n(options.terminals)} terminals, ` +
      `${options.days} days, seed ${options.seed}, backend ${loaded.backend}`,
  );
  const gate =
    options.gate === 'bootstrap'
      ? {
          kind: 'bootstrap' as const,
          policy: {
            ...LIVE_DEFAULTS.gate,
            confidence: LIVE_DEFAULTS.gateConfidence,
            replicates: LIVE_DEFAULTS.gateReplicates,
            seed: LIVE_DEFAULTS.modelSeed,
          },
        }
      : { kind: 'tolerance' as const, policy: LIVE_DEFAULTS.gate };
  const replayBuffer =
    options.replayPositives + options.replayReservoir === 0
      ? null
      : { maxPositives: options.replayPositives, reservoirSize: options.replayReservoir };
  const weightAveragingBackoff =
    options.weightAveragingBackoffRatio === 0
      ? null
      : {
          ratio: options.weightAveragingBackoffRatio,
          steps: options.weightAveragingBackoffSteps,
          consecutive: options.weightAveragingBackoffConsecutive,
        };
  const started = performance.now();
  const replay = await runReplay(
    {
      simulation: {
        seed: options.seed,
        customers: options.customers,
        terminals: options.terminals,
        days: options.days,
        ...(options.patternChangeDay === undefined
          ? {}
          : {
              patternChange: patternChangeFrom(
                options.patternChangeDay,
                options.customers,
                options.terminals,
              ),
            }),
      },
      microBatch: options.microBatch,
      maturityDays: LIVE_DEFAULTS.maturityDays,
      epochs: options.epochs,
      batchSize: LIVE_DEFAULTS.batchSize,
      positiveWeight: options.positiveWeight,
      modelSeed: LIVE_DEFAULTS.modelSeed,
      holdoutSize: LIVE_DEFAULTS.holdoutSize,
      minTrainExamples: options.minTrainExamples,
      gate,
      replayBuffer,
      warmStartFrom: options.warmStartFrom,
      optimizerState: options.optimizerState,
      holdoutSettledDays: options.holdoutSettledDays,
      weightAveraging: options.weightAveraging,
      weightAveragingBackoff,
      peers: {
        windowDays: options.peerWindowDays,
        frozenDay: options.frozenDay,
        epochs: options.peerEpochs,
      },
      rollingDays: options.rollingDays,
    },
    (progress) => console.error(formatProgress(progress, options.rollingDays)),
  );
  const durationSeconds = (performance.now() - started) / 1000;

  const evaluation = evaluateTestPeriod(replay.log, testPeriod, 'labelled', replay.knownCards);
  const handbookRule = evaluateTestPeriod(replay.log, testPeriod, 'handbook', replay.knownCards);
  const noExclusion = evaluateTestPeriod(replay.log, testPeriod, 'none', replay.knownCards);
  const peer = (run: typeof replay.frozen): PeerEvaluation => ({
    retrains: run.retrains,
    firstDay: run.firstDay,
    labelled: evaluateTestPeriod(run.log, testPeriod, 'labelled', replay.knownCards),
    handbookRule: evaluateTestPeriod(run.log, testPeriod, 'handbook', replay.knownCards),
  });
  const promotionsPerDay = new Array<number>(replay.days).fill(0);
  for (const promotion of replay.promotions) {
    const day = Math.min(replay.days - 1, Math.floor(promotion.day));
    promotionsPerDay[day] = (promotionsPerDay[day] ?? 0) + 1;
  }
  const rolling = rollingQuality(replay.log, replay.knownCards, options.rollingDays).map(
    (point) => ({
      day: point.day,
      date: dateOfSimDay(point.day, replay.startMs),
      ap: point.ap,
      promotions: promotionsPerDay[point.day] ?? 0,
    }),
  );
  const {
    log: _log,
    knownCards: _known,
    promotions,
    startMs: _start,
    frozen: _frozen,
    weekly: _weekly,
    ...counts
  } = replay;
  const replayCounts = { ...counts, timings: roundTimings(counts.timings) };
  const report: QualityReport = {
    generatedAt: new Date().toISOString(),
    command: ['node bench/dist/quality/main.js', ...argv].join(' '),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      tfjsBackend: loaded.backend,
    },
    config: {
      customers: options.customers,
      terminals: options.terminals,
      days: options.days,
      seed: options.seed,
      startDate: dateOfSimDay(0, replay.startMs),
      microBatch: options.microBatch,
      maturityDays: LIVE_DEFAULTS.maturityDays,
      epochs: options.epochs,
      batchSize: LIVE_DEFAULTS.batchSize,
      positiveWeight: options.positiveWeight,
      modelSeed: LIVE_DEFAULTS.modelSeed,
      minTrainExamples: options.minTrainExamples,
      peerWindowDays: options.peerWindowDays,
      frozenDay: options.frozenDay,
      peerEpochs: options.peerEpochs,
      holdoutSize: LIVE_DEFAULTS.holdoutSize,
      holdoutHash: 'FNV-1a 32-bit of the transaction id, % 5 = 0 (libs/training isHoldout)',
      gate,
      replayBuffer,
      warmStartFrom: options.warmStartFrom,
      optimizerState: options.optimizerState,
      holdoutSettledDays: options.holdoutSettledDays,
      weightAveraging: options.weightAveraging,
      weightAveragingBackoff,
      patternChangeDay: options.patternChangeDay ?? null,
      rollingDays: options.rollingDays,
      knownCardRule: 'labelled',
      testPeriod: {
        ...testPeriod,
        firstDate: dateOfSimDay(testPeriod.startDay, replay.startMs),
        lastDate: dateOfSimDay(testPeriod.startDay + 7 * testPeriod.weeks - 1, replay.startMs),
      },
    },
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    results: {
      auc: evaluation.auc,
      averagePrecision: evaluation.averagePrecision,
      cardPrecisionAt100: evaluation.cardPrecisionAt100,
      testDays: 7 * testPeriod.weeks,
      testTransactions: evaluation.transactions,
      testFrauds: evaluation.frauds,
      versions: replay.versions,
      promotions: promotions.length,
      evaluation,
      variants: { handbookRule, noExclusion },
      peers: { frozen: peer(replay.frozen), weekly: peer(replay.weekly) },
      replay: replayCounts,
    },
    handbook: HANDBOOK_FIGURES,
    rolling,
    rollingPeers: {
      weekly: rollingQuality(replay.weekly.log, replay.knownCards, options.rollingDays),
      frozen: rollingQuality(replay.frozen.log, replay.knownCards, options.rollingDays),
    },
  };

  const svg = renderRollingApSvg({
    title: `Rolling ${options.rollingDays}-day average precision, prequential (champion at arrival)`,
    caption:
      `AP of the last ${options.rollingDays} days' transactions, each scored by the champion of ` +
      'its arrival; cards labelled in the 14 days before the day left out.',
    days: replay.days,
    startMs: replay.startMs,
    points: rolling,
    promotionsPerDay,
    testPeriod: {
      startDay: testPeriod.startDay,
      endDay: testPeriod.startDay + 7 * testPeriod.weeks,
    },
    references: HANDBOOK_FIGURES.filter((figures) => figures.model === 'Feed-forward network').map(
      (figures) => ({
        label: `handbook ${figures.model.toLowerCase()}, test AP ${figures.averagePrecision}`,
        value: figures.averagePrecision,
      }),
    ),
  });
  const peerRolling = (peerLog: typeof replay.log) =>
    rollingQuality(peerLog, replay.knownCards, options.rollingDays);
  const staleness = renderRollingApSvg({
    title: `Staleness: rolling ${options.rollingDays}-day AP, continuous vs weekly retrain vs frozen`,
    caption:
      options.patternChangeDay === undefined
        ? 'No pattern change in this run (--pattern-change-day sets one).'
        : `Fraud patterns change on day ${options.patternChangeDay} (--pattern-change-day); ` +
          'each transaction scored by the model serving at its arrival.',
    days: replay.days,
    startMs: replay.startMs,
    points: rolling,
    mainLabel: 'continuous (champion)',
    series: [
      { label: 'weekly retrain peer', color: '#e67e22', points: peerRolling(replay.weekly.log) },
      { label: 'frozen peer', color: '#7f8c8d', points: peerRolling(replay.frozen.log) },
    ],
    markers:
      options.patternChangeDay === undefined
        ? []
        : [{ day: options.patternChangeDay, label: 'pattern change' }],
    promotionsPerDay,
    testPeriod: {
      startDay: testPeriod.startDay,
      endDay: testPeriod.startDay + 7 * testPeriod.weeks,
    },
    references: [],
  });
  await mkdir(join(options.outDir, 'results'), { recursive: true });
  await writeFile(join(options.outDir, 'quality-staleness.svg'), staleness);
  await writeFile(
    join(options.outDir, 'results', 'quality.json'),
    JSON.stringify(report, null, 2) + '\n',
  );
  await writeFile(join(options.outDir, 'quality-rolling-ap.svg'), svg);
  const docPath = join(options.outDir, 'QUALITY.md');
  const existing = await readFile(docPath, 'utf8').catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return null;
    throw error;
  });
  await writeFile(
    docPath,
    updateQualityDoc(existing, QUALITY_DOC_TEMPLATE, renderResultsSection(report, replay.startMs)),
  );
  console.log(formatTable(report));
  console.error(
    `quality: ${durationSeconds.toFixed(0)} s; wrote ${join(options.outDir, 'QUALITY.md')}, ` +
      `${join(options.outDir, 'quality-rolling-ap.svg')}, ${join(options.outDir, 'results', 'quality.json')}`,
  );
}

function parseShare(value: string): number {
  const share = Number(value);
  if (value.trim() === '' || !(share >= 0 && share < 1)) {
    throw new InvalidArgumentError('expected a number from 0 up to, not including, 1');
  }
  return share;
}

function parseNonNegative(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number >= 0 && Number.isFinite(number))) {
    throw new InvalidArgumentError('expected a number, 0 or more');
  }
  return number;
}

function parseCountOrZero(value: string): number {
  if (value.trim() === '0') return 0;
  return parseCount(value);
}

const program = new Command('quality')
  .description(
    "Prequential quality of the continuously trained model on the simulator's data, " +
      "measured with the Fraud Detection Handbook's protocol (AUC ROC, AP, Card Precision@100)",
  )
  .option('--customers <n>', 'number of customers', parseCount, 5000)
  .option('--terminals <n>', 'number of terminals', parseCount, 10_000)
  .option('--days <n>', 'number of simulated days', parseCount, 183)
  .option('--seed <n>', 'simulation seed', parseCount, 0)
  .option(
    '--micro-batch <size>',
    "micro-batch: a span of event time ('1h', '30m') or a number of events ('5000')",
    parseMicroBatch,
    parseMicroBatch('1h'),
  )
  .option('--out-dir <dir>', 'where QUALITY.md, the SVG and results/quality.json go', 'docs')
  .option('--backend <name>', 'TensorFlow.js backend: auto, wasm or cpu', parseBackend, 'auto')
  .option('--test-weeks <n>', 'number of test weeks (default: 4)', parseCount)
  .option(
    '--test-start-day <n>',
    "first test day, from 0 (default: the handbook's 2018-08-08, day 129, if the run reaches " +
      'its four weeks, else the last test weeks of the run)',
    parseCount,
  )
  .option(
    '--epochs <n>',
    'passes over each batch (the trainer: 2)',
    parseCount,
    LIVE_DEFAULTS.epochs,
  )
  .option(
    '--positive-weight <w>',
    'loss weight of a fraud example (the trainer: 10)',
    parsePositive,
    LIVE_DEFAULTS.positiveWeight,
  )
  .option(
    '--min-train-examples <n>',
    'training examples a step waits for (the trainer: 2000; 1 trains on every micro-batch)',
    parseCount,
    LIVE_DEFAULTS.minTrainExamples,
  )
  .option(
    '--peer-window-days <n>',
    'days of matured examples each weekly retrain of the batch peer learns from',
    parseCount,
    14,
  )
  .option(
    '--frozen-day <n>',
    'simulated day on which the frozen peer is trained (on every matured example before it)',
    parseCount,
    35,
  )
  .option('--peer-epochs <n>', 'passes over the window of a batch-peer retrain', parseCount, 5)
  .option('--rolling-days <n>', 'window of the rolling AP', parseCount, 7)
  .option(
    '--gate <kind>',
    'the trainer gate (TRAINER_GATE): tolerance (AP within 0.01) or bootstrap (paired bootstrap)',
    parseGateKind,
    LIVE_DEFAULTS.gateKind,
  )
  .option(
    '--replay-positives <n>',
    'frauds the replay buffer keeps (TRAINER_REPLAY_POSITIVES; 0 and --replay-reservoir 0: off)',
    parseCountOrZero,
    LIVE_DEFAULTS.replayPositives,
  )
  .option(
    '--replay-reservoir <n>',
    'genuine examples the replay buffer keeps (TRAINER_REPLAY_RESERVOIR)',
    parseCountOrZero,
    LIVE_DEFAULTS.replayReservoir,
  )
  .option(
    '--warm-start-from <alias>',
    'version a step warm-starts from (TRAINER_WARM_START_FROM): latest or champion',
    parseWarmStart,
    LIVE_DEFAULTS.warmStartFrom,
  )
  .option(
    '--optimizer-state <mode>',
    "Adam's state at a warm start: restore (the trainer: saved in the artifact) or reset",
    parseOptimizerState,
    'restore',
  )
  .option(
    '--holdout-settled-days <n>',
    'gate only on holdout examples this many days older than the watermark (TRAINER_HOLDOUT_SETTLED_DAYS)',
    parseCountOrZero,
    LIVE_DEFAULTS.holdoutSettledDays,
  )
  .option(
    '--weight-averaging <alpha>',
    "share of the start version's weights in each step's (TRAINER_WEIGHT_AVERAGING; 0: none)",
    parseShare,
    LIVE_DEFAULTS.weightAveraging,
  )
  .option(
    '--weight-averaging-backoff-ratio <r>',
    "no averaging for a step whose start model's loss on the new frauds is above r times the " +
      'median of the last steps (TRAINER_WEIGHT_AVERAGING_BACKOFF_RATIO; 0: always average)',
    parseNonNegative,
    LIVE_DEFAULTS.weightAveragingBackoffRatio,
  )
  .option(
    '--weight-averaging-backoff-steps <n>',
    'steps whose median is the reference of the back-off (TRAINER_WEIGHT_AVERAGING_BACKOFF_STEPS)',
    parseCount,
    LIVE_DEFAULTS.weightAveragingBackoffSteps,
  )
  .option(
    '--weight-averaging-backoff-consecutive <n>',
    'steps in a row above the ratio before averaging stops (TRAINER_WEIGHT_AVERAGING_BACKOFF_CONSECUTIVE)',
    parseCount,
    LIVE_DEFAULTS.weightAveragingBackoffConsecutive,
  )
  .option(
    '--pattern-change-day <n>',
    'simulated day from which the fraud patterns change (see patternChangeFrom)',
    parseCount,
  )
  .action(async (options: CliOptions) => run(options, process.argv.slice(2)));

program.parseAsync(process.argv).catch((error: unknown) => {
  // Options that do not fit together are the user's to fix: the message, without a stack.
  if (error instanceof InvalidArgumentError) {
    console.error(`quality: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
