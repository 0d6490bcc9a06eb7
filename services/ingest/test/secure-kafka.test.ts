import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kafkaClientNames, kafkaConnectionOf, loadConfig } from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaClient } from '@streamtrain/kafka';
import {
  createTestSchema,
  createTestTopics,
  removeTestExchange,
  startSecureKafka,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { SecureKafka, TestSchema, TestTopics } from '@streamtrain/testkit';
import { migrate } from '@streamtrain/warehouse';
import { ingestEnvSchema } from '../src/config';
import { createIngestService } from '../src/service';
import type { IngestService } from '../src/service';
import { transactionJson } from './harness';

// A JVM start on a shared 2-core machine.
jest.setTimeout(300_000);

/** An unsecured (alg "none") JWS, which the test broker's default OAUTHBEARER validator accepts. */
function unsecuredJws(subject: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: now, exp: now + 3600 })}.`;
}

describe('secure connections to Kafka', () => {
  let broker: SecureKafka;
  let scratch: string;

  beforeAll(async () => {
    broker = await startSecureKafka();
    scratch = mkdtempSync(path.join(tmpdir(), 'secure-kafka-'));
  });

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await broker.stop();
  });

  // One broker, each client against it.
  describe.each(kafkaClientNames)('on %s', (client) => {
    /** The service-level variables for `broker` with `security` on top. */
    const clientFor = (security: Record<string, string>): KafkaClient =>
      createKafkaClient({
        ...kafkaConnectionOf(
          loadConfig(ingestEnvSchema, {
            AMQP_URL: testServers().amqpUrl,
            DATABASE_URL: testServers().databaseUrl,
            KAFKA_CLIENT: client,
            ...security,
          }),
        ),
        clientId: 'secure-test',
        logger: testLogger,
      });

    const canListTopics = async (security: Record<string, string>): Promise<boolean> => {
      const admin = await clientFor(security).admin();
      try {
        return Array.isArray(await admin.listTopics());
      } finally {
        await admin.disconnect();
      }
    };

    it('when SCRAM-SHA-256, PLAIN or OAUTHBEARER credentials are set, then the client authenticates with each', async () => {
      const tokenFile = path.join(scratch, 'token');
      writeFileSync(tokenFile, unsecuredJws('streamtrain'));
      const scram256 = {
        KAFKA_BROKERS: broker.saslBroker,
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
        KAFKA_SASL_USERNAME: broker.scramUser,
        KAFKA_SASL_PASSWORD: broker.scramPassword,
      };
      const plainOverTls = {
        KAFKA_BROKERS: broker.saslSslBroker,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: broker.caFile,
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: broker.plainUser,
        KAFKA_SASL_PASSWORD: broker.plainPassword,
      };
      const oauth = {
        KAFKA_BROKERS: broker.saslBroker,
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile,
      };
      expect(await canListTopics(scram256)).toBe(true);
      expect(await canListTopics(plainOverTls)).toBe(true);
      expect(await canListTopics(oauth)).toBe(true);
    });

    it('when the SCRAM password is wrong, then connecting fails at once with a non-retriable error naming the user', async () => {
      const attempt = clientFor({
        KAFKA_BROKERS: broker.saslBroker,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: broker.scramUser,
        KAFKA_SASL_PASSWORD: 'not-the-password',
      }).admin();
      await expect(attempt).rejects.toMatchObject({
        code: 'KAFKA_AUTH_FAILED',
        retriable: false,
        message: expect.stringMatching(
          new RegExp(`refused SCRAM-SHA-512 authentication for user "${broker.scramUser}"`),
        ) as unknown,
      });
    });

    describe('the ingest service', () => {
      let schema: TestSchema;
      let topics: TestTopics;
      let exchange: string;
      const services: IngestService[] = [];

      beforeEach(async () => {
        schema = createTestSchema();
        topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.dlq'], 2, [
          broker.plaintextBroker,
        ]);
        exchange = uniqueExchange();
        await migrate({
          databaseUrl: schema.databaseUrl,
          schema: schema.schema,
          logger: testLogger,
        });
      });

      afterEach(async () => {
        for (const service of services.splice(0)) await service.stop();
        await topics.remove();
        await removeTestExchange(exchange);
        await schema.drop();
      });

      const startIngest = async (security: Record<string, string>): Promise<IngestService> => {
        const config = loadConfig(ingestEnvSchema, {
          AMQP_URL: testServers().amqpUrl,
          AMQP_EXCHANGE: exchange,
          DATABASE_URL: schema.databaseUrl,
          WAREHOUSE_SCHEMA: schema.schema,
          HTTP_PORT: '0',
          INGEST_TOPICS: topics.names['tx.web'] as string,
          INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
          INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
          INGEST_GROUP_ID: uniqueName('ingest'),
          INGEST_LINGER_MS: '50',
          LOG_LEVEL: 'silent',
          KAFKA_CLIENT: client,
          ...security,
        });
        const service = createIngestService(config, testLogger, (error) => {
          throw error;
        });
        services.push(service);
        await service.start();
        return service;
      };

      const landsThrough = async (security: Record<string, string>): Promise<number> => {
        await startIngest(security);
        const producer = await topics.kafka.producer();
        try {
          await producer.send(topics.names['tx.web'] as string, [
            { key: 'c1', value: transactionJson('secure-1') },
          ]);
        } finally {
          await producer.disconnect();
        }
        return waitFor(
          async () =>
            Number(
              (
                await schema.pool.query<{ n: string }>(
                  `SELECT count(*) AS n FROM transactions WHERE transaction_id = 'secure-1'`,
                )
              ).rows[0]?.n,
            ),
          (n) => n === 1,
          { timeoutMs: 60_000 },
        );
      };

      it('when configured for SCRAM-SHA-512 over TLS with a private CA, then it consumes and lands a transaction', async () => {
        const landed = await landsThrough({
          KAFKA_BROKERS: broker.saslSslBroker,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: broker.caFile,
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: broker.scramUser,
          KAFKA_SASL_PASSWORD: broker.scramPassword,
        });
        expect(landed).toBe(1);
      });

      it('when configured for mutual TLS with an encrypted client key, then it consumes and lands a transaction', async () => {
        const landed = await landsThrough({
          KAFKA_BROKERS: broker.sslBroker,
          KAFKA_SSL: 'true',
          KAFKA_SSL_CA_FILE: broker.caFile,
          KAFKA_SSL_CERT_FILE: broker.clientCertFile,
          KAFKA_SSL_KEY_FILE: broker.clientKeyFile,
          KAFKA_SSL_KEY_PASSWORD: broker.clientKeyPassword,
        });
        expect(landed).toBe(1);
      });

      it('when its SASL password is wrong, then start fails with KAFKA_AUTH_FAILED instead of retrying', async () => {
        await expect(
          startIngest({
            KAFKA_BROKERS: broker.saslBroker,
            KAFKA_SASL_MECHANISM: 'scram-sha-256',
            KAFKA_SASL_USERNAME: broker.scramUser,
            KAFKA_SASL_PASSWORD: 'wrong',
          }),
        ).rejects.toMatchObject({ code: 'KAFKA_AUTH_FAILED', retriable: false });
      });
    });
  });
});
