import { connectAmqp } from '@streamtrain/amqp';
import type { AmqpClient } from '@streamtrain/amqp';
import { migrate } from '@streamtrain/warehouse';
import { createTestSchema, removeTestExchange, testLogger, uniqueExchange } from './isolation';
import type { TestSchema } from './isolation';
import { testServers } from './servers';

/** An isolated, migrated warehouse schema and RabbitMQ exchange for one event-service test. */
export interface EventHarness {
  schema: TestSchema;
  exchange: string;
  /** The environment a service under test gets (URLs, schema, exchange, a free HTTP port, quiet logs). */
  env: Record<string, string>;
  /** A client on the same exchange, to publish what upstream services would. */
  amqp: AmqpClient;
  /** `SELECT count(*) FROM <tableAndWhere>`. */
  count(tableAndWhere: string): Promise<number>;
  dispose(): Promise<void>;
}

/** Builds an {@link EventHarness}. Stop the service under test before `dispose`. */
export async function createEventHarness(): Promise<EventHarness> {
  const servers = testServers();
  const schema = createTestSchema();
  const exchange = uniqueExchange();
  await migrate({ databaseUrl: servers.databaseUrl, schema: schema.schema, logger: testLogger });
  const amqp = await connectAmqp({
    url: servers.amqpUrl,
    exchange,
    logger: testLogger,
    onFatal: () => undefined,
  });
  return {
    schema,
    exchange,
    amqp,
    env: {
      AMQP_URL: servers.amqpUrl,
      AMQP_EXCHANGE: exchange,
      DATABASE_URL: servers.databaseUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
    },
    async count(tableAndWhere) {
      const { rows } = await schema.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${tableAndWhere}`,
      );
      return Number(rows[0]?.n);
    },
    async dispose() {
      await amqp.close();
      await removeTestExchange(exchange);
      await schema.drop();
    },
  };
}
