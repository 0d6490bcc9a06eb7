import path from 'node:path';
import {
  createTestSchema,
  freePort,
  spawnService,
  startTcpForwarder,
  testServers,
  uniqueName,
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
    const waiting = await service.untilReadyz(
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to Kafka'),
      '/readyz to report the Kafka connect',
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
    await service.untilReadyz(() => service.warnings().length >= 1, 'the Kafka warning');
    expect(service.warnings()).toEqual([
      `cannot reach Kafka broker 127.0.0.1:${kafkaPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    forwarder = await startTcpForwarder(kafkaPort, testServers().kafkaBrokers[0] as string);
    const ready = await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
    expect(ready?.body).toMatchObject({ ready: true, checks: { kafka: { ok: true } } });
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });

  it('when SIGTERM comes while Kafka is unreachable, then it exits 0 at once', async () => {
    const { service } = await start();
    const { code, ms } = await service.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });
});
