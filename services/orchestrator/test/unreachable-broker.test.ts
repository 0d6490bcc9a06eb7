import path from 'node:path';
import {
  freePort,
  spawnService,
  startTcpForwarder,
  testServers,
  waitFor,
} from '@streamtrain/testkit';
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
    child = spawnService(
      ORCHESTRATOR_MAIN,
      {
        ...harness.orchestratorEnv,
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        LOG_LEVEL: 'debug',
      },
      httpPort,
    );
    const waiting = await waitFor(
      () => child?.readyz(),
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to RabbitMQ'),
      { description: '/readyz to report the RabbitMQ connect' },
    );
    return { httpPort, amqpPort, waiting, child };
  };

  it('when RabbitMQ is unreachable, then /readyz names it, the log warns once, the API says it is starting, and once RabbitMQ is there it is ready', async () => {
    const { httpPort, amqpPort, waiting, child: service } = await start();
    expect(waiting).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          startup: { ok: false, error: `connecting to RabbitMQ at 127.0.0.1:${amqpPort}` },
        },
      },
    });
    const api = await fetch(`http://127.0.0.1:${httpPort}/v1/runs`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.status).toBe(503);
    // Several attempts (backoff from 0.5 s), one warning.
    await waitFor(
      () => service.lines.filter((line) => line.msg.startsWith('cannot reach RabbitMQ')).length,
      (attempts) => attempts >= 3,
      { description: 'three connect attempts', intervalMs: 200 },
    );
    expect(service.warnings()).toEqual([
      `cannot reach RabbitMQ at 127.0.0.1:${amqpPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);

    // RabbitMQ appears on that port: the orchestrator connects and becomes ready.
    const shared = new URL(testServers().amqpUrl);
    forwarder = await startTcpForwarder(amqpPort, {
      host: shared.hostname,
      port: Number(shared.port || 5672),
    });
    const ready = await waitFor(
      () => service.readyz(),
      (reply) => reply?.status === 200,
      { timeoutMs: 60_000, description: '/readyz 200' },
    );
    expect(ready?.body).toMatchObject({
      ready: true,
      checks: { startup: { ok: true }, rabbitmq: { ok: true }, warehouse: { ok: true } },
    });
    const runs = await fetch(`http://127.0.0.1:${httpPort}/v1/runs`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(runs.status).toBe(200);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  it('when SIGTERM comes while it waits for RabbitMQ, then it exits 0 at once', async () => {
    const { child: service } = await start();
    const asked = Date.now();
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(service.lines.some((line) => line.level === 'fatal')).toBe(false);
  });
});
