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
import { TOKEN, createScorerHarness } from './scorer-harness';
import type { ScorerHarness } from './scorer-harness';

jest.setTimeout(150_000);

const SCORER_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

// Issue 12, "fail fast and visibly": the ops server answers before RabbitMQ and Kafka do.
describe('scorer while its brokers cannot be reached', () => {
  let harness: ScorerHarness;
  let child: ServiceProcess | undefined;
  const forwarders: TcpForwarder[] = [];

  beforeEach(async () => {
    harness = await createScorerHarness();
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    child = undefined;
    for (const forwarder of forwarders.splice(0)) await forwarder.close();
    await harness.dispose();
  });

  const startingError = (service: ServiceProcess, phase: string) =>
    service.untilReadyz(
      (reply) => JSON.stringify(reply?.body ?? '').includes(phase),
      `/readyz to report ${phase}`,
    );

  it('when RabbitMQ then Kafka are unreachable, then /readyz names each in turn, each is one warning, and once both are there it is ready', async () => {
    await harness.promote(1, false);
    const [httpPort, amqpPort, kafkaPort] = [await freePort(), await freePort(), await freePort()];
    const service = spawnService(
      SCORER_MAIN,
      harness.scorerEnv({
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        LOG_LEVEL: 'info',
      }),
      httpPort,
    );
    child = service;
    expect(await startingError(service, 'connecting to RabbitMQ')).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          startup: { ok: false, error: `connecting to RabbitMQ at 127.0.0.1:${amqpPort}` },
        },
      },
    });
    const scored = await fetch(`http://127.0.0.1:${httpPort}/v1/quality`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(scored.status).toBeLessThan(500);

    forwarders.push(await startTcpForwarder(amqpPort, testServers().amqpUrl));
    const kafka = await startingError(service, 'connecting to Kafka');
    expect(kafka?.body).toMatchObject({
      checks: {
        startup: { ok: false, error: `connecting to Kafka at 127.0.0.1:${kafkaPort}` },
      },
    });
    await service.untilReadyz(() => service.warnings().length >= 2, 'the Kafka warning');
    expect(service.warnings()).toEqual([
      `cannot reach RabbitMQ at 127.0.0.1:${amqpPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
      `cannot reach Kafka broker 127.0.0.1:${kafkaPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    forwarders.push(await startTcpForwarder(kafkaPort, testServers().kafkaBrokers[0] as string));
    const ready = await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
    expect(ready?.body).toMatchObject({
      ready: true,
      checks: { startup: { ok: true }, rabbitmq: { ok: true }, champion: { ok: true } },
    });
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });

  it.each(kafkaClientNames)(
    'on %s, when Kafka stays unreachable after the client gives up, then the scorer keeps waiting (503, one warning) and is ready once Kafka is there',
    async (client) => {
      await harness.promote(1, false);
      const [httpPort, kafkaPort] = [await freePort(), await freePort()];
      const service = spawnService(
        SCORER_MAIN,
        harness.scorerEnv({
          KAFKA_CLIENT: client,
          KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
          LOG_LEVEL: 'debug',
        }),
        httpPort,
      );
      child = service;
      // The client's own connect gave up twice, and the scorer is still there, waiting.
      await Promise.race([
        waitFor(
          () =>
            service.lines.filter(
              (line) => line.msg === `cannot reach Kafka at 127.0.0.1:${kafkaPort}; retrying`,
            ).length,
          (given) => given >= 2,
          { timeoutMs: 100_000, description: 'two connects of the client given up' },
        ),
        service.exited.then((code): never => {
          throw new Error(`scorer exited with ${code} while it should wait for Kafka`);
        }),
      ]);
      expect(await service.readyz()).toMatchObject({
        status: 503,
        body: { checks: { startup: { error: `connecting to Kafka at 127.0.0.1:${kafkaPort}` } } },
      });
      expect(service.warnings()).toEqual([
        `cannot reach Kafka broker 127.0.0.1:${kafkaPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
      ]);

      forwarders.push(await startTcpForwarder(kafkaPort, testServers().kafkaBrokers[0] as string));
      const ready = await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
      expect(ready?.body).toMatchObject({ ready: true, checks: { startup: { ok: true } } });
      expect(await service.terminate()).toMatchObject({ code: 0 });
    },
  );

  it('when SIGTERM comes while it waits for Kafka, then it exits 0 at once', async () => {
    const [httpPort, kafkaPort] = [await freePort(), await freePort()];
    const service = spawnService(
      SCORER_MAIN,
      harness.scorerEnv({ KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` }),
      httpPort,
    );
    child = service;
    await startingError(service, 'connecting to Kafka');
    const { code, ms } = await service.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });
});
