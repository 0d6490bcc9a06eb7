import { randomBytes } from 'node:crypto';

/** Where the test servers are. Set by `test-servers.ts` (jest global setup) or the environment. */
export interface TestServers {
  databaseUrl: string;
  amqpUrl: string;
  kafkaBrokers: string[];
}

/** The servers the tests use: the local ones unless the environment (or testcontainers) says otherwise. */
export function testServers(env: NodeJS.ProcessEnv = process.env): TestServers {
  return {
    databaseUrl: env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/streamtrain',
    amqpUrl: env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    kafkaBrokers: (env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  };
}

/** A short random name, unique per test: `<prefix>_<hex>` (valid as schema, topic and exchange name). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A TCP port free on 127.0.0.1 right now, for a child process's HTTP server. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
