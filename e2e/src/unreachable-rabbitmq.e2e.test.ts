import path from 'node:path';
import {
  createEventHarness,
  freePort,
  spawnService,
  startTcpForwarder,
  testServers,
} from '@streamtrain/testkit';
import type { EventHarness, ServiceProcess, TcpForwarder } from '@streamtrain/testkit';
import { REPO_ROOT } from './stack';

jest.setTimeout(120_000);

const EXTRA_ENV: Record<'pipeline' | 'trainer', Record<string, string>> = {
  pipeline: {},
  trainer: { TRAINER_API_TOKEN: 'e2e-trainer-token-0123456789', TFJS_BACKEND: 'cpu' },
};

// Issue 12, "fail fast and visibly", for the two services built on service-kit's event service
// (the scorer, the orchestrator, the console and ingest have component tests of their own).
describe.each(['pipeline', 'trainer'] as const)('%s while RabbitMQ cannot be reached', (name) => {
  let harness: EventHarness;
  let child: ServiceProcess | undefined;
  let forwarder: TcpForwarder | undefined;

  beforeEach(async () => {
    harness = await createEventHarness();
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await child?.exited;
    await forwarder?.close();
    await harness.dispose();
  });

  it('when RabbitMQ is unreachable, then /readyz names it and the log warns once; once it is there the service is ready, and SIGTERM exits 0', async () => {
    const [httpPort, amqpPort] = [await freePort(), await freePort()];
    const service = spawnService(
      path.join(REPO_ROOT, 'services', name, 'dist', 'main.js'),
      {
        ...harness.env,
        ...EXTRA_ENV[name],
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        LOG_LEVEL: 'info',
      },
      httpPort,
    );
    child = service;
    const waiting = await service.untilReadyz(
      (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to RabbitMQ'),
      '/readyz to report the RabbitMQ connect',
    );
    expect(waiting).toMatchObject({
      status: 503,
      body: {
        checks: {
          startup: { ok: false, error: `connecting to RabbitMQ at 127.0.0.1:${amqpPort}` },
        },
      },
    });
    await service.untilReadyz(() => service.warnings().length > 0, 'the warning');
    expect(service.warnings()).toEqual([
      `cannot reach RabbitMQ at 127.0.0.1:${amqpPort} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
    ]);
    forwarder = await startTcpForwarder(amqpPort, testServers().amqpUrl);
    await service.untilReadyz((reply) => reply?.status === 200, '/readyz 200');
    expect(service.warnings()).toHaveLength(1);
    expect(await service.terminate()).toMatchObject({ code: 0 });
  });
});
