import path from 'node:path';
import {
  createTestSchema,
  freePort,
  spawnService,
  startTcpForwarder,
  testServers,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { ServiceProcess, TcpForwarder, TestSchema } from '@streamtrain/testkit';

jest.setTimeout(120_000);

const CONSOLE_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

// Issue 12, "fail fast and visibly": the console starts without Kafka and says so.
describe('console while Kafka cannot be reached', () => {
  let schema: TestSchema;
  let child: ServiceProcess | undefined;
  let forwarder: TcpForwarder | undefined;

  beforeEach(() => {
    schema = createTestSchema();
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    child = undefined;
    await forwarder?.close();
    forwarder = undefined;
    await schema.drop();
  });

  const start = async () => {
    const [httpPort, kafkaPort] = [await freePort(), await freePort()];
    const service = spawnService(
      CONSOLE_MAIN,
      {
        DATABASE_URL: testServers().databaseUrl,
        WAREHOUSE_SCHEMA: schema.schema,
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        CONSOLE_TOKEN: 'console-token-0123456789',
        CONSOLE_LAG_GROUPS: uniqueName('group'),
        CONSOLE_LAG_POLL_MS: '200',
        CONSOLE_REFRESH_MS: '200',
        CONSOLE_DLQ_TOPIC: uniqueName('dlq'),
        CONSOLE_SERVICES: 'gone=http://127.0.0.1:9',
      },
      httpPort,
    );
    child = service;
    const waiting = await waitFor(
      () => service.readyz(),
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to Kafka'),
      { description: '/readyz to report the Kafka connect' },
    );
    return { service, kafkaPort, waiting };
  };

  it('when Kafka is unreachable, then /readyz names it, the log warns once, and once Kafka is there it is ready', async () => {
    const { service, kafkaPort, waiting } = await start();
    expect(waiting).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          startup: { ok: true },
          warehouse: { ok: true },
          kafka: { ok: false, error: `connecting to Kafka at 127.0.0.1:${kafkaPort}` },
        },
      },
    });
    await waitFor(
      () => service.warnings().length,
      (count) => count >= 1,
      { description: 'the Kafka warning' },
    );
    expect(service.warnings()).toEqual([
      `cannot reach Kafka broker 127.0.0.1:${kafkaPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    const [host, port] = (testServers().kafkaBrokers[0] as string).split(':');
    forwarder = await startTcpForwarder(kafkaPort, { host: host as string, port: Number(port) });
    const ready = await waitFor(
      () => service.readyz(),
      (reply) => reply?.status === 200,
      { timeoutMs: 90_000, description: '/readyz 200' },
    );
    expect(ready?.body).toMatchObject({ ready: true, checks: { kafka: { ok: true } } });
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  it('when SIGTERM comes while Kafka is unreachable, then it exits 0 at once', async () => {
    const { service } = await start();
    const asked = Date.now();
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(Date.now() - asked).toBeLessThan(10_000);
  });
});
