import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import {
  createTestTopics,
  freePort,
  startTlsServers,
  testServers,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestTopics, TlsServers } from '@streamtrain/testkit';
import { REPO_ROOT, startService, startStack, stopStack } from './stack';
import type { RunningService, ServiceName, StackOptions } from './stack';

// Starts a PostgreSQL cluster, a RabbitMQ node and five services on a shared 2-core machine.
jest.setTimeout(300_000);

/**
 * Every service against a PostgreSQL and a RabbitMQ of the test's own that accept TLS only
 * (private CA), configured with the variables docs/OPERATIONS.md ("Connecting to your
 * infrastructure") documents: `DATABASE_URL` with `sslmode=verify-full&sslrootcert=…`,
 * `AMQP_URL=amqps://…` and `NODE_EXTRA_CA_CERTS`. Kafka is the shared plaintext broker.
 */
describe('TLS to PostgreSQL and RabbitMQ, each service its own process', () => {
  let tls: TlsServers;
  let topics: TestTopics;
  let services: RunningService[] = [];
  const schema = uniqueName('tls');
  const logDir = path.join(REPO_ROOT, '.local', 'e2e', schema);

  const verifiedUrl = (caFile: string): string =>
    `${tls.postgresUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;

  const options = async (
    names: readonly ServiceName[],
    env: Record<string, string>,
    logs = logDir,
  ): Promise<StackOptions> => ({
    env: {
      WAREHOUSE_SCHEMA: schema,
      AMQP_EXCHANGE: 'streamtrain.tls',
      KAFKA_BROKERS: testServers().kafkaBrokers.join(','),
      LOG_LEVEL: 'info',
      ...env,
    },
    serviceEnv: {
      ingest: {
        INGEST_TOPICS: topics.names['tx.web'] as string,
        INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
        INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
        INGEST_GROUP_ID: uniqueName('tls-ingest'),
      },
      trainer: { TRAINER_API_TOKEN: 'tls-trainer-token-0123456789' },
      scorer: {
        SCORER_API_TOKEN: 'tls-scorer-token-0123456789',
        SCORER_TOPICS: topics.names['tx.web'] as string,
        SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
        SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
        SCORER_GROUP_ID: uniqueName('tls-scorer'),
      },
      orchestrator: { ORCHESTRATOR_API_TOKEN: 'tls-orchestrator-token-0123456789' },
    },
    ports: Object.fromEntries(
      await Promise.all(names.map(async (name) => [name, await freePort()] as const)),
    ),
    logDir: logs,
  });

  beforeAll(async () => {
    tls = await startTlsServers();
    topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq', 'tx.scores']);
  });

  afterAll(async () => {
    await stopStack(services);
    await topics?.remove();
    await tls?.stop();
  });

  it('when DATABASE_URL verifies the server against its CA and AMQP_URL is amqps with the CA in NODE_EXTRA_CA_CERTS, then every service starts and ingest lands a transaction', async () => {
    const names: ServiceName[] = ['ingest', 'pipeline', 'trainer', 'orchestrator', 'scorer'];
    services = await startStack(
      await options(names, {
        DATABASE_URL: verifiedUrl(tls.caFile),
        AMQP_URL: tls.amqpsUrl,
        NODE_EXTRA_CA_CERTS: tls.caFile,
      }),
      names,
    );
    const producer = await topics.kafka.producer();
    try {
      await producer.send(topics.names['tx.web'] as string, [
        {
          key: 'c1',
          value: JSON.stringify({
            schemaVersion: 1,
            transactionId: 'tls-1',
            customerId: 'c1',
            terminalId: 'm1',
            amount: 12.5,
            eventTime: '2018-04-01T10:00:00Z',
            channel: 'web',
          }),
        },
      ]);
    } finally {
      await producer.disconnect();
    }
    // The server refuses connections without TLS (pg_hba `hostnossl … reject`), so reading the
    // row at all is over TLS too; pg_stat_ssl shows that every connection of the services is.
    const client = new Client({ connectionString: verifiedUrl(tls.caFile) });
    await client.connect();
    try {
      await waitFor(
        async () =>
          (
            await client.query(
              `SELECT 1 FROM ${schema}.transactions WHERE transaction_id = 'tls-1'`,
            )
          ).rowCount,
        (rows) => rows === 1,
        { description: 'the transaction in the warehouse' },
      );
      const connections = await client.query<{ ssl: boolean; n: string }>(
        `SELECT s.ssl, count(*) AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.backend_type = 'client backend' GROUP BY s.ssl`,
      );
      expect(connections.rows.map((row) => row.ssl)).toEqual([true]);
    } finally {
      await client.end();
    }
    for (const service of services) {
      const readiness = (await (await fetch(`http://127.0.0.1:${service.port}/readyz`)).json()) as {
        checks: Record<string, { ok: boolean }>;
      };
      // The scorer waits for a champion, which this test never trains; its connections are up.
      for (const check of ['warehouse', 'rabbitmq'])
        if (check in readiness.checks)
          expect({ service: service.name, check, ok: readiness.checks[check]?.ok }).toEqual({
            service: service.name,
            check,
            ok: true,
          });
    }
    const codes = await stopStack(services);
    services = [];
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  });

  /** Starts `name` with `env`, waits for it to exit, and returns its code and its log's lines. */
  const failedStart = async (
    name: ServiceName,
    env: Record<string, string>,
  ): Promise<{ code: number | null; lines: { msg?: string; err?: { message?: string } }[] }> => {
    const service = startService(
      name,
      await options([name], env, path.join(logDir, uniqueName('failed-start'))),
    );
    const code = await service.exited;
    const lines = readFileSync(service.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; err?: { message?: string } });
    return { code, lines };
  };

  it('when DATABASE_URL trusts another CA, then the service stops at once, saying the certificate is not trusted and what to set', async () => {
    const { code, lines } = await failedStart('pipeline', {
      DATABASE_URL: verifiedUrl(tls.otherCaFile),
      AMQP_URL: tls.amqpsUrl,
      NODE_EXTRA_CA_CERTS: tls.caFile,
    });
    expect(code).not.toBe(0);
    const errors = lines.filter((line) => /not trusted/.test(line.err?.message ?? ''));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.err?.message).toMatch(
      /^the certificate of PostgreSQL at 127\.0\.0\.1:\d+ is not trusted \([A-Z_]+\); set sslrootcert=/,
    );
  });

  it('when the CA of RabbitMQ is not trusted, then the service stops at once, pointing at NODE_EXTRA_CA_CERTS', async () => {
    const { code, lines } = await failedStart('pipeline', {
      DATABASE_URL: verifiedUrl(tls.caFile),
      AMQP_URL: tls.amqpsUrl,
      NODE_EXTRA_CA_CERTS: tls.otherCaFile,
    });
    expect(code).not.toBe(0);
    const errors = lines.filter((line) => /not trusted/.test(line.err?.message ?? ''));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.err?.message).toMatch(
      /^the certificate of RabbitMQ at 127\.0\.0\.1:\d+ is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\); start the service with NODE_EXTRA_CA_CERTS=/,
    );
  });
});
