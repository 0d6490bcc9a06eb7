import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectAmqp } from '@streamtrain/amqp';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import type { Transaction } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  removeTestExchange,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import { inTransaction, migrate, registerModelVersion } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import { fmt, progress } from '../harness/progress';
import { startServiceProcess } from '../harness/service-process';
import { fillTopic } from '../ingest/fill-topic';
import { simulatedTransactions } from '../ingest/simulated-transactions';

const run = promisify(execFile);

/** Options of {@link runScoringBenchmark}. */
export interface ScoringBenchOptions {
  /** Transactions streamed through the scorer (also its online history for the HTTP runs). */
  readonly messages: number;
  /** Seconds of each HTTP load run. */
  readonly seconds: number;
  /** Requests per second of the single-transaction and swap runs. */
  readonly rate: number;
  /** Transactions per request of the batch run. */
  readonly batchSize: number;
  readonly seed: number;
}

/** One load run, as measured by the load generator (wrk, a process of its own). */
export interface LoadRun {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly connections?: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latencyMs: { p50: number; p99: number; max: number };
}

/** `docs/results/scoring.json` `results` (an older file may say it was not measured). */
export type ScoringResults =
  MeasuredScoring | { readonly measured: false; readonly reason: string };

/** What a scoring run measured. */
export interface MeasuredScoring {
  readonly measured: true;
  /** The machine was busy when the run started (1-minute load at or above the core count). */
  readonly provisional: boolean;
  readonly stream: { messages: number; seconds: number; transactionsPerSecond: number };
  readonly httpSingle: LoadRun & { targetRate: number };
  readonly httpBatch: LoadRun & { batchSize: number; transactionsPerSecond: number };
  readonly swapUnderLoad: LoadRun & { swappedTo: string; servingAfter: string | null };
}

const TOKEN = 'bench-token-0123456789abcdef';

async function registerChampion(pool: Pool, seed: number): Promise<string> {
  const model = FraudModel.create(featureNames(), { seed });
  const artifact = await model.toArtifact();
  model.dispose();
  const versionId = randomUUID();
  await inTransaction(pool, (client) =>
    registerModelVersion(client, {
      versionId,
      modelName: 'fraud',
      parentVersionId: null,
      promote: true,
      gateReason: 'scoring benchmark',
      metrics: { auc: null, averagePrecision: null, examples: 0, positives: 0 },
      championMetrics: null,
      lineage: {
        exampleSetIds: [],
        sourceBatchIds: [],
        offsets: [],
        labelCutoff: null,
        featureSetVersion: FEATURE_SET_VERSION,
        parentVersionId: null,
      },
      artifact,
      backend: 'bench',
      trainedSamples: 0,
    }),
  );
  return versionId;
}

/** Seconds of load before the measured single-transaction run. */
const WARM_UP_SECONDS = 5;

/**
 * The load generator's script: the request, a fixed pace per connection, and the summary as one
 * JSON line (latencies in microseconds, from wrk's own histogram).
 */
const WRK_SCRIPT = `
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
local pace = tonumber(os.getenv("WRK_DELAY_MS"))
if pace > 0 then
  function delay() return pace end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"status":%d,"errors":%d,"p50":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

/**
 * Drives `url` with wrk (a C load generator, its own process, so it takes little of the two
 * cores the scorer shares with it). With `rate`, each connection sends its next request a fixed
 * delay after the previous response, enough connections for at least that rate; without, the
 * connections send back to back (the batch run). wrk times each request in microseconds; the
 * pace is in whole milliseconds, so the rate achieved is reported, not assumed.
 */
async function wrk(
  url: string,
  body: string,
  seconds: number,
  load: { readonly rate: number } | { readonly connections: number },
): Promise<LoadRun> {
  // A 2 ms pace per connection, and 30 % more connections than the rate needs at that pace, for
  // the time each request itself takes.
  const delayMs = 'rate' in load ? 2 : 0;
  const connections =
    'rate' in load
      ? Math.max(1, Math.ceil(((load.rate * delayMs) / 1000) * 1.3))
      : load.connections;
  const dir = mkdtempSync(path.join(tmpdir(), 'scoring-bench-'));
  const bodyFile = path.join(dir, 'body.json');
  const scriptFile = path.join(dir, 'load.lua');
  writeFileSync(bodyFile, body);
  writeFileSync(scriptFile, WRK_SCRIPT);
  const { stdout } = await run(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', scriptFile, url],
    {
      env: {
        ...process.env,
        WRK_BODY_FILE: bodyFile,
        WRK_TOKEN: TOKEN,
        WRK_DELAY_MS: String(delayMs),
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  )
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw new Error(
          "wrk not found: run `bash infra/install-tools.sh` (it installs Debian's wrk)",
        );
      }
      throw error;
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`wrk printed no summary: ${stdout}`);
  const report = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    status: number;
    errors: number;
    p50: number;
    p99: number;
    max: number;
  };
  const ms = (us: number): number => Math.round(us / 10) / 100;
  return {
    requests: report.requests,
    requestsPerSecond: Math.round(report.requests / (report.durationUs / 1e6)),
    connections,
    non2xx: report.status,
    errors: report.errors,
    latencyMs: { p50: ms(report.p50), p99: ms(report.p99), max: ms(report.max) },
  };
}

/**
 * Benchmark 5: the scorer as a process of its own. Streams `messages` transactions through it
 * (scores/s to `tx.scores`, acks = all), then drives its HTTP API from wrk in another
 * process: single transactions at `rate` req/s (latency), batches of `batchSize` (throughput),
 * and the single run again while a new champion is published (non-2xx must be 0).
 */
export async function runScoringBenchmark(
  options: ScoringBenchOptions,
  context: BenchContext,
): Promise<BenchOutcome<MeasuredScoring>> {
  const busyAtStart = (loadavg()[0] ?? 0) >= cpus().length;
  const servers = testServers();
  const schema = createTestSchema();
  context.cleanup.add('drop scoring schema', () => schema.drop());
  await migrate({ databaseUrl: servers.databaseUrl, schema: schema.schema, logger: testLogger });
  const topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.scores']);
  context.cleanup.add('delete scoring topics', () => topics.remove());
  const exchange = uniqueExchange();
  context.cleanup.add('delete scoring exchange', () => removeTestExchange(exchange));

  const feed: Transaction[] = [...simulatedTransactions(options.seed, options.messages)];
  progress(`scoring: filling ${fmt(feed.length)} transactions`);
  await fillTopic(topics.kafka, topics.names['tx.web'] as string, feed);
  await registerChampion(schema.pool, 1);

  const port = await freePort();
  const scorer = startServiceProcess({
    name: 'scorer',
    port,
    logDir: context.logDir,
    env: {
      AMQP_URL: servers.amqpUrl,
      AMQP_EXCHANGE: exchange,
      DATABASE_URL: servers.databaseUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      LOG_LEVEL: 'warn',
      SCORER_API_TOKEN: TOKEN,
      SCORER_TOPICS: topics.names['tx.web'] as string,
      SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
      SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
      SCORER_GROUP_ID: uniqueName('bench-scorer'),
      SCORER_HTTP_MAX_BATCH: String(Math.max(10_000, options.batchSize)),
    },
  });
  context.cleanup.add('stop scorer', () => scorer.stop());
  await scorer.waitReady();
  const scoredOf = async (): Promise<number> =>
    (await scorer.metrics())
      .filter((s) => s.name === 'streamtrain_scorer_scored_total' && s.labels.path === 'stream')
      .reduce((sum, s) => sum + s.value, 0);
  const streamStarted = performance.now();
  await waitFor(scoredOf, (n) => n >= feed.length, {
    timeoutMs: 600_000,
    intervalMs: 200,
    description: `${feed.length} transactions scored`,
  });
  const streamSeconds = (performance.now() - streamStarted) / 1000;
  const stream = {
    messages: feed.length,
    seconds: streamSeconds,
    transactionsPerSecond: Math.round(feed.length / streamSeconds),
  };
  progress(`scoring: stream ${fmt(stream.transactionsPerSecond)} tx/s`);

  const url = `http://127.0.0.1:${port}/v1/score`;
  const single = JSON.stringify(feed[feed.length - 1]);
  // Warm-up, not reported: the HTTP path's first seconds run unoptimised code, and the heap
  // the stream run left behind is still being collected.
  await wrk(url, single, WARM_UP_SECONDS, { rate: options.rate });
  const singleRun = await wrk(url, single, options.seconds, { rate: options.rate });
  progress(
    `scoring: single p99 ${singleRun.latencyMs.p99} ms at ${fmt(singleRun.requestsPerSecond)} req/s`,
  );

  const batch = JSON.stringify({ transactions: feed.slice(-options.batchSize) });
  const batchRun = await wrk(url, batch, options.seconds, { connections: 4 });
  const httpBatch = {
    ...batchRun,
    batchSize: options.batchSize,
    transactionsPerSecond: batchRun.requestsPerSecond * options.batchSize,
  };
  progress(`scoring: batch ${fmt(httpBatch.transactionsPerSecond)} tx/s`);

  // The swap: a new champion registered and announced a third of the way into the load.
  const amqp = await connectAmqp({
    url: servers.amqpUrl,
    exchange,
    logger: testLogger,
    onFatal: () => undefined,
  });
  const swapping = wrk(url, single, options.seconds, { rate: options.rate });
  await new Promise((resolve) => setTimeout(resolve, (options.seconds * 1000) / 3));
  const swappedTo = await registerChampion(schema.pool, 2);
  await amqp.publish({
    routingKey: ROUTING_KEYS.modelPublished,
    messageId: swappedTo,
    body: {
      schemaVersion: 1,
      type: 'model.published',
      modelName: 'fraud',
      versionId: swappedTo,
      version: 2,
      parentVersionId: null,
      trainedOnBatches: [],
      metrics: { auc: null, averagePrecision: null, examples: 0, positives: 0 },
      occurredAt: new Date().toISOString(),
    },
  });
  const swapRun = await swapping;
  await amqp.close();
  const model = (await (
    await fetch(`http://127.0.0.1:${port}/v1/model`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  ).json()) as { modelVersionId?: string };
  progress(`scoring: swap under load, ${swapRun.non2xx} non-2xx, serving ${model.modelVersionId}`);
  await scorer.stop();

  return {
    config: {
      messages: options.messages,
      seconds: options.seconds,
      rate: options.rate,
      batchSize: options.batchSize,
      seed: options.seed,
    },
    results: {
      measured: true,
      provisional: busyAtStart,
      stream,
      httpSingle: { ...singleRun, targetRate: options.rate },
      httpBatch,
      swapUnderLoad: { ...swapRun, swappedTo, servingAfter: model.modelVersionId ?? null },
    },
  };
}
