import path from 'node:path';
import { freePort, spawnService } from '@streamtrain/testkit';
import { createIngestHarness } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(120_000);

const INGEST_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

// Issue 12, "fail fast and visibly".
describe('ingest while Kafka cannot be reached', () => {
  let harness: IngestHarness;

  beforeEach(async () => {
    harness = await createIngestHarness();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('when the broker is unreachable, then /readyz names it at once, the log says so in one warning instead of an error per retry, and SIGTERM still stops it cleanly', async () => {
    const [port, closed] = [await freePort(), await freePort()];
    const child = spawnService(
      INGEST_MAIN,
      { ...harness.env, KAFKA_BROKERS: `127.0.0.1:${closed}`, LOG_LEVEL: 'debug' },
      port,
    );
    try {
      const answer = await child.untilReadyz(
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
      // Several attempts pass (kafkajs retries with backoff), each logged at debug level only.
      await child.untilReadyz(
        () => child.lines.filter((line) => line.kafkajs === 'Connection').length >= 3,
        'three connect attempts',
      );
      expect(child.warnings()).toEqual([
        `cannot reach Kafka broker 127.0.0.1:${closed} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
      ]);
    } finally {
      expect(await child.terminate()).toMatchObject({ code: 0 });
    }
  });
});
