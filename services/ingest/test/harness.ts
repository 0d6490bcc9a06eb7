import { drainQueue, topologyOf } from '@streamtrain/amqp';
import { BatchArrivedV1 } from '@streamtrain/contracts';
import type { BatchArrived } from '@streamtrain/contracts';
import {
  createTestSchema,
  createTestTopics,
  removeTestExchange,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { migrate } from '@streamtrain/warehouse';
import { loadIngestConfig } from '../src/config';
import type { IngestConfig } from '../src/config';
import { createIngestService } from '../src/service';
import type { IngestService } from '../src/service';

/** One isolated ingest environment on the real servers: topics, exchange, schema, group. */
export interface IngestHarness {
  schema: TestSchema;
  topics: TestTopics;
  exchange: string;
  groupId: string;
  /** The environment a separate ingest process would get. */
  env: Record<string, string>;
  config: IngestConfig;
  startService(): Promise<IngestService>;
  count(tableAndWhere: string): Promise<number>;
  /** Every batch.arrived event published so far (drains the pipeline queue). */
  drainArrivals(): Promise<BatchArrived[]>;
  dispose(): Promise<void>;
}

/** Builds an {@link IngestHarness}. */
export async function createIngestHarness(
  extraEnv: Record<string, string> = {},
): Promise<IngestHarness> {
  const schema = createTestSchema();
  const topics = await createTestTopics(['tx.web', 'tx.pos', 'tx.labels', 'tx.dlq']);
  const exchange = uniqueExchange();
  const groupId = uniqueName('ingest');
  const servers = testServers();
  const env: Record<string, string> = {
    AMQP_URL: servers.amqpUrl,
    AMQP_EXCHANGE: exchange,
    DATABASE_URL: servers.databaseUrl,
    WAREHOUSE_SCHEMA: schema.schema,
    KAFKA_BROKERS: servers.kafkaBrokers.join(','),
    HTTP_PORT: '0',
    INGEST_TOPICS: `${topics.names['tx.web']},${topics.names['tx.pos']}`,
    INGEST_LABELS_TOPIC: topics.names['tx.labels'] as string,
    INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'] as string,
    INGEST_GROUP_ID: groupId,
    INGEST_LINGER_MS: '50',
    LOG_LEVEL: 'silent',
    ...extraEnv,
  };
  const config = loadIngestConfig(env);
  await migrate({ databaseUrl: servers.databaseUrl, schema: schema.schema, logger: testLogger });
  const services: IngestService[] = [];
  return {
    schema,
    topics,
    exchange,
    groupId,
    env,
    config,
    async startService() {
      const service = createIngestService(config, testLogger, (error) => {
        throw error;
      });
      services.push(service);
      await service.start();
      return service;
    },
    async count(tableAndWhere) {
      return Number(
        (await schema.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableAndWhere}`))
          .rows[0]?.n,
      );
    },
    async drainArrivals() {
      const messages = await drainQueue(
        servers.amqpUrl,
        topologyOf(exchange).pipeline.queue,
        100_000,
      );
      return messages.map((message) =>
        BatchArrivedV1.parse(JSON.parse(message.content.toString())),
      );
    },
    async dispose() {
      for (const service of services) await service.stop();
      await topics.remove();
      await removeTestExchange(exchange);
      await schema.drop();
    },
  };
}

/** A valid transaction message for `id`. */
export function transactionJson(id: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 1,
    transactionId: id,
    customerId: `c${id.length}`,
    terminalId: 'm1',
    amount: 42.5,
    eventTime: '2018-04-01T10:00:00.000Z',
    channel: 'web',
    ...overrides,
  });
}
