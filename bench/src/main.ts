#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadBackend } from '@streamtrain/model';
import { parseOnly, parseShares, parseSize } from './cli-options';
import type { BenchContext, BenchOutcome } from './harness/bench-context';
import { Cleanup } from './harness/cleanup';
import { describeMachine, loadAverage } from './harness/machine';
import type { MachineBase } from './harness/machine';
import { progress } from './harness/progress';
import { runFreshnessBenchmark } from './freshness/freshness-bench';
import { runIngestBenchmark } from './ingest/ingest-bench';
import { runKafkaClientBenchmark } from './ingest/kafka-client-bench';
import { runPipelineBenchmark } from './pipeline/pipeline-bench';
import { BENCHMARK_NAMES, writeResult } from './results/benchmark-result';
import type { BenchmarkName } from './results/benchmark-result';
import { writeBenchmarksDoc } from './results/render-benchmarks';
import { runScoringBenchmark } from './scoring/scoring-bench';
import { runTrainerBenchmark } from './trainer/trainer-bench';

/** The flags, as commander parses them. */
interface CliOptions {
  only: BenchmarkName[];
  messages: number;
  ingestVariants: boolean;
  ingestProfile: boolean;
  breakdownMessages: number;
  clientMessages: number;
  clientRounds: number;
  clientMalformedEvery: number;
  pipelineTransactions: number;
  pipelineBatch: number;
  pipelineScale: boolean;
  pipelineScaleChunk: number;
  pipelineScaleShares: number[];
  trainerSamples: number;
  trainerRounds: number;
  rate: number;
  seconds: number;
  drainSeconds: number;
  scoringMessages: number;
  scoringSeconds: number;
  scoringRate: number;
  scoringBatch: number;
  seed: number;
  logDir: string;
}

/** The flags that size one benchmark, to print the command that reproduces it alone. */
function reproduceCommand(name: BenchmarkName, options: CliOptions): string {
  const flags: Record<BenchmarkName, string[]> = {
    ingest: [
      `--messages ${options.messages}`,
      `--breakdown-messages ${options.breakdownMessages}`,
      ...(options.ingestVariants ? [] : ['--no-ingest-variants']),
      ...(options.ingestProfile ? [] : ['--no-ingest-profile']),
    ],
    'kafka-client': [
      `--client-messages ${options.clientMessages}`,
      `--client-rounds ${options.clientRounds}`,
      `--client-malformed-every ${options.clientMalformedEvery}`,
    ],
    pipeline: [
      `--pipeline-transactions ${options.pipelineTransactions}`,
      `--pipeline-batch ${options.pipelineBatch}`,
      ...(options.pipelineScale
        ? [
            `--pipeline-scale-chunk ${options.pipelineScaleChunk}`,
            `--pipeline-scale-shares ${options.pipelineScaleShares.join(',')}`,
          ]
        : ['--no-pipeline-scale']),
    ],
    trainer: [
      `--trainer-samples ${options.trainerSamples}`,
      `--trainer-rounds ${options.trainerRounds}`,
    ],
    freshness: [
      `--rate ${options.rate}`,
      `--seconds ${options.seconds}`,
      `--drain-seconds ${options.drainSeconds}`,
    ],
    scoring: [
      `--scoring-messages ${options.scoringMessages}`,
      `--scoring-seconds ${options.scoringSeconds}`,
      `--scoring-rate ${options.scoringRate}`,
      `--scoring-batch ${options.scoringBatch}`,
    ],
  };
  return ['npm run bench --', `--only ${name}`, ...flags[name], `--seed ${options.seed}`].join(' ');
}

function runOne(
  name: BenchmarkName,
  options: CliOptions,
  context: BenchContext,
): Promise<BenchOutcome<unknown>> {
  switch (name) {
    case 'ingest':
      return runIngestBenchmark(
        {
          messages: options.messages,
          seed: options.seed,
          variants: options.ingestVariants,
          profile: options.ingestProfile,
          breakdownMessages: options.breakdownMessages,
        },
        context,
      );
    case 'kafka-client':
      return runKafkaClientBenchmark(
        {
          messages: options.clientMessages,
          rounds: options.clientRounds,
          malformedEvery: options.clientMalformedEvery,
          seed: options.seed,
        },
        context,
      );
    case 'pipeline':
      return runPipelineBenchmark(
        {
          transactions: options.pipelineTransactions,
          batchSize: options.pipelineBatch,
          seed: options.seed,
          scale: !options.pipelineScale
            ? null
            : {
                chunk: options.pipelineScaleChunk,
                shares: options.pipelineScaleShares,
                batchSize: options.pipelineBatch,
                seed: options.seed,
              },
        },
        context,
      );
    case 'trainer':
      return runTrainerBenchmark(
        { samples: options.trainerSamples, rounds: options.trainerRounds, seed: options.seed },
        context,
      );
    case 'freshness':
      return runFreshnessBenchmark(
        {
          rate: options.rate,
          seconds: options.seconds,
          drainSeconds: options.drainSeconds,
          seed: options.seed,
        },
        context,
      );
    case 'scoring':
      return runScoringBenchmark(
        {
          messages: options.scoringMessages,
          seconds: options.scoringSeconds,
          rate: options.scoringRate,
          batchSize: options.scoringBatch,
          seed: options.seed,
        },
        context,
      );
  }
}

async function run(options: CliOptions, argv: readonly string[]): Promise<number> {
  const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
  mkdirSync(options.logDir, { recursive: true });
  const { backend } = await loadBackend({ preferred: 'auto' });
  const machine: MachineBase = describeMachine(backend);
  progress(
    `bench: ${options.only.join(', ')} on ${machine.cores} × ${machine.cpuModel}, ` +
      `load ${loadAverage().join(' ')}, tfjs ${backend}; service logs in ${options.logDir}`,
  );
  let current: Cleanup | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    progress(`bench: ${signal}; removing what this run created`);
    void (current?.runAll() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const failed: BenchmarkName[] = [];
  for (const name of options.only) {
    const cleanup = new Cleanup();
    current = cleanup;
    const loadAverageStart = loadAverage();
    const started = performance.now();
    progress(`bench: ${name} (load ${loadAverageStart.join(' ')})`);
    try {
      const outcome = await runOne(name, options, { cleanup, logDir: options.logDir });
      const file = await writeResult({
        name,
        generatedAt: new Date().toISOString(),
        command,
        reproduce: reproduceCommand(name, options),
        machine: { ...machine, loadAverageStart, loadAverageEnd: loadAverage() },
        config: outcome.config,
        durationSeconds: Math.round((performance.now() - started) / 100) / 10,
        results: outcome.results,
      });
      progress(
        `bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(0)} s → ${path.relative(process.cwd(), file)}`,
      );
    } catch (error) {
      failed.push(name);
      // After Ctrl-C the cleanup pulls the servers' state from under the benchmark; its error says
      // nothing then.
      if (!interrupted)
        progress(`bench: ${name} failed: ${(error as Error).stack ?? String(error)}`);
    } finally {
      await cleanup.runAll();
    }
    if (interrupted) break;
  }
  const doc = await writeBenchmarksDoc();
  progress(`bench: wrote ${path.relative(process.cwd(), doc)}`);
  if (failed.length > 0) progress(`bench: failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

const program = new Command()
  .name('bench')
  .description(
    'Throughput and latency of streamtrain against the real servers, each figure with a reference ' +
      'measured in the same run; results in docs/results/*.json and docs/BENCHMARKS.md.',
  )
  .addOption(
    new Option('--only <names>', `comma-separated subset of ${BENCHMARK_NAMES.join(', ')}`)
      .argParser(parseOnly)
      .default([...BENCHMARK_NAMES], 'all'),
  )
  .option('--messages <n>', 'ingest: transactions in the topic', parseSize, 400_000)
  .option('--no-ingest-variants', 'ingest: only the default settings')
  .option('--no-ingest-profile', 'ingest: skip the --cpu-prof run')
  .option(
    '--breakdown-messages <n>',
    'ingest: messages the in-process decode and record-building steps are timed on',
    parseSize,
    100_000,
  )
  .option(
    '--client-messages <n>',
    'kafka-client: transactions in the topic both clients consume',
    parseSize,
    400_000,
  )
  .option(
    '--client-rounds <n>',
    'kafka-client: rounds, each client once per round, the order reversed every other round',
    parseSize,
    2,
  )
  .option(
    '--client-malformed-every <n>',
    'kafka-client: one message in this many is malformed (dead-lettered)',
    parseSize,
    50,
  )
  .option('--pipeline-transactions <n>', 'pipeline: transactions landed', parseSize, 100_000)
  .option('--pipeline-batch <n>', 'pipeline: transactions per arrival batch', parseSize, 1_000)
  .option('--no-pipeline-scale', 'pipeline: skip the run on the default simulation')
  .option(
    '--pipeline-scale-chunk <n>',
    'pipeline: transactions measured at each share of the default simulation',
    parseSize,
    100_000,
  )
  .option(
    '--pipeline-scale-shares <list>',
    'pipeline: shares of the default simulation in the warehouse when each chunk is measured',
    parseShares,
    [0.1, 0.5, 1],
  )
  .option('--trainer-samples <n>', 'trainer: training examples per step', parseSize, 50_000)
  .option('--trainer-rounds <n>', 'trainer: alternating timed rounds', parseSize, 3)
  .option('--rate <n>', 'freshness: events per second fed', parseSize, 2_000)
  .option('--seconds <n>', 'freshness: seconds of feed', parseSize, 60)
  .option('--drain-seconds <n>', 'freshness: longest wait for the loop afterwards', parseSize, 90)
  .option('--scoring-messages <n>', 'scoring: transactions streamed', parseSize, 200_000)
  .option('--scoring-seconds <n>', 'scoring: seconds of each HTTP load run', parseSize, 20)
  .option('--scoring-rate <n>', 'scoring: single-transaction requests per second', parseSize, 2_000)
  .option('--scoring-batch <n>', 'scoring: transactions per batch request', parseSize, 1_000)
  .option('--seed <n>', 'simulation seed', parseSize, 1)
  .option(
    '--log-dir <dir>',
    'where service logs go',
    path.join(tmpdir(), `streamtrain-bench-${Date.now()}`),
  )
  .action(async (options: CliOptions) => {
    process.exitCode = await run(options, process.argv.slice(2));
  });

program.parseAsync().catch((error: unknown) => {
  progress(`bench: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
