#!/usr/bin/env node
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadBackend } from '@streamtrain/model';
import type { StatisticalGatePolicy } from '@streamtrain/model';
import { evaluateTestPeriod, rollingQuality } from './evaluation';
import { HANDBOOK_FIGURES } from './handbook';
import {
  LIVE_DEFAULTS,
  parseBackend,
  parseCount,
  parseMicroBatch,
  parseOptimizerState,
  parsePositive,
  resolveTestPeriod,
} from './options';
import type { BackendOption } from './options';
import { renderResultsSection, updateQualityDoc } from './quality-doc';
import { QUALITY_DOC_TEMPLATE } from './quality-doc-template';
import { runReplay } from './replay';
import type { MicroBatch, ReplayProgress } from './replay';
import { formatTable } from './report';
import type { QualityReport } from './report';
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
  optimizerState: 'reset' | 'artifact' | 'keep';
  minTrainExamples: number;
  labelProfileDays: number;
  replayFrauds: number;
  replayGenuine: number;
  gate: 'tolerance' | 'bootstrap';
  gateConfidence: number;
  gateReplicates: number;
  warmStart: 'latest' | 'champion';
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
    `${rollingDays}-day AP ${progress.rollingAp === null ? 'n/a' : progress.rollingAp.toFixed(3)} · ` +
    `${(progress.elapsedMs / 1000).toFixed(0)} s`
  );
}

function statisticalGate(options: CliOptions): StatisticalGatePolicy {
  return {
    minExamples: LIVE_DEFAULTS.gate.minExamples,
    minPositives: 20,
    confidence: options.gateConfidence,
    maxApDrop: 0,
    replicates: options.gateReplicates,
    seed: LIVE_DEFAULTS.modelSeed,
  };
}

const count0 = (value: string): number => (value === '0' ? 0 : parseCount(value));

async function run(options: CliOptions, argv: readonly string[]): Promise<void> {
  const testPeriod = resolveTestPeriod(options.days, options.testWeeks, options.testStartDay);
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
  const started = performance.now();
  const replay = await runReplay(
    {
      simulation: {
        seed: options.seed,
        customers: options.customers,
        terminals: options.terminals,
        days: options.days,
      },
      microBatch: options.microBatch,
      maturityDays: LIVE_DEFAULTS.maturityDays,
      correctionDays: 7,
      epochs: options.epochs,
      batchSize: LIVE_DEFAULTS.batchSize,
      positiveWeight: options.positiveWeight,
      modelSeed: LIVE_DEFAULTS.modelSeed,
      holdoutSize: LIVE_DEFAULTS.holdoutSize,
      minTrainExamples: options.minTrainExamples,
      optimizerState: options.optimizerState,
      gate: LIVE_DEFAULTS.gate,
      rollingDays: options.rollingDays,
      featureOptions: { labelProfileDays: options.labelProfileDays },
      ...(options.replayFrauds + options.replayGenuine > 0
        ? { replay: { maxPositives: options.replayFrauds, reservoirSize: options.replayGenuine } }
        : {}),
      ...(options.gate === 'bootstrap' ? { statisticalGate: statisticalGate(options) } : {}),
      warmStart: options.warmStart,
    },
    (progress) => console.error(formatProgress(progress, options.rollingDays)),
  );
  const durationSeconds = (performance.now() - started) / 1000;

  const evaluation = evaluateTestPeriod(replay.log, testPeriod, 'labelled', replay.knownCards);
  const handbookRule = evaluateTestPeriod(replay.log, testPeriod, 'handbook', replay.knownCards);
  const noExclusion = evaluateTestPeriod(replay.log, testPeriod, 'none', replay.knownCards);
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
  const { log: _log, knownCards: _known, promotions, startMs: _start, ...counts } = replay;
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
      labelCorrectionDays: 7,
      epochs: options.epochs,
      batchSize: LIVE_DEFAULTS.batchSize,
      positiveWeight: options.positiveWeight,
      modelSeed: LIVE_DEFAULTS.modelSeed,
      optimizerState: options.optimizerState,
      minTrainExamples: options.minTrainExamples,
      holdoutSize: LIVE_DEFAULTS.holdoutSize,
      holdoutHash: 'FNV-1a 32-bit of the transaction id, % 5 = 0',
      gate: LIVE_DEFAULTS.gate,
      rollingDays: options.rollingDays,
      labelProfileDays: options.labelProfileDays,
      replayBuffer: { frauds: options.replayFrauds, genuine: options.replayGenuine },
      gateKind: options.gate,
      ...(options.gate === 'bootstrap' ? { statisticalGate: statisticalGate(options) } : {}),
      warmStart: options.warmStart,
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
      replay: replayCounts,
    },
    handbook: HANDBOOK_FIGURES,
    rolling,
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
  await mkdir(join(options.outDir, 'results'), { recursive: true });
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
    '--optimizer-state <mode>',
    "'reset': warm-start each step from the latest artifact, Adam restarting, as the " +
      "trainer does; 'artifact': Adam's state restored from the artifact; 'keep': keep the " +
      'latest model and its Adam state in memory',
    parseOptimizerState,
    'reset',
  )
  .option(
    '--min-train-examples <n>',
    'training examples a step waits for (the trainer: 2000; 1 trains on every micro-batch)',
    parseCount,
    LIVE_DEFAULTS.minTrainExamples,
  )
  .option('--rolling-days <n>', 'window of the rolling AP', parseCount, 7)
  .option(
    '--label-profile-days <n>',
    'window of the label-profile features, 0 for the handbook baseline only (default: 30)',
    count0,
    30,
  )
  .option('--replay-frauds <n>', 'frauds kept in the replay buffer, 0 for none', count0, 0)
  .option('--replay-genuine <n>', 'genuine reservoir of the replay buffer, 0 for none', count0, 0)
  .option(
    '--gate <kind>',
    "'tolerance': gateCandidate (AP within 0.01 of the champion); 'bootstrap': gateOnHoldout",
    (value: string) => {
      if (value !== 'tolerance' && value !== 'bootstrap') {
        throw new InvalidArgumentError("expected 'tolerance' or 'bootstrap'");
      }
      return value;
    },
    'tolerance',
  )
  .option('--gate-confidence <c>', 'confidence of the bootstrap gate', parsePositive, 0.9)
  .option('--gate-replicates <n>', 'replicates of the bootstrap gate', parseCount, 100)
  .option(
    '--warm-start <from>',
    "'latest': each step starts from the latest version; 'champion': from the champion",
    (value: string) => {
      if (value !== 'latest' && value !== 'champion') {
        throw new InvalidArgumentError("expected 'latest' or 'champion'");
      }
      return value;
    },
    'latest',
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
