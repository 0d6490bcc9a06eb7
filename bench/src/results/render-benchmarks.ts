import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FreshnessResults } from '../freshness/freshness-bench';
import type { CpuUsage } from '../harness/cpu-usage';
import { formatMachine } from '../harness/machine';
import { REPO_ROOT } from '../harness/service-process';
import type { IngestResults } from '../ingest/ingest-bench';
import type { IngestRun } from '../ingest/ingest-run';
import type { KafkaClientResults } from '../ingest/kafka-client-bench';
import type { PipelineResults } from '../pipeline/pipeline-bench';
import type { ScaleResults } from '../pipeline/scale-levels';
import type { LoadRun, ScoringResults } from '../scoring/scoring-bench';
import type { TrainerResults } from '../trainer/trainer-bench';
import { readResults } from './benchmark-result';
import type { BenchmarkResult } from './benchmark-result';
import { code, count, fixed, percent, secondsText, table, times } from './markdown';

/** The parts of `docs/results/quality.json` (written by `bench/src/quality`) shown here. */
interface QualitySummary {
  readonly generatedAt: string;
  readonly command: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memGiB: number;
    readonly node: string;
    readonly tfjsBackend: string;
  };
  readonly durationSeconds: number;
  readonly config: { readonly customers?: number; readonly days?: number };
  readonly results: {
    readonly auc: number | null;
    readonly averagePrecision: number | null;
    readonly cardPrecisionAt100: number | null;
    readonly testTransactions?: number;
    readonly testFrauds?: number;
  };
  readonly handbook: readonly {
    readonly model: string;
    readonly auc: number;
    readonly averagePrecision: number;
    readonly cardPrecisionAt100: number;
  }[];
}

/** Every result file, typed by name; absent ones are undefined. */
export interface AllResults {
  readonly ingest?: BenchmarkResult<IngestResults>;
  readonly 'kafka-client'?: BenchmarkResult<KafkaClientResults>;
  readonly pipeline?: BenchmarkResult<PipelineResults>;
  readonly trainer?: BenchmarkResult<TrainerResults>;
  readonly freshness?: BenchmarkResult<FreshnessResults>;
  readonly scoring?: BenchmarkResult<ScoringResults>;
  readonly quality?: QualitySummary;
}

const HEADER = `# Benchmarks

<!-- Rendered by \`npm run bench\` (bench/src/results/render-benchmarks.ts) from docs/results/*.json. Edit the renderer, not this file. -->

What streamtrain sustains on one machine, against the real Kafka, RabbitMQ and PostgreSQL. Every
figure stands next to a reference measured in the same run on the same data (a bare Kafka consumer,
a bare \`COPY\`, the feature code alone, a bare \`model.fit\`) and the ratio between the two. The ratio
is what streamtrain's own work costs; it carries over to another machine better than the absolute
figure. Each section names its machine and the load average at its start and end: the machine is
shared, and a load above its core count means other work competed for the CPU.

## Running

\`\`\`sh
npm run bench                                 # every benchmark (DURATION)
npm run bench -- --only ingest,trainer        # a subset
npm run bench -- --help                       # the sizes: --messages, --pipeline-transactions, --rate, …
\`\`\`

\`npm run bench\` builds, then runs \`node bench/dist/main.js\`. It uses the local servers
(\`make infra-up\`); \`TEST_DATABASE_URL\`, \`TEST_AMQP_URL\` and \`TEST_KAFKA_BROKERS\` point it
elsewhere. Each benchmark creates its own topics, warehouse schema and RabbitMQ exchange and
removes them afterwards, on Ctrl-C too. Services run as separate processes
(\`node services/<name>/dist/main.js\`), as in production; their logs go to a temporary folder
named at start. Progress goes to stderr; results to \`docs/results/<benchmark>.json\`, from which
this page is rendered. Each section gives the command that reproduces it alone.`;

function provenance(result: BenchmarkResult): string {
  return [
    `Measured ${result.generatedAt.slice(0, 16).replace('T', ' ')} UTC in ${secondsText(result.durationSeconds)}; reproduce with ${code(result.reproduce)}` +
      (result.command === result.reproduce ? '.' : ` (run as part of ${code(result.command)}).`),
    '',
    `Machine: ${formatMachine(result.machine)}.`,
  ].join('\n');
}

function cpuText(usage: CpuUsage | null | undefined): string {
  if (usage === null || usage === undefined) return '–';
  return (
    `${percent(usage.machineBusyShare)} of all cores busy; ` +
    usage.cores.map((entry) => `${entry.group} ${fixed(entry.cores)}`).join(', ') +
    ' cores'
  );
}

function coresOf(usage: CpuUsage | null | undefined, group: string): number | null {
  return usage?.cores.find((entry) => entry.group === group)?.cores ?? null;
}

function summary(all: AllResults): string {
  const rows: string[][] = [];
  const { ingest, pipeline, trainer, freshness, scoring } = all;
  if (ingest !== undefined) {
    const r = ingest.results;
    rows.push([
      'ingest service, defaults',
      `${count(r.service.txPerSecond)} tx/s`,
      `bare consumer ${count(r.bareConsumer.messagesPerSecond)} msgs/s; bare COPY ${count(r.bareCopy.indexed.rowsPerSecond)} rows/s`,
      `${times(r.ratios.serviceToBareConsumer)}; ${times(r.ratios.serviceToBareCopy)}`,
    ]);
  }
  const clients = all['kafka-client']?.results;
  if (clients !== undefined) {
    const [js, pl] = ['kafkajs', 'platformatic'].map((name) =>
      clients.summaries.find((summary) => summary.client === name),
    );
    rows.push([
      'ingest service on @platformatic/kafka (`KAFKA_CLIENT=platformatic`)',
      `${count(pl?.txPerSecond.mean)} tx/s, VmHWM ${count(pl?.vmHwmMiB.mean)} MiB`,
      `on kafkajs ${count(js?.txPerSecond.mean)} tx/s, VmHWM ${count(js?.vmHwmMiB.mean)} MiB`,
      `${times(clients.platformaticToKafkajs.txPerSecond)}; ${times(clients.platformaticToKafkajs.vmHwmMiB)}`,
    ]);
  }
  if (pipeline !== undefined) {
    const r = pipeline.results;
    rows.push([
      'pipeline service',
      `${count(r.service.featuresPerSecond)} features/s`,
      `\`computeFeatures\` alone ${count(r.reference.featuresPerSecond)} features/s`,
      times(r.ratio),
    ]);
    const full = r.scale?.levels[r.scale.levels.length - 1];
    if (r.scale !== undefined && full !== undefined) {
      rows.push([
        `pipeline service, warehouse at ${fixed(full.share * 100, 0)} % of the default simulation`,
        `${count(full.featuresPerSecond)} features/s`,
        'target 60,000 features/s; flatness over 10/50/100 %: target ≥ 0.80',
        `${times(full.featuresPerSecond / 60_000)}; ${r.scale.flatness === null ? 'n/a' : fixed(r.scale.flatness, 2)}`,
      ]);
    }
  }
  if (trainer !== undefined) {
    const r = trainer.results;
    rows.push([
      'trainer step (`FraudModel.train`)',
      `${count(r.fraudModel.samplesPerSecond)} samples/s`,
      `bare \`model.fit\` ${count(r.bareFit.samplesPerSecond)} samples/s`,
      times(r.ratio),
    ]);
  }
  if (freshness !== undefined) {
    const r = freshness.results;
    rows.push([
      'freshness: transaction → features',
      `p50 ${secondsText(r.txToFeatures.p50)}, p99 ${secondsText(r.txToFeatures.p99)}`,
      '–',
      '–',
    ]);
    rows.push([
      'freshness: label → first model trained on it',
      `p50 ${secondsText(r.labelToModel.p50)}, p99 ${secondsText(r.labelToModel.p99)}`,
      '–',
      '–',
    ]);
  }
  const scored = scoring?.results;
  if (scored !== undefined && !scored.measured) {
    rows.push(['scoring', scored.reason, '–', '–']);
  } else if (scored !== undefined) {
    const r = scored;
    rows.push([
      'scorer: HTTP single transaction',
      `p99 ${r.httpSingle.latencyMs.p99} ms at ${count(r.httpSingle.requestsPerSecond)} req/s`,
      '–',
      '–',
    ]);
    rows.push([
      'scorer: HTTP batch route',
      `${count(r.httpBatch.transactionsPerSecond)} tx/s`,
      '–',
      '–',
    ]);
    rows.push([
      'scorer: stream to `tx.scores`',
      `${count(r.stream.transactionsPerSecond)} tx/s`,
      '–',
      '–',
    ]);
  }
  if (rows.length === 0) return '';
  return [
    '## Summary',
    '',
    table(['benchmark', 'streamtrain', 'reference, same run', 'ratio'], rows, [
      'left',
      'right',
      'left',
      'right',
    ]),
  ].join('\n');
}

function variantRow(run: IngestRun & { ratioToBareConsumer: number | null }): string[] {
  const changed = Object.entries(run.overrides)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  return [
    `${run.label}${changed === '' ? '' : ` (${changed})`}`,
    count(run.txPerSecond),
    times(run.ratioToBareConsumer),
    count(run.txPerSecondFromStart),
    `${count(run.meanBatchMessages)} msgs, ${fixed(run.batchSeconds.mean * 1000, 0)} ms`,
    `${fixed((run.batchSeconds.p99 ?? NaN) * 1000, 0)} ms`,
    percent(run.handlerBusyShare),
    fixed(coresOf(run.machineCpu, 'ingest service')),
    `${count(run.memory.vmHwmMiB)} MiB`,
  ];
}

function ingestSection(result: BenchmarkResult<IngestResults>): string {
  const r = result.results;
  const s = r.service;
  const defaults = r.variants.filter((run) => Object.keys(run.overrides).length === 0);
  const defaultMean = defaults.reduce((sum, run) => sum + run.txPerSecond, 0) / defaults.length;
  const spread =
    defaults.length > 1
      ? (Math.max(...defaults.map((run) => run.txPerSecond)) -
          Math.min(...defaults.map((run) => run.txPerSecond))) /
        defaultMean
      : null;
  const best = r.variants.find((run) => run.label === r.bestVariant);
  const verdict = (met: boolean): string => (met ? '**met**' : '**not met**');
  const lines: string[] = [
    '## 1. Ingest (the headline)',
    '',
    provenance(result),
    '',
    `${count(r.messages)} simulated transactions (handbook population, ${fixed(r.meanMessageBytes, 0)} bytes of JSON each) are produced to a fresh 4-partition topic, with an empty labels topic, before anything is timed (${secondsText(r.fill.seconds)}, ${count(r.fill.messages / r.fill.seconds)} msgs/s). Then, on that topic: (a) the project's kafkajs consumer (\`eachBatch\`, the ingest defaults' fetch settings, offsets committed per batch) doing \`JSON.parse\` on every message and nothing else; (b) \`COPY … FROM STDIN\` of the same rows over one connection into a fresh table; (c) the ingest service as a process, on its own schema, exchange and consumer group, until every transaction is in the warehouse **and** every \`batch.arrived\` event is published (\`ingest_outbox\` has no unpublished row). (c) is timed from the first landed row (the start of its write transaction) to that point, so process start-up, migrations and the group join are left out; the figure from process start is given too.`,
    '',
    table(
      ['measured', 'figure', 'time', '(c) ÷ this'],
      [
        [
          '(a) bare consumer, `JSON.parse` only',
          `${count(r.bareConsumer.messagesPerSecond)} msgs/s`,
          secondsText(r.bareConsumer.seconds),
          times(r.ratios.serviceToBareConsumer),
        ],
        [
          '(b) bare COPY, table with the indexes of `transactions`',
          `${count(r.bareCopy.indexed.rowsPerSecond)} rows/s`,
          secondsText(r.bareCopy.indexed.seconds),
          times(r.ratios.serviceToBareCopy),
        ],
        [
          '(b) bare COPY, heap without indexes',
          `${count(r.bareCopy.heap.rowsPerSecond)} rows/s`,
          secondsText(r.bareCopy.heap.seconds),
          times(s.txPerSecond / r.bareCopy.heap.rowsPerSecond),
        ],
        [
          '**(c) ingest service, defaults, first row → all landed and announced**',
          `**${count(s.txPerSecond)} tx/s**`,
          secondsText(s.seconds),
          '',
        ],
        [
          '(c) the same run, from process start',
          `${count(s.txPerSecondFromStart)} tx/s`,
          secondsText(s.secondsFromStart),
          '',
        ],
      ],
      ['left', 'right', 'right', 'right'],
    ),
    '',
    `Targets: ≥ ${count(r.targets.txPerSecond)} tx/s: ${verdict(r.targets.metTxPerSecond)} (${count(s.txPerSecond)}); ≥ ${percent(r.targets.shareOfBareConsumer)} of (a): ${verdict(r.targets.metShareOfBareConsumer)} (${percent(r.ratios.serviceToBareConsumer)}).`,
    '',
    '### Settings tried',
    '',
    'Each row is a full run over the same topic with a fresh schema, exchange and group; only the named settings differ from the defaults (`INGEST_BATCH_MAX_MESSAGES=20000`, `INGEST_PARTITIONS_CONCURRENCY=4`, `INGEST_FETCH_MAX_BYTES_PER_PARTITION=4194304`, `DATABASE_POOL_SIZE=8`). "Busy" is the batch handler time over concurrency × wall time: near 100 %, the consumer always has a batch waiting and the handler is the limit.',
    '',
    table(
      [
        'settings',
        'tx/s',
        '÷ (a)',
        'tx/s from start',
        'mean batch',
        'batch p99',
        'busy',
        'ingest cores',
        'VmHWM',
      ],
      r.variants.map(variantRow),
    ),
    '',
  ];
  if (best !== undefined && defaults.length > 0) {
    lines.push(
      `Best: ${best.label}, ${count(best.txPerSecond)} tx/s, ${percent(best.txPerSecond / defaultMean - 1)} over the mean of the default runs (${count(defaultMean)} tx/s)` +
        (spread === null
          ? '.'
          : `; the two default runs, first and last, differ by ${percent(spread, 1)}.`),
      '',
    );
  }
  lines.push(...ingestBreakdown(r, result.machine.cores), '');
  return lines.join('\n');
}

function ingestBreakdown(r: IngestResults, machineCores: number): string[] {
  const s = r.service;
  const { decode, jsonParse, recordBuilding, warehouseWrite, profiledRun } = r.breakdown;
  const cpu = s.machineCpu;
  const ingestCores = coresOf(cpu, 'ingest service');
  const pgCores = coresOf(cpu, 'PostgreSQL');
  const kafkaCores = coresOf(cpu, 'Kafka broker');
  const otherCores = (cpu?.cores ?? [])
    .filter((entry) => entry.group.startsWith('other'))
    .reduce((sum, entry) => sum + entry.cores, 0);
  const perTx = (cores: number | null): number | null =>
    cores === null ? null : (cores / s.txPerSecond) * 1e6;
  const ownMicros = [perTx(ingestCores), perTx(pgCores), perTx(kafkaCores)].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  const target = r.targets.txPerSecond;
  const coresForTarget = (ownMicros * target) / 1e6;
  const copyToBare = r.bareCopy.indexed.rowsPerSecond / r.bareConsumer.messagesPerSecond;
  const copyMicros = 1e6 / r.bareCopy.indexed.rowsPerSecond;
  const share = (category: string): number | null =>
    profiledRun?.cpu?.categories.find((entry) => entry.category === category)?.share ?? null;
  const defaults = r.variants.filter((run) => Object.keys(run.overrides).length === 0);
  const defaultMean = defaults.reduce((sum, run) => sum + run.txPerSecond, 0) / defaults.length;
  const defaultRun = defaults[0];
  const best = r.variants.find((run) => run.label === r.bestVariant);
  const lines = [
    '### Where the time goes',
    '',
    `- **${s.handlerBusyShare >= 0.75 ? 'The handler is the limit, not Kafka.' : 'The handler waits for Kafka part of the time.'}** With the defaults a batch holds ${count(s.meanBatchMessages)} messages on average and takes ${fixed(s.batchSeconds.mean * 1000, 0)} ms to validate, write and commit (p99 ${fixed((s.batchSeconds.p99 ?? NaN) * 1000, 0)} ms, from \`streamtrain_ingest_batch_duration_seconds\`); the ${s.settings.INGEST_PARTITIONS_CONCURRENCY} handler slots were busy ${percent(s.handlerBusyShare)} of the time. The bare consumer reads the same topic ${fixed(r.bareConsumer.messagesPerSecond / s.txPerSecond, 1)} times faster.`,
    `- **${(cpu?.machineBusyShare ?? 0) >= 0.9 ? 'The machine was saturated.' : 'CPU.'}** During the default run: ${cpuText(cpu)}. Per transaction that is ${fixed(perTx(ingestCores), 1)} µs of CPU in the ingest process, ${fixed(perTx(pgCores), 1)} µs in PostgreSQL (all its backends) and ${fixed(perTx(kafkaCores), 1)} µs in the Kafka broker, ${fixed(ownMicros, 0)} µs in all: ${count(target)} tx/s would take about ${fixed(coresForTarget, 1)} cores for these three alone. This machine has ${machineCores}, and other work held ${fixed(otherCores, 1)} of them.`,
    copyToBare < r.targets.shareOfBareConsumer
      ? `- **The ratio target is out of reach by construction here.** (b) ÷ (a) = ${fixed(copyToBare)}: writing the same rows into a table with the indexes of \`transactions\`, and doing nothing else, already runs below ${percent(r.targets.shareOfBareConsumer)} of the bare consumer's rate on this machine. The service reaches ${percent(r.ratios.serviceToBareCopy)} of that bare COPY.`
      : `- **(b) ÷ (a) = ${fixed(copyToBare)}**: the bare COPY alone stays above the ratio target; the service reaches ${percent(r.ratios.serviceToBareCopy)} of it.`,
    `- **In-process, one thread, the same messages.** Decoding ${count(decode.items)} of them (\`JSON.parse\` and the zod contract): ${fixed(decode.microsEach, 1)} µs a message, \`JSON.parse\` alone ${fixed(jsonParse.microsEach, 1)} µs; building the warehouse record with the source fields spread in (\`{ ...source, transactionId, … }\`, as \`classifyMessages\` did until this benchmark pointed at it) ${fixed(recordBuilding.spread.microsEach, 1)} µs, the same record with its fields written out ${fixed(recordBuilding.literal.microsEach, 1)} µs; the warehouse write alone (\`writeArrivalBatch\` over all ${count(warehouseWrite.items)} rows: staging COPY, deduplicating \`INSERT … SELECT\`, batch record and outbox row; ${count(warehouseWrite.batchSize)} rows a transaction, one after another on one connection) ${fixed(warehouseWrite.microsEach, 1)} µs a row, ${count(warehouseWrite.perSecond)} rows/s, against ${fixed(copyMicros, 1)} µs for the bare COPY (b) into the same indexes.`,
  ];
  if (profiledRun?.cpu !== undefined) {
    const cpuProfile = profiledRun.cpu;
    lines.push(
      `- **The ingest main thread** (a default run under \`node --cpu-prof\`, ${count(profiledRun.txPerSecond)} tx/s with the profiler on; from the first batch handled to the last) was busy ${percent(cpuProfile.busySeconds / cpuProfile.profiledSeconds)} of ${secondsText(cpuProfile.profiledSeconds)}, the rest waiting on PostgreSQL. Native code (\`JSON.parse\`, regular expressions) counts for the JavaScript that called it. Busiest functions by self time: ${cpuProfile.topFunctions
        .slice(0, 6)
        .map((entry) => `${code(entry.name)} ${percent(entry.share)}`)
        .join(', ')}.`,
      '',
      table(
        ['ingest main thread, category', 'share of busy time'],
        cpuProfile.categories
          .filter((entry) => entry.share >= 0.005)
          .map((entry) => [entry.category, percent(entry.share)]),
      ),
    );
  }
  lines.push(
    '',
    '### What would lift it',
    '',
    `1. **Cores.** At today's cost per transaction, ${count(target)} tx/s needs about ${fixed(coresForTarget, 1)} cores for ingest, PostgreSQL and Kafka, and nothing else may compete: a host with spare cores, or PostgreSQL on its own host, comes before any code change. Ingest scales out by partition (a second process in the same group) once there are cores to run it.`,
  );
  if (
    best !== undefined &&
    defaultRun !== undefined &&
    best !== defaultRun &&
    Object.keys(best.overrides).length > 0
  ) {
    const changed = Object.entries(best.overrides)
      .map(([name, value]) => `${name}=${value}`)
      .join(', ');
    const spread =
      defaults.length > 1
        ? ` (the two default runs differ by ${percent((Math.max(...defaults.map((run) => run.txPerSecond)) - Math.min(...defaults.map((run) => run.txPerSecond))) / defaultMean, 1)})`
        : '';
    lines.push(
      `2. **Settings.** The best of those tried, “${best.label}” (${changed}), ran at ${count(best.txPerSecond)} tx/s, ${percent(best.txPerSecond / defaultMean - 1)} over the mean of the default runs${spread}, for a peak RSS of ${count(best.memory.vmHwmMiB)} MiB instead of ${count(defaultRun.memory.vmHwmMiB)} MiB: fewer, larger warehouse transactions, and more partitions overlapping their waits on PostgreSQL. One run each on a shared machine: a hint for the defaults, not a proof.`,
    );
  }
  lines.push(
    `3. **Record building (done).** Spreading the source fields into each record costs ${fixed(recordBuilding.spread.microsEach - recordBuilding.literal.microsEach, 1)} µs a message more than writing the fields out (${fixed(recordBuilding.spread.microsEach, 1)} against ${fixed(recordBuilding.literal.microsEach, 1)} µs), ${recordBuilding.spread.microsEach > decode.microsEach ? 'more than' : 'compared with'} the whole validation (${fixed(decode.microsEach, 1)} µs); it is most of \`classifyMessages\`' own time in the profile (${percent(share('ingest handler (classify, records)'))} of the main thread). \`services/ingest/src/domain/arrival-batch.ts\` now writes the fields out (transactions and labels); the profile above already reflects that.`,
    `4. **Allocation.** Garbage collection takes ${percent(share('garbage collection'))} of the main thread: every message is copied into a new object by the Kafka wrapper, into a record by \`classifyMessages\`, and into COPY text by \`copyLines\` (${percent(share('warehouse write (COPY text, SQL)'))}). Writing the COPY text straight from the decoded message would drop a copy.`,
    `5. **Validation** is ${percent(share('validation (zod, contracts)'))} of the main thread: zod adds ${fixed(decode.microsEach - jsonParse.microsEach, 1)} µs a message to \`JSON.parse\`. A hand-written check of \`TransactionV1\`, with zod kept for the error message of a message that fails it, would save most of that; it is the smallest of these levers.`,
    warehouseWrite.microsEach / copyMicros < 1.5
      ? `6. **PostgreSQL** is near its floor: the write path costs ${fixed(warehouseWrite.microsEach / copyMicros, 1)}× a bare COPY of the same rows into the same indexes, and the indexes make most of the COPY's cost (into a bare heap it runs at ${count(r.bareCopy.heap.rowsPerSecond)} rows/s). Fewer indexes on \`transactions\`, or more PostgreSQL cores, are what is left.`
      : `6. **PostgreSQL**: the write path costs ${fixed(warehouseWrite.microsEach / copyMicros, 1)}× a bare COPY of the same rows into the same indexes: the staging table and the deduplicating \`INSERT … SELECT\` are the difference. The indexes make most of the bare COPY's own cost (into a bare heap it runs at ${count(r.bareCopy.heap.rowsPerSecond)} rows/s).`,
  );
  return lines;
}

function pipelineSection(result: BenchmarkResult<PipelineResults>): string {
  const r = result.results;
  return [
    '## 2. Pipeline',
    '',
    provenance(result),
    '',
    `${count(r.transactions)} simulated transactions (2,000 customers, 4,000 terminals, ${r.simulatedDays} simulated days) and the ${count(r.labels)} fraud labels reported among them are landed through the ingest write path (\`writeArrivalBatch\`, ${count(r.batches)} arrival batches of ${count(r.transactions / r.batches)}, ${count(r.landing.txPerSecond)} tx/s; not timed). The pipeline service then runs as a process with its defaults, and an ingest process on empty topics relays the \`batch.arrived\` events from the outbox, as in production. Timed from the first event published to the last batch's features stored. The reference runs \`computeFeatures\` in-process on exactly the inputs the pipeline reads for each batch (the batch, the history of its customers and terminals over the feature windows, ${count(r.reference.historyRows)} history rows in all, and the labels known by then); ${count(r.check.compared)} stored vectors of a middle batch were compared with the reference's: ${r.check.mismatches === 0 ? 'all equal' : `${count(r.check.mismatches)} differ`}.`,
    '',
    table(
      ['measured', 'features/s', 'time'],
      [
        [
          '**pipeline service: read batch and history, compute, store features and examples, `features.ready`**',
          `**${count(r.service.featuresPerSecond)}**`,
          secondsText(r.service.seconds),
        ],
        [
          'reference: `computeFeatures` alone, same batches',
          count(r.reference.featuresPerSecond),
          secondsText(r.reference.seconds),
        ],
        ['ratio', times(r.ratio, 3), ''],
      ],
    ),
    '',
    `Per pass (\`streamtrain_pipeline_batch_duration_seconds\`, up to 32 arrival batches): mean ${fixed(r.service.batchSeconds.mean * 1000, 0)} ms, p99 ${fixed((r.service.batchSeconds.p99 ?? NaN) * 1000, 0)} ms. The pipeline no longer reads history: its features come from the incremental feature state (\`FeatureState\`), so the reference's history rows (${fixed(r.reference.historyRows / r.transactions, 0)} per feature vector) are what it no longer reads; its time is the batch reads and the writes of features and examples. Machine meanwhile: ${cpuText(r.service.machineCpu)}.`,
    '',
    ...(r.scale === undefined ? [] : scaleLines(r.scale)),
  ].join('\n');
}

function scaleLines(scale: ScaleResults): string[] {
  const target = scale.levels[scale.levels.length - 1];
  const checks = scale.levels.reduce(
    (sum, level) => ({
      compared: sum.compared + level.check.compared,
      mismatches: sum.mismatches + level.check.mismatches,
    }),
    { compared: 0, mismatches: 0 },
  );
  const lags = scale.levels
    .map((level) => level.eventLoopLagMaxSeconds)
    .filter((lag): lag is number => lag !== null);
  return [
    '### On a warehouse growing to the whole default simulation',
    '',
    `The default simulation (${count(scale.simulation.customers)} customers, ${count(scale.simulation.terminals)} terminals, ${scale.simulation.days} days: ${count(scale.simulation.transactions)} transactions) is landed through the ingest write path in arrival batches of ${count(scale.batchSize)}, and the pipeline service (defaults, one process) features it as it lands. At each share of the history, the next chunk of transactions is landed in one warehouse transaction and timed from its first \`batch.arrived\` published to its last batch seen stored: reads, feature state, feature and example writes and \`features.ready\` included. Landing and featuring the rest of the history between chunks (${count(scale.fill.transactions)} transactions in ${secondsText(scale.fill.seconds)}) is not timed. For each chunk, the stored vectors of its middle batch were compared with \`computeFeatures\` over the raw warehouse rows (the old path): ${checks.mismatches === 0 ? `all ${count(checks.compared)} equal` : `${count(checks.mismatches)} of ${count(checks.compared)} differ`}.`,
    '',
    table(
      [
        'warehouse holds',
        'transactions then',
        'chunk',
        'features/s',
        'time',
        'pass mean / p99',
        'event-loop lag max',
        'load average (1, 5, 15 min) after',
      ],
      scale.levels.map((level) => [
        `${fixed(level.share * 100, 0)} %`,
        count(level.warehouseTransactions),
        `${count(level.transactions)} tx, ${count(level.examples)} examples`,
        `**${count(level.featuresPerSecond)}**`,
        secondsText(level.seconds),
        `${fixed(level.passSeconds.mean * 1000, 0)} / ${fixed((level.passSeconds.p99 ?? NaN) * 1000, 0)} ms`,
        level.eventLoopLagMaxSeconds === null
          ? 'n/a'
          : `${fixed(level.eventLoopLagMaxSeconds * 1000, 0)} ms`,
        level.loadAverageAfter.join(', '),
      ]),
    ),
    '',
    `Flatness (slowest share's features/s over the fastest's): ${scale.flatness === null ? 'n/a' : fixed(scale.flatness, 2)} (target ≥ 0.80: ${scale.flatness === null ? 'n/a' : met(scale.flatness >= 0.8)}). With the full simulation in the warehouse: ${target === undefined ? 'n/a' : `${count(target.featuresPerSecond)} features/s`} (target ≥ 60,000: ${target === undefined ? 'n/a' : met(target.featuresPerSecond >= 60_000)}). Longest event-loop delay of the pipeline while a chunk ran (\`nodejs_eventloop_lag_max_seconds\`): ${lags.length === 0 ? 'n/a' : `${fixed(Math.max(...lags) * 1000, 0)} ms`} (target ≤ 100 ms: ${lags.length === 0 ? 'n/a' : met(Math.max(...lags) <= 0.1)}). Checkpoints of the feature state during the run: ${count(scale.checkpoints.count)}${scale.checkpoints.meanSeconds === null ? '' : `, ${fixed(scale.checkpoints.meanSeconds, 2)} s each on average`}. Pipeline memory: peak RSS ${count(scale.memory.vmHwmMiB)} MiB.`,
    '',
  ];
}

function trainerSection(result: BenchmarkResult<TrainerResults>): string {
  const r = result.results;
  const config = result.config as { epochs?: number; batchSize?: number; positiveWeight?: number };
  const rounds = (values: readonly number[]): string =>
    values.map((value) => fixed(value, 2)).join(', ');
  return [
    '## 3. Trainer',
    '',
    provenance(result),
    '',
    `One training step of the trainer (\`FraudModel.train\`, the service's settings: ${config.epochs ?? 2} epochs, mini-batches of ${config.batchSize ?? 256}, fraud weighted ${config.positiveWeight ?? 10}) on ${count(r.samples)} examples of ${r.features} point-in-time features (${count(r.positives)} fraudulent), against a bare tfjs \`model.fit\` of the same layers (Dense 32 ReLU, Dense 16 ReLU, sigmoid; Adam 0.001; class weight for fraud) on the same standardised rows and backend. Both warm up first (one epoch each), then alternate round by round; samples/s is examples × epochs over the median round. A ratio above 1 means the trainer's own loop spends less per mini-batch than \`model.fit\`'s general one (callbacks, logs, history).`,
    '',
    table(
      ['measured', 'samples/s', 'rounds (s)'],
      [
        [
          '**`FraudModel.train`**',
          `**${count(r.fraudModel.samplesPerSecond)}**`,
          rounds(r.fraudModel.roundSeconds),
        ],
        ['bare `model.fit`', count(r.bareFit.samplesPerSecond), rounds(r.bareFit.roundSeconds)],
        ['ratio', times(r.ratio), ''],
      ],
    ),
    '',
  ].join('\n');
}

function distributionRow(
  name: string,
  d: {
    count: number;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    max: number | null;
  },
): string[] {
  return [
    name,
    count(d.count),
    secondsText(d.p50),
    secondsText(d.p90),
    secondsText(d.p99),
    secondsText(d.max),
  ];
}

function freshnessSection(result: BenchmarkResult<FreshnessResults>): string {
  const r = result.results;
  const config = result.config as { simulation?: string; serviceSettings?: string };
  return [
    '## 4. Freshness',
    '',
    provenance(result),
    '',
    `The whole loop (ingest, pipeline and trainer as processes with their defaults; fresh topics, schema and exchange), fed by the simulator at ${count(r.produced.eventsPerSecond)} events/s for ${secondsText(r.produced.seconds)}: ${count(r.produced.transactions)} transactions and ${count(r.produced.labels)} fraud labels. Simulation: ${config.simulation ?? 'the defaults'}. The bench notes the wall time the broker acknowledged each message; afterwards the warehouse says when each transaction's features were stored (\`features.computed_at\`) and which model version first trained on each label (\`labels\` → \`training_examples.example_set_id\` → \`trainer_batches.version_id\` → \`model_versions.created_at\`). Then it waited ${secondsText(r.drainSeconds)} for the loop to finish what was produced (${r.drained ? 'it did' : 'it had not finished'}). ${r.modelVersions} model versions were registered.`,
    '',
    table(
      ['latency, from the message in Kafka', 'n', 'p50', 'p90', 'p99', 'max'],
      [
        distributionRow('(a) transaction → its features stored', r.txToFeatures),
        distributionRow('label → its training example stored', r.labelToExample),
        distributionRow('**(b) label → first model version trained on it**', r.labelToModel),
      ],
    ),
    '',
    `Transactions without features at the end: ${count(r.txToFeatures.missing)}. Labels of holdout transactions (one in five, by hash of the id; the gate evaluates on them and never trains on them): ${count(r.labelToModel.holdout)}, left out of (b); labels not trained on by the end: ${count(r.labelToModel.notTrained)}. Settings: ${config.serviceSettings ?? 'the defaults'}.`,
    '',
    backlogText(r),
    '',
    `Machine while the feed ran: ${cpuText(r.machineCpu)}.`,
    '',
  ].join('\n');
}

function backlogText(r: FreshnessResults): string {
  const b = r.backlog;
  const keptUp = b.featuresAtFeedEnd >= 0.95 * b.producedAtFeedEnd;
  const flow = `Ingest wrote ${fixed(b.ingestBatchesPerSecond, 1)} arrival batches a second (one per topic partition per fetch: 3 transaction topics and the labels topic, 4 partitions each, a 500 ms linger); the pipeline, which takes them one at a time, handled ${fixed(b.pipelineBatchesPerSecond, 1)} a second.`;
  const split =
    r.labelToModel.p50 === null || r.labelToExample.p50 === null
      ? ''
      : ` Of (b)'s median of ${secondsText(r.labelToModel.p50)}, ${secondsText(r.labelToExample.p50)} passed before the label's training example was stored (the label's batch waiting its turn in the pipeline); the rest is the trainer's batching (a step runs once 2,000 new examples are pending or the oldest has waited 30 s) and the step itself.`;
  return keptUp
    ? `The pipeline kept up with the feed. ${flow}${split}`
    : `**The pipeline did not keep up at this rate.** ${flow} When the feed stopped, ${count(b.featuresAtFeedEnd)} of the ${count(b.producedAtFeedEnd)} transactions produced had features; the last were stored ${secondsText(b.lastFeaturesAfterFeedSeconds)} later. (a) is mostly that queue, not the work of one batch.${split}`;
}

function memorySection(all: AllResults): string {
  const rows: string[][] = [];
  for (const run of all.ingest?.results.variants ?? []) {
    rows.push([
      'ingest',
      `benchmark 1, ${run.label}`,
      `${count(run.memory.vmHwmMiB)} MiB`,
      `${count(run.memory.maxSampledRssMiB)} MiB`,
    ]);
  }
  for (const summary of all['kafka-client']?.results.summaries ?? []) {
    rows.push([
      'ingest',
      `benchmark 7, on ${summary.client}, highest of ${summary.runs} runs`,
      `${count(summary.vmHwmMiB.max)} MiB`,
      '–',
    ]);
  }
  const pipeline = all.pipeline?.results.service.memory;
  if (pipeline !== undefined) {
    rows.push([
      'pipeline',
      'benchmark 2',
      `${count(pipeline.vmHwmMiB)} MiB`,
      `${count(pipeline.maxSampledRssMiB)} MiB`,
    ]);
  }
  for (const [name, memory] of Object.entries(all.freshness?.results.memory ?? {})) {
    rows.push([
      name,
      'freshness run (whole loop)',
      `${count(memory.vmHwmMiB)} MiB`,
      `${count(memory.maxSampledRssMiB)} MiB`,
    ]);
  }
  if (rows.length === 0) return '';
  return [
    '## 6. Peak memory',
    '',
    "Each service process: the kernel's high-water mark of its resident set (`VmHWM` in `/proc/<pid>/status`, read just before it was stopped) and the largest RSS seen when sampled every 500 ms. The commands and machines are those of the benchmarks above.",
    '',
    table(['process', 'during', 'VmHWM', 'max sampled RSS'], rows, [
      'left',
      'left',
      'right',
      'right',
    ]),
    '',
  ].join('\n');
}

const met = (ok: boolean): string => (ok ? 'met' : '**not met**');

function scoringSection(result: BenchmarkResult<ScoringResults> | undefined): string {
  if (result === undefined) return ['## 5. Scoring', '', 'Not run.', ''].join('\n');
  if (!result.results.measured) return ['## 5. Scoring', '', result.results.reason, ''].join('\n');
  const r = result.results;
  const load = (run: LoadRun): string =>
    `${count(run.requests)} requests (${count(run.requestsPerSecond)}/s), p50 ${run.latencyMs.p50} ms, ` +
    `p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms, ${run.non2xx} non-2xx, ${run.errors} errors`;
  return [
    '## 5. Scoring',
    '',
    provenance(result),
    '',
    `The scorer as its own process (\`node services/scorer/dist/main.js\`), its HTTP API driven by wrk (constant pace per connection, microsecond latencies) in another process. ${r.provisional ? '**Provisional**: the machine was busy when the run started; re-measure on a quiet one.' : ''}`,
    '',
    table(
      ['run', 'result'],
      [
        [
          `stream: ${count(r.stream.messages)} transactions → \`tx.scores\` (acks = all)`,
          `${count(r.stream.transactionsPerSecond)} tx/s (${secondsText(r.stream.seconds)})`,
        ],
        [`HTTP single transaction at ${count(r.httpSingle.targetRate)} req/s`, load(r.httpSingle)],
        [
          `HTTP batches of ${count(r.httpBatch.batchSize)}`,
          `${count(r.httpBatch.transactionsPerSecond)} tx/s; ${load(r.httpBatch)}`,
        ],
        [
          'model swap under the single-transaction load',
          `${load(r.swapUnderLoad)}; serving ${r.swapUnderLoad.servingAfter === r.swapUnderLoad.swappedTo ? 'the new version' : 'NOT the new version'} afterwards`,
        ],
      ],
    ),
    '',
    `Targets (issue 9): HTTP single p99 ≤ 2 ms at 2,000 req/s: ${met(r.httpSingle.latencyMs.p99 <= 2 && r.httpSingle.requestsPerSecond >= 1_990)} (${r.httpSingle.latencyMs.p99} ms); batch ≥ 100,000 tx/s: ${met(r.httpBatch.transactionsPerSecond >= 100_000)} (${count(r.httpBatch.transactionsPerSecond)}); swap with 0 non-2xx: ${met(r.swapUnderLoad.non2xx === 0 && r.swapUnderLoad.errors === 0)}.`,
    '',
  ].join('\n');
}

const CLIENT_LABELS: Readonly<Record<string, string>> = {
  kafkajs: 'kafkajs 2.2.4',
  platformatic: '@platformatic/kafka',
};

function kafkaClientSection(result: BenchmarkResult<KafkaClientResults>): string {
  const r = result.results;
  const label = (client: string): string => CLIENT_LABELS[client] ?? client;
  const cores = (run: KafkaClientResults['runs'][number]): number | null =>
    coresOf(run.service.machineCpu, 'ingest service');
  const range = (spread: { min: number; max: number }): string =>
    `${count(spread.min)}–${count(spread.max)}`;
  const ratios = r.platformaticToKafkajs;
  const difference = ratios.txPerSecond === null ? null : Math.abs(ratios.txPerSecond - 1);
  const withinNoise = difference !== null && r.noise !== null && difference <= r.noise;
  return [
    '## 7. Kafka client: kafkajs or @platformatic/kafka',
    '',
    provenance(result),
    '',
    `The same ingest service (\`node services/ingest/dist/main.js\`, its defaults) on each of the two clients behind \`libs/kafka\`, chosen by \`KAFKA_CLIENT\`, over the same pre-filled 4-partition topic: ${count(r.messages)} simulated transactions (${fixed(r.meanMessageBytes, 0)} bytes each), of which ${count(r.malformed)} (one in ${count(r.messages / Math.max(1, r.malformed))}) are malformed in turn (${r.malformedKinds.join(', ')}), so every batch also goes through the dead-letter producer. Each run has its own schema, exchange, consumer group and dead-letter topic, and ends when every well-formed transaction is in the warehouse, every malformed one is dead-lettered and every \`batch.arrived\` event is published; then the warehouse rows, the dead-letter topic's messages and the group's committed offsets (at the end of every partition) are checked. tx/s is timed from the first landed row, as in benchmark 1. Before each service run, the bare consumer of the same client (\`JSON.parse\` only, commits per batch, the ingest defaults' fetch settings) reads the whole topic. The clients take turns, the order reversed each round, so a drift of the shared machine falls on both.`,
    '',
    table(
      [
        'round',
        'client',
        'ingest tx/s',
        'tx/s from start',
        'start → first row',
        'VmHWM',
        'ingest cores',
        'dead-lettered',
        'checks',
        'bare consumer msgs/s',
      ],
      r.runs.map((run) => [
        `${run.round}.${run.turn}`,
        label(run.client),
        count(run.service.txPerSecond),
        count(run.service.txPerSecondFromStart),
        secondsText(run.service.startupSeconds),
        `${count(run.service.memory.vmHwmMiB)} MiB`,
        fixed(cores(run)),
        count(run.check.deadLettersInTopic),
        run.check.ok
          ? 'ok'
          : `**failed**: ${count(run.check.rows)} rows, committed to end ${run.check.committedToEnd ? 'yes' : 'no'}`,
        count(run.bare.messagesPerSecond),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
    ),
    '',
    table(
      [
        'client',
        'runs',
        'ingest tx/s, mean (range)',
        'VmHWM, mean (max)',
        'ingest CPU per tx',
        'bare consumer msgs/s, mean (range)',
        'all checks',
      ],
      r.summaries.map((summary) => [
        label(summary.client),
        String(summary.runs),
        `${count(summary.txPerSecond.mean)} (${range(summary.txPerSecond)})`,
        `${count(summary.vmHwmMiB.mean)} MiB (${count(summary.vmHwmMiB.max)})`,
        summary.ingestMicrosPerTx === null ? '–' : `${fixed(summary.ingestMicrosPerTx, 1)} µs`,
        `${count(summary.bareMessagesPerSecond.mean)} (${range(summary.bareMessagesPerSecond)})`,
        summary.allChecksOk ? 'ok' : '**failed**',
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    '',
    `@platformatic/kafka ÷ kafkajs: ingest ${times(ratios.txPerSecond)} the throughput, ${times(ratios.vmHwmMiB)} the peak memory, ${times(ratios.ingestMicrosPerTx)} the ingest CPU per transaction; bare consumer ${times(ratios.bareMessagesPerSecond)}. ` +
      (r.noise === null
        ? 'One round only: no measure of the noise.'
        : `The runs of one client differ by up to ${percent(r.noise, 1)} among themselves; the throughput difference between the clients (${percent(difference, 1)}) is ${withinNoise ? 'within' : 'beyond'} that.`) +
      ' The decision and its reasons: docs/DEPENDENCIES.md, "Kafka client".',
    '',
  ].join('\n');
}

function qualitySection(quality: QualitySummary | undefined): string {
  if (quality === undefined) return '';
  const network = quality.handbook.find((row) => row.model === 'Feed-forward network');
  const m = quality.machine;
  return [
    '## Model quality',
    '',
    `From \`docs/results/quality.json\`, written by the quality evaluation; the protocol, the variants and the plots are in [QUALITY.md](QUALITY.md). Measured ${quality.generatedAt.slice(0, 10)} with ${code(quality.command)} in ${secondsText(quality.durationSeconds)} on ${m.cpus} × ${m.cpuModel} (${m.memGiB} GiB, Node ${m.node}, tfjs backend \`${m.tfjsBackend}\`).`,
    '',
    table(
      ['model', 'AUC ROC', 'Average precision', 'Card Precision@100'],
      [
        [
          'streamtrain, prequential, continuously trained',
          fixed(quality.results.auc, 3),
          fixed(quality.results.averagePrecision, 3),
          fixed(quality.results.cardPrecisionAt100, 3),
        ],
        ...(network === undefined
          ? []
          : [
              [
                'handbook: feed-forward network',
                fixed(network.auc, 3),
                fixed(network.averagePrecision, 3),
                fixed(network.cardPrecisionAt100, 3),
              ],
            ]),
      ],
    ),
    '',
  ].join('\n');
}

function durationText(all: AllResults): string {
  const runs = [
    all.ingest,
    all['kafka-client'],
    all.pipeline,
    all.trainer,
    all.freshness,
    all.scoring,
  ];
  if (runs.some((run) => run === undefined)) return 'see each section for its duration';
  const seconds = runs.reduce((sum, run) => sum + (run?.durationSeconds ?? 0), 0);
  return `about ${Math.ceil(seconds / 60)} minutes on the machine below`;
}

/** Renders one section; a result file from an older bench shows what to rerun instead of failing. */
function safely<T extends object>(result: T | undefined, render: (result: T) => string): string {
  if (result === undefined) return '';
  try {
    return render(result);
  } catch (error) {
    const reproduce =
      'reproduce' in result && typeof result.reproduce === 'string'
        ? result.reproduce
        : 'npm run bench';
    return `Could not render a result file (${(error as Error).message}); rerun ${code(reproduce)}.`;
  }
}

/** BENCHMARKS.md from the results present; sections without a result are left out. */
export function renderBenchmarks(all: AllResults): string {
  const sections = [
    HEADER.replace('DURATION', durationText(all)),
    safely(all, summary),
    safely(all.ingest, ingestSection),
    safely(all.pipeline, pipelineSection),
    safely(all.trainer, trainerSection),
    safely(all.freshness, freshnessSection),
    scoringSection(all.scoring),
    safely(all, memorySection),
    safely(all['kafka-client'], kafkaClientSection),
    safely(all.quality, qualitySection),
  ];
  return `${sections.filter((section) => section !== '').join('\n\n')}\n`;
}

async function formatMarkdown(text: string, file: string): Promise<string> {
  // Prettier formats the tables as `npm run lint` wants them; without it the file is still valid.
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

/** Renders docs/BENCHMARKS.md from every JSON file in docs/results. */
export async function writeBenchmarksDoc(): Promise<string> {
  const results = await readResults();
  const all = Object.fromEntries(results) as AllResults;
  const file = path.join(REPO_ROOT, 'docs', 'BENCHMARKS.md');
  await writeFile(file, await formatMarkdown(renderBenchmarks(all), file));
  return file;
}
