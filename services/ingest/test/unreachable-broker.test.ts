import path from 'node:path';
import { kafkaClientNames } from '@streamtrain/config';
import {
  freePort,
  spawnService,
  startTcpForwarder,
  testServers,
  waitFor,
} from '@streamtrain/testkit';
import type { ServiceProcess, TcpForwarder } from '@streamtrain/testkit';
import { createIngestHarness } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(120_000);

const INGEST_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

// Issue 12, "fail fast and visibly": a starting ingest waits for Kafka as it waits for RabbitMQ.
describe.each(kafkaClientNames)('ingest on %s while Kafka cannot be reached', (client) => {
  let harness: IngestHarness;
  let child: ServiceProcess | undefined;
  let forwarder: TcpForwarder | undefined;

  beforeEach(async () => {
    harness = await createIngestHarness();
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    child = undefined;
    await forwarder?.close();
    forwarder = undefined;
    await harness.dispose();
  });

  const start = async (kafkaPort: number): Promise<ServiceProcess> => {
    const service = spawnService(
      INGEST_MAIN,
      {
        ...harness.env,
        KAFKA_CLIENT: client,
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        LOG_LEVEL: 'debug',
      },
      await freePort(),
    );
    child = service;
    return service;
  };

  // Fails when the service gives up and exits, not only at the timeout.
  const whileRunning = <T>(service: ServiceProcess, waiting: Promise<T>): Promise<T> =>
    Promise.race([
      waiting,
      service.exited.then((code): never => {
        throw new Error(`ingest exited with ${code} while it should wait for Kafka`);
      }),
    ]);

  const attemptsGivenUp = (service: ServiceProcess, kafkaPort: number): number =>
    service.lines.filter(
      (line) => line.msg === `cannot reach Kafka at 127.0.0.1:${kafkaPort}; retrying`,
    ).length;

  it('when the broker is unreachable, then /readyz names it at once, the log says so in one warning instead of an error per retry, and SIGTERM still stops it cleanly', async () => {
    const closed = await freePort();
    const service = await start(closed);
    const answer = await service.untilReadyz(
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to Kafka'),
      '/readyz to report the Kafka connect',
    );
    expect(answer).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          startup: { ok: false, error: `connecting to Kafka at 127.0.0.1:${closed}` },
        },
      },
    });
    // Several attempts pass, each logged at debug level only.
    await service.untilReadyz(
      () => service.lines.filter((line) => line.connectAttempt === true).length >= 2,
      'two connect attempts',
    );
    expect(service.warnings()).toEqual([
      `cannot reach Kafka broker 127.0.0.1:${closed} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });

  it('when Kafka stays unreachable after the client gives up, then ingest keeps waiting (503, still one warning) and runs once Kafka is there', async () => {
    const closed = await freePort();
    const service = await start(closed);
    // The client's own connect gave up twice, and the service is still there, waiting.
    await whileRunning(
      service,
      waitFor(
        () => attemptsGivenUp(service, closed),
        (given) => given >= 2,
        { timeoutMs: 100_000, description: 'two connects of the client given up' },
      ),
    );
    expect(await service.readyz()).toMatchObject({
      status: 503,
      body: { checks: { startup: { error: `connecting to Kafka at 127.0.0.1:${closed}` } } },
    });
    expect(service.warnings()).toEqual([
      `cannot reach Kafka broker 127.0.0.1:${closed} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    forwarder = await startTcpForwarder(closed, testServers().kafkaBrokers[0] as string);
    const ready = await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
    expect(ready?.body).toMatchObject({ ready: true, checks: { kafka: { ok: true } } });
    expect(service.lines.some((line) => line.msg === `reached Kafka at 127.0.0.1:${closed}`)).toBe(
      true,
    );
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });
});
