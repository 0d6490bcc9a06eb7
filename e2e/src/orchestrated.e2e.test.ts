import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ModelPublishedV1, decodeEvent } from '@streamtrain/contracts';
import { drainQueue, topologyOf } from '@streamtrain/amqp';
import {
  createTestSchema,
  createTestTopics,
  freePort,
  removeTestExchange,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import {
  REPO_ROOT,
  startService,
  startStack,
  stopService,
  stopStack,
  waitUntilReady,
} from './stack';
import type { RunningService } from './stack';

jest.setTimeout(300_000);

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2018-04-01T00:00:00Z');
const N = 6_000;
const DAYS = 40;
const SCORER_TOKEN = 'e2e-scorer-token-0123456789';
const CLI = path.join(REPO_ROOT, 'services', 'orchestrator', 'dist', 'cli', 'main.js');

/** N transactions over 40 days; every 40th is fraud (a large amount), labelled 2 days later. */
function feed(): { transactions: string[]; labels: string[] } {
  const transactions: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < N; i += 1) {
    const customer = `c${i % 150}`;
    const fraud = i % 40 === 0;
    const eventTime = new Date(START_MS + Math.floor((i / N) * DAYS * DAY_MS)).toISOString();
    const tx = {
      schemaVersion: 1,
      transactionId: `orc-${i}`,
      customerId: customer,
      terminalId: `m${i % 97}`,
      amount: fraud ? 300 + (i % 50) : 10 + (i % 70),
      eventTime,
      channel: 'web',
    };
    transactions.push(`${customer}|${JSON.stringify(tx)}`);
    if (fraud) {
      const reportedAt = new Date(Date.parse(eventTime) + 2 * DAY_MS).toISOString();
      labels.push(
        `${customer}|${JSON.stringify({ schemaVersion: 1, transactionId: tx.transactionId, isFraud: true, reportedAt })}`,
      );
    }
  }
  return { transactions, labels };
}

function kcatProduce(topic: string, lines: readonly string[]): void {
  execFileSync('kcat', ['-P', '-b', testServers().kafkaBrokers.join(','), '-t', topic, '-K', '|'], {
    input: `${lines.join('\n')}\n`,
  });
}

describe('a scheduled retrain over a warehouse filled by the streaming path', () => {
  let schema: TestSchema;
  let topics: TestTopics;
  let exchange: string;
  let loop: RunningService[] = [];
  let orchestrator: RunningService | undefined;
  let scorer: RunningService | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    schema = createTestSchema();
    topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq', 'tx.scores']);
    exchange = uniqueExchange();
    const servers = testServers();
    env = {
      AMQP_URL: servers.amqpUrl,
      AMQP_EXCHANGE: exchange,
      DATABASE_URL: servers.databaseUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      LOG_LEVEL: 'info',
    };
    const ports = {
      ingest: await freePort(),
      pipeline: await freePort(),
      trainer: await freePort(),
      orchestrator: await freePort(),
      scorer: await freePort(),
    };
    const options = {
      env,
      serviceEnv: {
        ingest: {
          INGEST_TOPICS: topics.names['tx.web'] as string,
          INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
          INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
          INGEST_GROUP_ID: uniqueName('e2e'),
        },
        // The continuous trainer stays out of this test: it would never reach its step size.
        trainer: {
          TRAINER_API_TOKEN: 'e2e-trainer-token-0123456789',
          TRAINER_MIN_EXAMPLES: '1000000',
        },
        orchestrator: {
          ORCHESTRATOR_API_TOKEN: 'e2e-token-0123456789abcdef',
          ORCHESTRATOR_CRON_CHECK_SECONDS: '1',
          ORCHESTRATOR_POLL_SECONDS: '0.5',
          TFJS_BACKEND: 'cpu',
        },
        // Serves whichever version is champion; this one comes from the orchestrator.
        scorer: {
          SCORER_API_TOKEN: SCORER_TOKEN,
          SCORER_TOPICS: topics.names['tx.web'] as string,
          SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
          SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
          SCORER_GROUP_ID: uniqueName('e2e-scorer'),
        },
      },
      ports,
      logDir: path.join(REPO_ROOT, '.local', 'e2e', schema.schema),
    };
    // The streaming path that fills the warehouse, and the scorer that serves the champion.
    loop = await startStack(options, ['ingest', 'pipeline', 'trainer', 'scorer']);
    scorer = loop.find((service) => service.name === 'scorer');
    orchestrator = startService('orchestrator', options);
    await waitUntilReady(orchestrator);
  });

  afterAll(async () => {
    const codes = [
      ...(orchestrator === undefined ? [] : [await stopService(orchestrator)]),
      ...(await stopStack(loop)),
    ];
    await topics.remove();
    await removeTestExchange(exchange);
    await schema.pool.query(`DROP SCHEMA IF EXISTS ${schema.schema}_jobs CASCADE`);
    await schema.drop();
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  });

  const count = async (sql: string): Promise<number> =>
    Number((await schema.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]?.n);

  it('when a schedule is set with the CLI, then the run retrains from the warehouse, promotes a version, announces it, and the scorer serves it', async () => {
    const { transactions, labels } = feed();
    kcatProduce(topics.names['tx.web'] as string, transactions);
    kcatProduce(topics.names['tx.labels'] as string, labels);
    await waitFor(
      () => count('features'),
      (n) => n === N,
      { timeoutMs: 120_000, description: `${N} feature vectors` },
    );

    const set = execFileSync(process.execPath, [CLI, 'schedules', 'set', 'retrain', '* * * * *'], {
      env: { ...process.env, ...env },
    }).toString();
    expect(set).toMatch(/retrain: \* \* \* \* \* \(UTC\); next /);

    const run = await waitFor(
      () =>
        schema.pool.query<{
          run_id: string;
          status: string;
          version_id: string | null;
          promoted: boolean | null;
        }>(
          `SELECT run_id, status, version_id, promoted FROM orchestrator_runs WHERE trigger_kind = 'cron' ORDER BY created_at LIMIT 1`,
        ),
      (result) => ['succeeded', 'failed'].includes(result.rows[0]?.status ?? ''),
      { timeoutMs: 150_000, description: 'the scheduled run to finish' },
    );
    execFileSync(process.execPath, [CLI, 'schedules', 'remove', 'retrain'], {
      env: { ...process.env, ...env },
    });
    const finished = run.rows[0];
    expect(finished).toMatchObject({ status: 'succeeded', promoted: true });

    const champion = await schema.pool.query<{
      version_id: string;
      lineage: { sourceBatchIds: string[] };
    }>(
      `SELECT a.version_id, v.lineage FROM model_aliases a JOIN model_versions v USING (version_id) WHERE a.alias = 'champion'`,
    );
    expect(champion.rows[0]?.version_id).toBe(finished?.version_id);
    expect(champion.rows[0]?.lineage.sourceBatchIds.length).toBeGreaterThan(0);

    const announcements = await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(exchange).modelPublished.queue),
      (messages) => messages.length > 0,
      { description: 'a model.published event' },
    );
    const published = decodeEvent(
      ModelPublishedV1,
      announcements[0]?.content ?? Buffer.alloc(0),
      'model.published',
    );
    expect(published.ok && published.value.versionId).toBe(finished?.version_id);

    // The scorer loads the orchestrator's champion and becomes ready.
    const serving = await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${scorer?.port}/v1/model`, {
          headers: { authorization: `Bearer ${SCORER_TOKEN}` },
        });
        return response.status === 200
          ? ((await response.json()) as { modelVersionId: string })
          : undefined;
      },
      (model) => model?.modelVersionId === finished?.version_id,
      { timeoutMs: 60_000, description: "the scorer serving the orchestrator's champion" },
    );
    expect(serving?.modelVersionId).toBe(finished?.version_id);
    await waitUntilReady(scorer as RunningService, 30_000, '/readyz');

    // One feature definition: the retrain computed what the pipeline stored. The customer
    // features agree bit for bit. Terminal features may not: the pipeline computes a batch's
    // features when it lands, and a terminal's history from other customers (other Kafka
    // partitions) can land later; a backfill like this feed shows it, the retrain does not.
    const transform = await schema.pool.query<{
      payload: { train: { transactionIds: string[]; features: number[][] } };
    }>(`SELECT payload FROM orchestrator_steps WHERE run_id = $1 AND step = 'transform'`, [
      finished?.run_id,
    ]);
    const computed = transform.rows[0]?.payload.train;
    expect(computed?.transactionIds.length).toBeGreaterThan(500);
    const stored = await schema.pool.query<{ transaction_id: string; feature_values: number[] }>(
      'SELECT transaction_id, feature_values FROM features WHERE transaction_id = ANY($1::text[])',
      [computed?.transactionIds],
    );
    const byId = new Map(stored.rows.map((row) => [row.transaction_id, row.feature_values]));
    const customerPart = (values: number[] | undefined) => values?.slice(0, 9);
    computed?.transactionIds.forEach((id, i) =>
      expect(customerPart(byId.get(id))).toEqual(customerPart(computed.features[i])),
    );

    const shown = execFileSync(
      process.execPath,
      [CLI, 'runs', 'show', finished?.run_id as string],
      {
        env: { ...process.env, ...env },
      },
    ).toString();
    expect(shown).toMatch(/succeeded/);
    expect(shown).toMatch(/publish\s+completed/);
  });
});
