import { createKafkaClient } from '@streamtrain/kafka';
import type { ConsumedMessage, KafkaClient } from '@streamtrain/kafka';
import { deleteTopology } from '@streamtrain/amqp';
import { createPool } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import pino from 'pino';
import { testServers, uniqueName } from './servers';
import { waitFor } from './wait-for';

/** A logger for test code: silent unless `TEST_LOG_LEVEL` is set. */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** An isolated warehouse schema, dropped by `drop()`. */
export interface TestSchema {
  schema: string;
  databaseUrl: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** Creates a pool on a fresh, unique schema (empty: run migrations against it). */
export function createTestSchema(): TestSchema {
  const { databaseUrl } = testServers();
  const schema = uniqueName('test');
  const pool = createPool({ databaseUrl, schema, logger: testLogger, poolSize: 4 });
  return {
    schema,
    databaseUrl,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
}

/** Topics with unique names for one test, deleted by `remove()`. */
export interface TestTopics {
  kafka: KafkaClient;
  names: Record<string, string>;
  remove(): Promise<void>;
}

/**
 * Creates uniquely named topics, e.g. `createTestTopics(['tx.web', 'tx.labels'])` gives
 * `{ 'tx.web': 'test_ab12.tx.web', … }`.
 */
export async function createTestTopics(
  bases: readonly string[],
  partitions = 4,
  brokers: readonly string[] = testServers().kafkaBrokers,
): Promise<TestTopics> {
  const kafka = createKafkaClient({
    brokers,
    clientId: 'testkit',
    logger: testLogger,
  });
  const prefix = uniqueName('test');
  const names = Object.fromEntries(bases.map((base) => [base, `${prefix}.${base}`]));
  const admin = await kafka.admin();
  try {
    await admin.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions })));
  } finally {
    await admin.disconnect();
  }
  return {
    kafka,
    names,
    async remove() {
      const cleanup = await kafka.admin();
      try {
        await cleanup.deleteTopics(Object.values(names));
      } finally {
        await cleanup.disconnect();
      }
    },
  };
}

/** A unique RabbitMQ exchange name; `removeTestExchange` deletes it and its queues. */
export function uniqueExchange(): string {
  return uniqueName('test').replace('_', '.');
}

/** Deletes a test exchange and its topology queues. */
export async function removeTestExchange(exchange: string): Promise<void> {
  await deleteTopology(testServers().amqpUrl, exchange);
}

/** Reads every message of `topic` until at least `count` arrived (kafkajs testHelpers' `waitForMessages`). */
export async function readMessages(
  kafka: KafkaClient,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<(ConsumedMessage & { partition: number })[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeMs: 50 });
  const received: (ConsumedMessage & { partition: number })[] = [];
  await consumer.run({
    topics: [topic],
    fromBeginning: true,
    onFatal: () => undefined,
    handler: async (batch, control) => {
      received.push(
        ...batch.messages.map((message) => ({ ...message, partition: batch.partition })),
      );
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await control.commit(last.offset);
    },
  });
  try {
    await waitFor(
      () => received.length,
      (n) => n >= count,
      { timeoutMs, description: `${count} messages on ${topic}` },
    );
    return received;
  } finally {
    await consumer.disconnect();
  }
}
