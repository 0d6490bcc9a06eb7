import { startTestContainers } from '@streamtrain/testkit';

/**
 * Where a Docker engine answers (e.g. GitHub Actions without service containers), the tests get
 * their own PostgreSQL, RabbitMQ and Kafka from testcontainers; elsewhere they use the local
 * servers (`infra/local.sh up`).
 */
export default async function globalSetup(): Promise<void> {
  const started = await startTestContainers();
  if (started === null) return;
  Object.assign(process.env, started.env);
  (globalThis as { streamtrainContainers?: typeof started }).streamtrainContainers = started;
}
