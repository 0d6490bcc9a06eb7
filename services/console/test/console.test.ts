import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadLetterHeaders } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import {
  createTestSchema,
  createTestTopics,
  testLogger,
  testServers,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { inTransaction, migrate, registerModelVersion } from '@streamtrain/warehouse';
import type { NewModelVersion } from '@streamtrain/warehouse';
import { ScorerQualityReader } from '../src/adapters/scorer-quality-reader';
import { loadConsoleConfig } from '../src/config';
import { createConsoleService } from '../src/service';
import type { ConsoleService } from '../src/service';

jest.setTimeout(60_000);

const TOKEN = 'component-test-token-0123';
const SCORER_TOKEN = 'scorer-test-token-0123456';

/** What the scorer's `GET /v1/quality` answers (services/scorer/src/entry-points/http-api.ts). */
const SCORER_QUALITY = {
  pending: 42,
  versions: [
    {
      modelVersionId: 'v-2',
      modelVersion: 2,
      examples: 900,
      positives: 12,
      auc: 0.91,
      averagePrecision: 0.55,
      cardPrecisionAt100: 0.1,
    },
  ],
};

/**
 * A stand-in for the scorer's HTTP API: the console only reads `GET /v1/quality` from it, behind
 * the bearer token, and running the real scorer would need a trained model.
 */
function startScorerStandIn(): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/v1/quality') {
      response.writeHead(404).end();
    } else if (request.headers.authorization !== `Bearer ${SCORER_TOKEN}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"token"}');
    } else {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(SCORER_QUALITY));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Snapshot {
  lag: {
    error: string | null;
    groups: {
      group: string;
      sumLag: number;
      partitions: { topic: string; lag: number; committed: number | null }[];
    }[];
  };
  services: { name: string; state: string; instancesAlive: number }[];
  deadLetters: { total: number; reasons: { code: string; count: number }[] };
  registry: {
    champion: { version: number } | null;
    promotions: number;
    refusals: number;
    versions: { decision: string; holdout: { averagePrecision: number | null } }[];
  } | null;
  loop: { batchesAwaitingPipeline: number } | null;
  runs: { exists: boolean; table: string };
  liveQuality: {
    configured: boolean;
    pending: number | null;
    versions: { modelVersion: number; averagePrecision: number | null }[];
    error: string | null;
  };
  outbox: { table: string; pending: number }[];
}

function version(id: string, promote: boolean, ap: number): NewModelVersion {
  return {
    versionId: id,
    modelName: 'fraud',
    parentVersionId: null,
    promote,
    gateReason: promote ? 'first champion' : 'candidate AP below champion',
    metrics: { auc: 0.8, averagePrecision: ap, examples: 100, positives: 5 },
    championMetrics: null,
    lineage: {
      exampleSetIds: [],
      sourceBatchIds: [],
      offsets: [],
      labelCutoff: '2018-04-10T00:00:00.000Z',
      featureSetVersion: 1,
      parentVersionId: null,
    },
    artifact: {},
    backend: 'cpu',
    trainedSamples: 100,
  };
}

describe('console service', () => {
  let schema: TestSchema;
  let topics: TestTopics;
  let producer: KafkaProducer;
  let service: ConsoleService;
  let scorer: Server;
  let scorerUrl = '';
  const group = uniqueName('console-group');
  const base = (): string => `http://127.0.0.1:${service.port()}`;
  const snapshot = async (): Promise<Snapshot> => {
    const response = await fetch(`${base()}/api/snapshot`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return (await response.json()) as Snapshot;
  };

  beforeAll(async () => {
    schema = createTestSchema();
    await migrate({ databaseUrl: schema.databaseUrl, schema: schema.schema, logger: testLogger });
    topics = await createTestTopics(['tx.web', 'tx.dlq'], 2);
    producer = await topics.kafka.producer();
    const web = topics.names['tx.web'] as string;
    await producer.send(
      web,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })),
    );
    // The group reads and commits the first three messages, then leaves.
    const consumer = topics.kafka.consumer({ groupId: group });
    let committed = false;
    void consumer.run({
      topics: [web],
      handler: async (batch, control) => {
        const third = batch.messages[2];
        if (!committed && third !== undefined) {
          await control.commit(third.offset);
          committed = true;
        }
      },
      onFatal: () => undefined,
    });
    await waitFor(
      () => Promise.resolve(committed),
      (done) => done,
      { description: 'the group committed' },
    );
    await consumer.disconnect();
    const reason = {
      code: 'CONTRACT_INVALID_JSON',
      reason: 'not JSON',
      sourceTopic: web,
      sourcePartition: 0,
      sourceOffset: '7',
      failedAt: new Date().toISOString(),
      service: 'ingest',
    };
    await producer.send(topics.names['tx.dlq'] as string, [
      { key: 'k', value: '{bad', headers: deadLetterHeaders(reason) },
      { key: 'k', value: '{worse', headers: deadLetterHeaders(reason) },
    ]);
    await inTransaction(schema.pool, async (client) => {
      await registerModelVersion(client, version('v-1', true, 0.4));
      await registerModelVersion(client, version('v-2', false, 0.2));
    });

    scorer = await startScorerStandIn();
    scorerUrl = `http://127.0.0.1:${(scorer.address() as AddressInfo).port}`;
    const { kafkaBrokers, databaseUrl } = testServers();
    service = createConsoleService(
      loadConsoleConfig({
        HTTP_PORT: '0',
        DATABASE_URL: databaseUrl,
        WAREHOUSE_SCHEMA: schema.schema,
        KAFKA_BROKERS: kafkaBrokers.join(','),
        CONSOLE_TOKEN: TOKEN,
        CONSOLE_CLUSTER_NAME: 'component',
        CONSOLE_LAG_GROUPS: group,
        CONSOLE_LAG_POLL_MS: '200',
        CONSOLE_REFRESH_MS: '200',
        CONSOLE_DLQ_TOPIC: topics.names['tx.dlq'] as string,
        // Nothing listens on port 9: that service is down.
        CONSOLE_SERVICES: 'gone=http://127.0.0.1:9',
        CONSOLE_SCORER_URL: scorerUrl,
        CONSOLE_SCORER_TOKEN: SCORER_TOKEN,
      }),
      testLogger,
    );
    await service.start();
  });

  afterAll(async () => {
    await service.stop();
    await new Promise((resolve) => scorer.close(resolve));
    await producer.disconnect();
    await topics.remove();
    await schema.drop();
  });

  it('when a group is behind, then its lag per partition comes from the brokers', async () => {
    const state = await waitFor(snapshot, (s) => (s.lag.groups[0]?.partitions.length ?? 0) > 0, {
      description: 'lag read',
    });
    const lag = state.lag.groups[0];
    expect(lag?.group).toBe(group);
    // Partition 0: 10 produced, 3 committed. Partition 1: nothing produced or committed.
    expect(lag?.partitions.find((p) => p.committed !== null)).toMatchObject({ lag: 7 });
    expect(lag?.sumLag).toBe(7);
  });

  it('exports the lag under kafka-lag-exporter names with cluster_name from config', async () => {
    // The time lag needs two latest-offset points a poll apart: keep producing.
    await producer.send(topics.names['tx.web'] as string, [
      { key: 'k', value: 'more', partition: 0 },
    ]);
    const text = await waitFor(
      () => fetch(`${base()}/metrics`).then((response) => response.text()),
      (body) => /^kafka_consumergroup_group_lag_seconds\{[^}]*\} [1-9]/m.test(body),
      { description: 'a positive time lag exported' },
    );
    for (const name of [
      'kafka_consumergroup_group_offset',
      'kafka_consumergroup_group_lag',
      'kafka_consumergroup_group_max_lag',
      'kafka_consumergroup_group_max_lag_seconds',
      'kafka_consumergroup_group_sum_lag',
      'kafka_consumergroup_group_topic_sum_lag',
      'kafka_partition_latest_offset',
      'kafka_partition_earliest_offset',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}\\{[^}]*cluster_name="component"`, 'm'));
    }
    expect(text).toMatch(/^streamtrain_model_champion_version\{[^}]*\} 1$/m);
    expect(text).toMatch(
      /^streamtrain_dead_letters_total\{[^}]*code="CONTRACT_INVALID_JSON"[^}]*\} 2$/m,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });

  it('shows the registry, dead letters, services and an empty run history', async () => {
    const state = await waitFor(
      snapshot,
      (s) => s.registry !== null && s.deadLetters.total === 2 && s.services.length === 1,
      { description: 'warehouse, DLQ and probes read' },
    );
    expect(state.registry).toMatchObject({ champion: { version: 1 }, promotions: 1, refusals: 1 });
    expect(state.registry?.versions.map((v) => v.decision)).toEqual(['promoted', 'refused']);
    expect(state.deadLetters.reasons).toEqual([
      expect.objectContaining({ code: 'CONTRACT_INVALID_JSON', count: 2 }),
    ]);
    expect(state.services).toEqual([
      expect.objectContaining({ name: 'gone', state: 'down', instancesAlive: 0 }),
    ]);
    // The orchestrator's migration creates its run table, empty until a run is triggered.
    expect(state.runs).toMatchObject({ exists: true, table: 'orchestrator_runs', rows: [] });
    expect(state.outbox.map((o) => o.table)).toEqual([
      'ingest_outbox',
      'pipeline_outbox',
      'trainer_outbox',
    ]);
    expect(state.loop?.batchesAwaitingPipeline).toBe(0);
  });

  it("shows the scorer's live quality from its GET /v1/quality, read with the scorer's token", async () => {
    const state = await waitFor(snapshot, (s) => s.liveQuality.versions.length > 0, {
      description: 'live quality read',
    });
    expect(state.liveQuality).toMatchObject({
      configured: true,
      pending: 42,
      versions: [{ modelVersion: 2, averagePrecision: 0.55 }],
      error: null,
    });
  });

  it('when the scorer token is wrong or missing, then the live quality says why', async () => {
    const wrong = new ScorerQualityReader({ url: scorerUrl, token: 'not-the-scorer-token' });
    await wrong.poll();
    expect(wrong.current()).toMatchObject({
      configured: true,
      versions: [],
      error: 'GET /v1/quality answered 401 (check CONSOLE_SCORER_TOKEN)',
    });
    const missing = new ScorerQualityReader({ url: scorerUrl, token: undefined });
    await missing.poll();
    expect(missing.current()).toMatchObject({ configured: false, error: null, versions: [] });
  });

  it('when the orchestrator has run, then its runs are shown', async () => {
    await schema.pool.query(
      `INSERT INTO orchestrator_runs (run_id, workflow, trigger_kind, triggered_by, status)
       VALUES ('r1', 'retrain', 'manual', 'operator', 'succeeded')`,
    );
    const runsOf = (s: Snapshot) => (s.runs as unknown as { rows: { run_id: string }[] }).rows;
    const state = await waitFor(snapshot, (s) => runsOf(s).length > 0, {
      description: 'runs read',
    });
    expect(runsOf(state)[0]?.run_id).toBe('r1');
  });

  it('refuses the page and the API without the token; the token once sets a cookie and leaves the URL', async () => {
    expect((await fetch(`${base()}/api/snapshot`)).status).toBe(401);
    expect(
      (await fetch(`${base()}/api/snapshot`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const login = await fetch(`${base()}/`);
    expect(login.status).toBe(401);
    expect(await login.text()).toMatch(/<form/);
    const redirect = await fetch(`${base()}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe('/');
    const cookie = redirect.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(`${base()}/`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await page.text()).toMatch(/uPlot\.iife\.min\.js/);
    expect((await fetch(`${base()}/assets/uPlot.iife.min.js`)).status).toBe(200);
  });

  it('pushes snapshots as server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base()}/api/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body?.getReader();
    const first = await reader?.read();
    controller.abort();
    expect(Buffer.from(first?.value ?? new Uint8Array()).toString()).toMatch(
      /^event: snapshot\ndata: \{/,
    );
  });
});
