import { spawn } from 'node:child_process';
import path from 'node:path';
import { kafkaClientNames } from '@streamtrain/config';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { readMessages, testLogger, waitFor } from '@streamtrain/testkit';
import { loadIngestConfig } from '../src/config';
import { createIngestService } from '../src/service';
import type { IngestService } from '../src/service';
import { TRUNCATED_FROM_HEADER } from '../src/adapters/dead-letter-sink';
import { createIngestHarness, transactionJson } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(120_000);

const INGEST_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

const readiness = async (port: number): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: await response.json() };
};

// Issue 13, items 2 and 4.
describe.each(kafkaClientNames)(
  'ingest under oversized dead letters and restarts on %s',
  (client) => {
    let harness: IngestHarness;
    let producer: KafkaProducer;
    const started: IngestService[] = [];

    beforeEach(async () => {
      harness = await createIngestHarness({ KAFKA_CLIENT: client });
      producer = await harness.topics.kafka.producer();
    });

    afterEach(async () => {
      for (const service of started.splice(0)) await service.stop();
      await producer.disconnect();
      await harness.dispose();
    });

    it('when a message is larger than the dead-letter topic allowed, then it is dead-lettered (whole, or truncated when the limit is lowered by hand) and ingest goes on', async () => {
      const web = harness.topics.names['tx.web'] as string;
      const dlq = harness.topics.names['tx.dlq'] as string;
      const admin = await harness.topics.kafka.admin();
      try {
        // The source topic accepts 2 MB; the dead-letter topic was created with broker defaults.
        await admin.setMaxMessageBytes(web, 2_000_000);
        started.push(await harness.startService());
        const huge = Buffer.alloc(1_500_000, 'x');
        await producer.send(web, [
          { value: huge, partition: 0 },
          { value: transactionJson('after-huge-1'), partition: 0 },
        ]);
        await waitFor(
          () => harness.count("transactions WHERE transaction_id = 'after-huge-1'"),
          (n) => n === 1,
        );
        const [whole] = await readMessages(harness.topics.kafka, dlq, 1);
        expect(whole?.value?.length).toBe(1_500_000);
        expect(whole?.headers[DEAD_LETTER_HEADERS.code]).toBe('CONTRACT_PAYLOAD_TOO_LARGE');

        await admin.setMaxMessageBytes(dlq, 100_000);
        await producer.send(web, [
          { value: huge, partition: 0 },
          { value: transactionJson('after-huge-2'), partition: 0 },
        ]);
        await waitFor(
          () => harness.count("transactions WHERE transaction_id = 'after-huge-2'"),
          (n) => n === 1,
        );
        const letters = await readMessages(harness.topics.kafka, dlq, 2);
        const truncated = letters.find(
          (letter) => letter.headers[TRUNCATED_FROM_HEADER] !== undefined,
        );
        expect(truncated?.headers[TRUNCATED_FROM_HEADER]).toBe('1500000');
        expect(truncated?.value?.length).toBeLessThan(100_000);
        expect(truncated?.headers[DEAD_LETTER_HEADERS.sourceOffset]).toBe('2');
        expect(truncated?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/truncated from 1500000/);
      } finally {
        await admin.disconnect();
      }
    });

    it('when ingest restarts after a SIGKILL, then its ops server answers at once and /readyz says it is joining the group, until it is ready', async () => {
      const web = harness.topics.names['tx.web'] as string;
      const child = spawn(process.execPath, [INGEST_MAIN], {
        env: { ...process.env, ...harness.env },
        stdio: 'ignore',
      });
      try {
        await producer.send(web, [{ value: transactionJson('before-kill') }]);
        await waitFor(
          () => harness.count('transactions'),
          (n) => n === 1,
        );
      } finally {
        child.kill('SIGKILL');
      }
      await new Promise((resolve) => child.once('exit', resolve));
      const config = loadIngestConfig(harness.env);
      const service = createIngestService(config, testLogger, (error) => {
        throw error;
      });
      started.push(service);
      const starting = service.start();
      const port = await waitFor(
        () => service.port(),
        (p) => p > 0,
        { intervalMs: 20 },
      );
      const whileJoining = await waitFor(
        () => readiness(port),
        (answer) => JSON.stringify(answer.body).includes('joining the consumer group'),
        { intervalMs: 50, description: '/readyz to report the group join' },
      );
      expect(whileJoining).toMatchObject({
        status: 503,
        body: {
          ready: false,
          checks: { startup: { ok: false, error: 'joining the consumer group' } },
        },
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      await starting;
      expect((await readiness(port)).status).toBe(200);
      await producer.send(web, [{ value: transactionJson('after-restart') }]);
      await waitFor(
        () => harness.count('transactions'),
        (n) => n === 2,
      );
    });
  },
);
