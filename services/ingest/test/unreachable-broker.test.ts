import { spawn } from 'node:child_process';
import path from 'node:path';
import { kafkaClientNames } from '@streamtrain/config';
import { freePort, waitFor } from '@streamtrain/testkit';
import { createIngestHarness } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(120_000);

const INGEST_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

interface LogLine {
  level: string;
  msg: string;
  connectAttempt?: boolean;
}

// Issue 12, "fail fast and visibly".
describe.each(kafkaClientNames)('ingest on %s while Kafka cannot be reached', (client) => {
  let harness: IngestHarness;

  beforeEach(async () => {
    harness = await createIngestHarness({ KAFKA_CLIENT: client });
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('when the broker is unreachable, then /readyz names it at once, the log says so in one warning instead of an error per retry, and SIGTERM still stops it cleanly', async () => {
    const [port, closed] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [INGEST_MAIN], {
      env: {
        ...process.env,
        ...harness.env,
        KAFKA_BROKERS: `127.0.0.1:${closed}`,
        HTTP_PORT: String(port),
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines: LogLine[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete)
        if (line.startsWith('{')) lines.push(JSON.parse(line) as LogLine);
    });
    try {
      const answer = await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return response === undefined
            ? undefined
            : { status: response.status, body: await response.json() };
        },
        (reply) => JSON.stringify(reply?.body ?? '').includes('connecting to Kafka'),
        { intervalMs: 100, description: '/readyz to report the Kafka connect' },
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
      // Several attempts pass (the client retries with backoff), each logged at debug level only.
      await waitFor(
        () => lines.filter((line) => line.connectAttempt === true).length,
        (attempts) => attempts >= 3,
        { description: 'three connect attempts' },
      );
      const warnings = lines.filter((line) => ['warn', 'error', 'fatal'].includes(line.level));
      expect(warnings.map((line) => line.msg)).toEqual([
        `cannot reach Kafka broker 127.0.0.1:${closed} (ECONNREFUSED); retrying (repeats are logged at debug level)`,
      ]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
