import path from 'node:path';
import { freePort, spawnService, startTcpForwarder, testServers } from '@streamtrain/testkit';
import type { ServiceProcess, TcpForwarder } from '@streamtrain/testkit';
import { TOKEN, createOrchestratorHarness } from './fixtures';

jest.setTimeout(120_000);

const ORCHESTRATOR_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

// Issue 12, "fail fast and visibly": the ops server answers before RabbitMQ does.
describe('orchestrator while RabbitMQ cannot be reached', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;
  let child: ServiceProcess | undefined;
  let forwarder: TcpForwarder | undefined;

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    child = undefined;
    await forwarder?.close();
    forwarder = undefined;
    await harness.dispose();
  });

  const start = async () => {
    const [httpPort, amqpPort] = [await freePort(), await freePort()];
    const service = spawnService(
      ORCHESTRATOR_MAIN,
      {
        ...harness.orchestratorEnv,
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        LOG_LEVEL: 'debug',
      },
      httpPort,
    );
    child = service;
    const waiting = await service.untilReadyz(
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to RabbitMQ'),
      '/readyz to report the RabbitMQ connect',
    );
    const runs = () =>
      fetch(`http://127.0.0.1:${httpPort}/v1/runs`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((response) => response.status);
    return { amqpPort, waiting, service, runs };
  };

  it('when RabbitMQ is unreachable, then /readyz names it, the log warns once, the API says it is starting, and once RabbitMQ is there it is ready', async () => {
    const { amqpPort, waiting, service, runs } = await start();
    expect(waiting).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          startup: { ok: false, error: `connecting to RabbitMQ at 127.0.0.1:${amqpPort}` },
        },
      },
    });
    expect(await runs()).toBe(503);
    // Several attempts (backoff from 0.5 s), one warning; the repeats at debug level.
    await service.untilReadyz(
      () =>
        service.lines.filter((line) => line.msg.startsWith('cannot reach RabbitMQ')).length >= 3,
      'three connect attempts',
    );
    expect(service.warnings()).toEqual([
      `cannot reach RabbitMQ at 127.0.0.1:${amqpPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    // RabbitMQ appears on that port: the orchestrator connects and becomes ready.
    forwarder = await startTcpForwarder(amqpPort, testServers().amqpUrl);
    const ready = await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
    expect(ready?.body).toMatchObject({
      ready: true,
      checks: { startup: { ok: true }, rabbitmq: { ok: true }, warehouse: { ok: true } },
    });
    expect(await runs()).toBe(200);
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });

  it('when SIGTERM comes while it waits for RabbitMQ, then it exits 0 at once', async () => {
    const { service } = await start();
    const { code, ms } = await service.terminate();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(service.lines.some((line) => line.level === 'fatal')).toBe(false);
  });
});
