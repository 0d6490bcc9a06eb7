import { spawn } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { kafkaClientNames } from '@streamtrain/config';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { readMessages, waitFor } from '@streamtrain/testkit';
import { createIngestHarness, transactionJson } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(180_000);

const INGEST_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

describe.each(kafkaClientNames)('ingest delivery guarantees on %s', (client) => {
  let harness: IngestHarness;
  let producer: KafkaProducer;
  let cleanup: () => void = () => undefined;

  beforeEach(async () => {
    // A short session so a SIGKILLed member's partitions move on quickly.
    harness = await createIngestHarness({
      INGEST_SESSION_TIMEOUT_MS: '6000',
      KAFKA_CLIENT: client,
    });
    producer = await harness.topics.kafka.producer();
  });

  afterEach(async () => {
    cleanup();
    cleanup = () => undefined;
    await producer.disconnect();
    await harness.dispose();
  });

  it('when the ingest process is SIGKILLed again and again mid-stream, then every id lands exactly once and is announced', async () => {
    const topic = harness.topics.names['tx.web'] as string;
    const total = 20_000;
    let sent = 0;
    const feeding = (async () => {
      while (sent < total) {
        const chunk = Array.from({ length: Math.min(300, total - sent) }, (_, i) => {
          const id = `k${sent + i}`;
          return { key: `c${(sent + i) % 97}`, value: transactionJson(id) };
        });
        await producer.send(topic, chunk);
        sent += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    })();
    const children = new Set<ReturnType<typeof spawn>>();
    const runIngest = (): ReturnType<typeof spawn> => {
      const child = spawn(process.execPath, [INGEST_MAIN], {
        env: { ...process.env, ...harness.env },
        stdio: 'ignore',
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    };
    // A failed assertion must not leave an ingest process behind.
    cleanup = () => {
      for (const child of children) child.kill('SIGKILL');
    };

    let kills = 0;
    while (sent < total && kills < 8) {
      const child = runIngest();
      const before = await harness.count('transactions');
      // Let it land some rows, then kill it without warning, whatever it is doing.
      await waitFor(
        () => harness.count('transactions'),
        (n) => n > before || sent >= total,
        { timeoutMs: 60_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, 150 + (kills % 4) * 150));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      kills += 1;
    }
    await feeding;
    expect(kills).toBeGreaterThanOrEqual(3);
    const survivor = runIngest();
    try {
      await waitFor(
        () => harness.count('transactions'),
        (n) => n >= total,
        { timeoutMs: 90_000 },
      );
      await waitFor(
        () => harness.count('ingest_outbox WHERE published_at IS NULL'),
        (n) => n === 0,
      );
    } finally {
      survivor.kill('SIGTERM');
      await new Promise((resolve) => survivor.once('exit', resolve));
    }
    const ids = await harness.schema.pool.query<{ n: string; distinct_ids: string }>(
      `SELECT count(*) AS n, count(DISTINCT transaction_id) AS distinct_ids FROM transactions WHERE transaction_id LIKE 'k%'`,
    );
    expect(Number(ids.rows[0]?.n)).toBe(total);
    expect(Number(ids.rows[0]?.distinct_ids)).toBe(total);
    // Each batch is announced (an event may be published twice if the relay died between the
    // broker's confirm and its own commit; consumers drop it by batch id).
    const announced = new Map(
      (await harness.drainArrivals()).map((event) => [event.batchId, event.transactionCount]),
    );
    const stored = await harness.schema.pool.query<{ batch_id: string; n: string }>(
      'SELECT batch_id, count(*) AS n FROM transactions GROUP BY batch_id',
    );
    for (const row of stored.rows) expect(announced.get(row.batch_id)).toBe(Number(row.n));
    expect([...announced.values()].reduce((sum, n) => sum + n, 0)).toBe(total);
  });

  it('when two instances share the consumer group, then they split the partitions and no row is written twice', async () => {
    const first = await harness.startService();
    const second = await harness.startService();
    await waitFor(
      () => [first.assignment(), second.assignment()],
      ([a, b]) =>
        Object.values(a ?? {}).flat().length > 0 && Object.values(b ?? {}).flat().length > 0,
      { timeoutMs: 60_000, description: 'both instances holding partitions' },
    );
    const topic = harness.topics.names['tx.web'] as string;
    const total = 4_000;
    for (let start = 0; start < total; start += 500) {
      await producer.send(
        topic,
        Array.from({ length: 500 }, (_, i) => ({
          key: `c${(start + i) % 31}`,
          value: transactionJson(`s${start + i}`),
        })),
      );
    }
    await waitFor(
      () => harness.count('transactions'),
      (n) => n === total,
      { timeoutMs: 60_000 },
    );
    const batches = await harness.schema.pool.query<{ n: string }>(
      'SELECT sum(transaction_count) AS n FROM ingest_batches',
    );
    expect(Number(batches.rows[0]?.n)).toBe(total);
  });

  it('when arbitrary malformed messages arrive among valid ones, then nothing crashes, each bad one is dead-lettered with a reason and each valid one lands', async () => {
    const service = await harness.startService();
    const topic = harness.topics.names['tx.web'] as string;
    const dlq = harness.topics.names['tx.dlq'] as string;
    const valid = {
      schemaVersion: 1,
      transactionId: 'x',
      customerId: 'c',
      terminalId: 'm',
      amount: 1,
      eventTime: '2018-04-01T00:00:00Z',
      channel: 'web',
    };
    const malformed = fc.oneof(
      fc.string({ maxLength: 40 }).filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      }),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record({ field: fc.constantFrom(...Object.keys(valid)), value: fc.anything() })
        .map(({ field, value }) =>
          JSON.stringify({ ...valid, [field]: value === undefined ? null : value }),
        ),
      fc
        .constantFrom(...Object.keys(valid))
        .map((field) => JSON.stringify({ ...valid, [field]: undefined })),
      fc
        .double({ min: -1e9, max: -0.01, noNaN: true })
        .map((amount) => JSON.stringify({ ...valid, amount })),
      fc
        .double({ min: 1_000_001, max: 1e12, noNaN: true })
        .map((amount) => JSON.stringify({ ...valid, amount })),
      fc
        .integer({ min: 2, max: 1e6 })
        .map((schemaVersion) => JSON.stringify({ ...valid, schemaVersion })),
      fc.integer({ min: 2, max: 1000 }).map((years) =>
        JSON.stringify({
          ...valid,
          eventTime: new Date(Date.now() + years * 3.2e10).toISOString(),
        }),
      ),
      fc
        .integer({ min: 17_000, max: 40_000 })
        .map((size) => JSON.stringify({ ...valid, padding: 'x'.repeat(size) })),
    );
    let run = 0;
    let expectedDead = 0;
    let expectedRows = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(malformed, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 20 }),
        async (bad, goodCount) => {
          run += 1;
          const good = Array.from({ length: goodCount }, (_, i) => transactionJson(`f${run}-${i}`));
          const messages = [...bad, ...good].map((value, i) => ({ key: `k${i % 3}`, value }));
          await producer.send(topic, messages);
          expectedDead += bad.length;
          expectedRows += good.length;
          await waitFor(
            () => harness.count('transactions'),
            (n) => n === expectedRows,
            { timeoutMs: 30_000 },
          );
          const letters = await readMessages(harness.topics.kafka, dlq, expectedDead);
          expect(letters).toHaveLength(expectedDead);
          for (const letter of letters) {
            expect(letter.headers[DEAD_LETTER_HEADERS.reason]?.length).toBeGreaterThan(0);
            expect(letter.headers[DEAD_LETTER_HEADERS.code]).toMatch(/^(CONTRACT|INGEST)_/);
            expect(letter.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topic);
          }
          expect((await fetch(`http://127.0.0.1:${service.port()}/healthz`)).status).toBe(200);
        },
      ),
      { numRuns: 8, seed: 20261127 },
    );
  });
});
