import { existsSync } from 'node:fs';

/** Containers started for a test run, and how to stop them. */
export interface StartedTestServers {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** True when a Docker engine is likely to answer (a socket or DOCKER_HOST), without asking it. */
function dockerConfigured(env: NodeJS.ProcessEnv): boolean {
  return env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock');
}

/**
 * Starts PostgreSQL, RabbitMQ and Kafka with testcontainers when a Docker engine answers and the
 * run has not been pointed at servers already (`TEST_*` variables); otherwise returns null and the
 * tests use the local servers that `infra/local.sh up` provides.
 */
export async function startTestContainers(
  env: NodeJS.ProcessEnv = process.env,
): Promise<StartedTestServers | null> {
  if (
    env.TEST_DATABASE_URL !== undefined ||
    env.STREAMTRAIN_TESTCONTAINERS === '0' ||
    !dockerConfigured(env)
  )
    return null;
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return null; // a CLI or socket without a running engine, as on machines without Docker
  }
  const [{ PostgreSqlContainer }, { RabbitMQContainer }, { KafkaContainer }] = await Promise.all([
    import('@testcontainers/postgresql'),
    import('@testcontainers/rabbitmq'),
    import('@testcontainers/kafka'),
  ]);
  const [postgres, rabbit, kafka] = await Promise.all([
    new PostgreSqlContainer('postgres:16').withDatabase('streamtrain').start(),
    new RabbitMQContainer('rabbitmq:4-management').start(),
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
  ]);
  return {
    env: {
      TEST_DATABASE_URL: postgres.getConnectionUri(),
      TEST_AMQP_URL: rabbit.getAmqpUrl(),
      TEST_KAFKA_BROKERS: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    },
    async stop() {
      await Promise.all([postgres.stop(), rabbit.stop(), kafka.stop()]);
    },
  };
}
