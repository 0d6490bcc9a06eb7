import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Command, Option } from 'commander';
import { deleteTopology } from '@streamtrain/amqp';
import { DEFAULT_NAMES, transactionTopic } from '@streamtrain/contracts';
import { createKafkaClient } from '@streamtrain/kafka';
import { createSimulation, parseCount, parsePositive, publishEvents } from '@streamtrain/simulator';
import { freePort, testLogger } from '@streamtrain/testkit';
import { createPool, listModelVersions } from '@streamtrain/warehouse';
import type { ModelVersionRecord, Pool } from '@streamtrain/warehouse';
import { REPO_ROOT, SERVICES, startService, startStack, stopStack, waitUntilReady } from './stack';
import type { RunningService } from './stack';

interface DemoOptions {
  customers: number;
  terminals: number;
  days: number;
  rate: number;
  seed: number;
  maxMinutes: number;
  databaseUrl: string;
  amqpUrl: string;
  brokers: string;
}

const PREFIX = 'demo.';
const SCHEMA = 'demo';
const EXCHANGE = 'streamtrain.demo';
const CHANNELS = ['mobile', 'web', 'pos'] as const;

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : n.toFixed(3);

interface Progress {
  transactions: number;
  labels: number;
  features: number;
  examples: number;
  ingestBatches: number;
  pipelineBatches: number;
  trainerBatches: number;
}

async function readProgress(pool: Pool): Promise<Progress> {
  const { rows } = await pool.query<Record<keyof Progress, string>>(
    `SELECT (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM labels) AS labels,
            (SELECT count(*) FROM features) AS features, (SELECT count(*) FROM training_examples) AS examples,
            (SELECT count(*) FROM ingest_batches) AS "ingestBatches", (SELECT count(*) FROM pipeline_batches) AS "pipelineBatches",
            (SELECT count(*) FROM trainer_batches) AS "trainerBatches"`,
  );
  const row = rows[0];
  return Object.fromEntries(
    Object.entries(row ?? {}).map(([key, value]) => [key, Number(value)]),
  ) as unknown as Progress;
}

function describeVersion(version: ModelVersionRecord): string {
  const status = version.status === 'rejected' ? 'kept champion' : 'PROMOTED';
  return (
    `  model v${version.version} ${status.padEnd(13)} holdout AP ${pct(version.metrics.averagePrecision)} ` +
    `AUC ${pct(version.metrics.auc)} (${fmt(version.metrics.examples)} examples, ${version.metrics.positives} fraud) · ` +
    `trained on ${fmt(version.trainedSamples)} · label cutoff ${version.lineage.labelCutoff?.slice(0, 10) ?? '–'} · ${version.backend}`
  );
}

interface Scoring {
  scored: number;
  serving: number | null;
  /** `v<n> <AP> (<examples>)` per version with matured scores. */
  live: string[];
}

/** What the scorer has done: its stream count (from /metrics) and live quality (/v1/quality). */
async function readScoring(port: number, token: string): Promise<Scoring> {
  try {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const scored = Number(
      /streamtrain_scorer_scored_total\{path="stream"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
    );
    const version = Number(
      /streamtrain_scorer_model_version\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
    );
    const quality = (await (
      await fetch(`http://127.0.0.1:${port}/v1/quality`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as {
      versions: { modelVersion: number; averagePrecision: number | null; examples: number }[];
    };
    return {
      scored,
      serving: version === 0 ? null : version,
      live: quality.versions
        .filter((row) => row.examples > 0)
        .map((row) => `v${row.modelVersion} ${pct(row.averagePrecision)} (${fmt(row.examples)})`),
    };
  } catch {
    return { scored: 0, serving: null, live: [] };
  }
}

async function resetDemoState(options: DemoOptions, topics: string[]): Promise<void> {
  const kafka = createKafkaClient({
    brokers: options.brokers.split(','),
    clientId: 'demo',
    logger: testLogger,
  });
  const admin = await kafka.admin();
  try {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics(topics.filter((topic) => existing.has(topic)));
  } finally {
    await admin.disconnect();
  }
  await deleteTopology(options.amqpUrl, EXCHANGE).catch(() => undefined);
  const pool = createPool({
    databaseUrl: options.databaseUrl,
    schema: 'public',
    logger: testLogger,
  });
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pool.end();
}

async function runDemo(options: DemoOptions): Promise<void> {
  const txTopics = CHANNELS.map((channel) => PREFIX + transactionTopic(channel));
  const labelsTopic = PREFIX + DEFAULT_NAMES.labelsTopic;
  const dlqTopic = PREFIX + DEFAULT_NAMES.deadLetterTopic;
  const scoresTopic = PREFIX + DEFAULT_NAMES.scoresTopic;
  const scorerToken = randomBytes(16).toString('hex');
  const consoleToken = randomBytes(16).toString('hex');
  const trainerToken = randomBytes(16).toString('hex');
  console.log(
    `streamtrain demo: ${fmt(options.customers)} customers, ${options.days} simulated days, ${fmt(options.rate)} events/s`,
  );
  console.log(
    `resetting the demo's topics (${PREFIX}tx.*), RabbitMQ exchange ${EXCHANGE} and warehouse schema "${SCHEMA}"`,
  );
  await resetDemoState(options, [...txTopics, labelsTopic, dlqTopic, scoresTopic]);

  const logDir = path.join(REPO_ROOT, '.local', 'demo');
  const ports = {
    ingest: await freePort(),
    pipeline: await freePort(),
    trainer: await freePort(),
    scorer: await freePort(),
    console: await freePort(),
  };
  console.log(
    `starting ingest, pipeline, trainer and scorer, then the console, as separate processes (logs in ${path.relative(process.cwd(), logDir)}/)`,
  );
  const stack = {
    env: {
      AMQP_URL: options.amqpUrl,
      AMQP_EXCHANGE: EXCHANGE,
      DATABASE_URL: options.databaseUrl,
      WAREHOUSE_SCHEMA: SCHEMA,
      KAFKA_BROKERS: options.brokers,
      LOG_LEVEL: 'info',
    },
    serviceEnv: {
      ingest: {
        INGEST_TOPICS: txTopics.join(','),
        INGEST_LABELS_TOPIC: labelsTopic,
        INGEST_DEAD_LETTER_TOPIC: dlqTopic,
        INGEST_GROUP_ID: 'streamtrain-demo-ingest',
      },
      trainer: { TRAINER_API_TOKEN: trainerToken },
      scorer: {
        SCORER_API_TOKEN: scorerToken,
        SCORER_TOPICS: txTopics.join(','),
        SCORER_LABELS_TOPIC: labelsTopic,
        SCORER_SCORES_TOPIC: scoresTopic,
        SCORER_GROUP_ID: 'streamtrain-demo-scorer',
      },
    },
    ports,
    logDir,
  };
  const services: RunningService[] = await startStack(stack);
  // The operators' console over the demo: every service, both groups' lag, the registry, the
  // dead letters and the scorer's live quality.
  const operatorsConsole = startService('console', {
    ...stack,
    serviceEnv: {
      console: {
        CONSOLE_TOKEN: consoleToken,
        CONSOLE_CLUSTER_NAME: 'demo',
        CONSOLE_SERVICES: SERVICES.map((name) => `${name}=http://127.0.0.1:${ports[name]}`).join(
          ',',
        ),
        CONSOLE_LAG_GROUPS: 'streamtrain-demo-ingest,streamtrain-demo-scorer',
        CONSOLE_DLQ_TOPIC: dlqTopic,
        CONSOLE_SCORER_URL: `http://127.0.0.1:${ports.scorer}`,
        CONSOLE_SCORER_TOKEN: scorerToken,
      },
    },
  });
  services.push(operatorsConsole);
  try {
    await waitUntilReady(operatorsConsole);
  } catch (error) {
    await stopStack(services);
    throw error;
  }
  console.log(
    `console: open http://127.0.0.1:${ports.console}/?token=${consoleToken} (logs in ${path.relative(process.cwd(), operatorsConsole.logFile)})`,
  );
  console.log(
    `ready: metrics at http://127.0.0.1:${ports.ingest}/metrics, :${ports.pipeline}/metrics, :${ports.trainer}/metrics; ` +
      `models at http://127.0.0.1:${ports.trainer}/v1/models (token ${trainerToken}); ` +
      `scores on ${scoresTopic} and POST http://127.0.0.1:${ports.scorer}/v1/score (token ${scorerToken})`,
  );
  let lastScored = { count: 0, at: Date.now() };

  const pool = createPool({
    databaseUrl: options.databaseUrl,
    schema: SCHEMA,
    logger: testLogger,
    poolSize: 2,
  });
  const kafka = createKafkaClient({
    brokers: options.brokers.split(','),
    clientId: 'demo-simulator',
    logger: testLogger,
  });
  const producer = await kafka.producer();
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    console.log('\nCtrl-C: stopping the feed, then the services');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const started = Date.now();
  const deadline = started + options.maxMinutes * 60_000;
  let produced = 0;
  let streamDone = false;
  const simulation = createSimulation({
    customers: options.customers,
    terminals: options.terminals,
    days: options.days,
    seed: options.seed,
  });
  const feeding = publishEvents(simulation.events(), {
    send: async (topic, messages) => {
      await producer.send(topic, messages);
      produced += messages.length;
    },
    ratePerSecond: options.rate,
    topicPrefix: PREFIX,
    signal: controller.signal,
  }).finally(() => {
    streamDone = true;
  });

  const seen = new Set<string>();
  let last: Progress | undefined;
  let idleRounds = 0;
  try {
    while (!interrupted) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const progress = await readProgress(pool);
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      console.log(
        `[${elapsed.padStart(4)}s] produced ${fmt(produced)} · landed ${fmt(progress.transactions)} tx + ${fmt(progress.labels)} labels` +
          ` · features ${fmt(progress.features)} · examples ${fmt(progress.examples)}` +
          ` · batches ingest/pipeline/trainer ${progress.ingestBatches}/${progress.pipelineBatches}/${progress.trainerBatches}`,
      );
      const scoring = await readScoring(ports.scorer, scorerToken);
      const now = Date.now();
      const rate = ((scoring.scored - lastScored.count) * 1000) / Math.max(1, now - lastScored.at);
      lastScored = { count: scoring.scored, at: now };
      console.log(
        `        scored ${fmt(scoring.scored)} (${fmt(Math.round(rate))}/s) by v${scoring.serving ?? '–'}` +
          ` · live AP ${scoring.live.length === 0 ? '– (labels maturing)' : scoring.live.join(' ')}`,
      );
      const versions = (await listModelVersions(pool, 'fraud', 1_000)).reverse();
      for (const version of versions) {
        if (seen.has(version.versionId)) continue;
        seen.add(version.versionId);
        console.log(describeVersion(version));
      }
      const caughtUp =
        streamDone &&
        progress.transactions + progress.labels >= produced &&
        progress.pipelineBatches === progress.ingestBatches &&
        progress.trainerBatches === progress.pipelineBatches &&
        (scoring.serving === null || scoring.scored >= progress.transactions);
      idleRounds =
        caughtUp && JSON.stringify(progress) === JSON.stringify(last) ? idleRounds + 1 : 0;
      // Scores keep maturing after the last batch; the demo does not wait for that.
      last = progress;
      if (idleRounds >= 1) {
        console.log('the feed is done and every batch has been through pipeline and trainer');
        break;
      }
      if (Date.now() > deadline) {
        console.log(`stopping after the ${options.maxMinutes}-minute limit`);
        controller.abort();
        break;
      }
    }
  } finally {
    await feeding.catch((error: unknown) => console.error('feed failed:', error));
    await producer.disconnect();
    const final = await readScoring(ports.scorer, scorerToken);
    lastScored = { count: final.scored, at: Date.now() };
    if (final.live.length > 0)
      console.log(`live quality of the scores served: AP ${final.live.join(' ')}`);
    const versions = await listModelVersions(pool, 'fraud', 1_000).catch(() => []);
    const champion = versions.find((version) => version.status === 'champion');
    await pool.end();
    console.log('stopping the services (SIGTERM)…');
    const codes = await stopStack(services);
    console.log(`services exited with ${codes.join(', ')}`);
    console.log(
      `summary: ${fmt(produced)} events fed; ${versions.length} model versions, ` +
        `champion v${champion?.version ?? '–'} (holdout AP ${pct(champion?.metrics.averagePrecision)}, AUC ${pct(champion?.metrics.auc)}); ` +
        `${fmt(lastScored.count)} transactions scored`,
    );
    if (codes.some((code) => code !== 0)) process.exitCode = 1;
  }
}

const program = new Command('demo')
  .description(
    'Runs the whole loop live: simulated card traffic → ingest → pipeline → trainer → scorer, printing progress, each model version, the scored rate and the live AP per version.',
  )
  .addOption(
    new Option('--customers <n>', 'simulated customers').default(1_000).argParser(parseCount),
  )
  .addOption(
    new Option('--terminals <n>', 'simulated terminals').default(2_000).argParser(parseCount),
  )
  .addOption(new Option('--days <n>', 'simulated days').default(60).argParser(parseCount))
  .addOption(new Option('--rate <n>', 'events per second').default(2_000).argParser(parseCount))
  .addOption(new Option('--seed <n>', 'simulation seed').default(1).argParser(parseCount))
  .addOption(
    new Option('--max-minutes <n>', 'stop after this long whatever happens')
      .default(10)
      .argParser(parsePositive),
  )
  .addOption(
    new Option('--database-url <url>')
      .env('DATABASE_URL')
      .default('postgres://postgres@127.0.0.1:5432/streamtrain'),
  )
  .addOption(
    new Option('--amqp-url <url>').env('AMQP_URL').default('amqp://guest:guest@127.0.0.1:5672'),
  )
  .addOption(new Option('--brokers <list>').env('KAFKA_BROKERS').default('127.0.0.1:9092'))
  .action(async (options: DemoOptions) => runDemo(options));

program.parseAsync().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
