import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { createLogger } from '@streamtrain/observability';
import { readMessages, testLogger } from '@streamtrain/testkit';
import { importFile } from '../src/entry-points/file-import';
import { createIngestHarness, transactionJson } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(60_000);

const HEADER = 'schemaVersion,transactionId,customerId,terminalId,amount,eventTime,channel';

// Issue 13, items 1 and 7, on the file-import write path.
describe('file import under bad lines and look-alike files', () => {
  let harness: IngestHarness;
  let producer: KafkaProducer;
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-import-faults-'));

  beforeEach(async () => {
    harness = await createIngestHarness();
    producer = await harness.topics.kafka.producer();
  });

  afterEach(async () => {
    await producer.disconnect();
    await harness.dispose();
  });

  const run = (file: string, format: 'jsonl' | 'csv') =>
    importFile({
      file,
      kind: 'transactions',
      format,
      pool: harness.schema.pool,
      deadLetterProducer: producer,
      deadLetterTopic: harness.topics.names['tx.dlq'] as string,
      batchSize: 100,
      maxFutureSkewMs: 86_400_000,
      logger: testLogger,
    });

  it('when a line carries a date the warehouse cannot store, then that line is dead-lettered and the rest of its batch lands', async () => {
    const file = path.join(dir, 'poison.jsonl');
    writeFileSync(
      file,
      [
        transactionJson('p-1'),
        transactionJson('p-2', { eventTime: '0000-01-01T00:00:00Z' }),
        transactionJson('p-3', { eventTime: '2018-04-01T10:00:00+18:00' }),
        transactionJson('p-4'),
      ].join('\n'),
    );
    expect(await run(file, 'jsonl')).toMatchObject({ landed: 2, deadLettered: 2 });
    expect(await harness.count("transactions WHERE transaction_id IN ('p-1', 'p-4')")).toBe(2);
    const letters = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      2,
    );
    expect(
      letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.sourceOffset]).sort(),
    ).toEqual(['2', '3']);
  });

  it('when two files with the same name in different folders are imported, then both land, each under its own batches', async () => {
    const first = path.join(dir, 'a', 'export.jsonl');
    const second = path.join(dir, 'b', 'export.jsonl');
    mkdirSync(path.dirname(first), { recursive: true });
    mkdirSync(path.dirname(second), { recursive: true });
    writeFileSync(first, `${transactionJson('same-1')}\n${transactionJson('same-2')}\n`);
    writeFileSync(second, `${transactionJson('other-1')}\n${transactionJson('other-2')}\n`);
    expect(await run(first, 'jsonl')).toMatchObject({ landed: 2, batches: 1 });
    expect(await run(second, 'jsonl')).toMatchObject({ landed: 2, batches: 1 });
    expect(await harness.count('transactions')).toBe(4);
    expect(await harness.count('ingest_batches')).toBe(2);
  });

  it('when a CSV file has an extra column, then its rows are treated as the same JSON with an extra field is: landed, the field dropped', async () => {
    // The contracts' evolution policy (docs/CONTRACTS.md): an additive field is accepted and
    // dropped, the same whether it comes as a JSON key or as a CSV column.
    const csv = path.join(dir, 'extra.csv');
    writeFileSync(
      csv,
      [`${HEADER},surprise`, '1,x-1,c1,m1,12.5,2018-04-01T10:00:00Z,file,yes'].join('\n'),
    );
    const jsonl = path.join(dir, 'extra.jsonl');
    writeFileSync(jsonl, `${transactionJson('x-3', { surprise: 'yes' })}\n`);
    expect(await run(csv, 'csv')).toMatchObject({ landed: 1, deadLettered: 0 });
    expect(await run(jsonl, 'jsonl')).toMatchObject({ landed: 1, deadLettered: 0 });
  });

  it('when a CSV line has more fields than its header names, then it is dead-lettered saying so', async () => {
    const csv = path.join(dir, 'long.csv');
    writeFileSync(
      csv,
      [
        HEADER,
        '1,x-4,c1,m1,12.5,2018-04-01T10:00:00Z,file',
        '1,x-5,c1,m1,12.5,2018-04-01T10:00:00Z,file,surprise',
      ].join('\n'),
    );
    expect(await run(csv, 'csv')).toMatchObject({ landed: 1, deadLettered: 1 });
    const [letter] = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      1,
    );
    expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/8 fields where the header has 7/);
  });

  // Issue 13 item 7: the same id with another amount was counted as a duplicate, with no record.
  it('when a file repeats a transaction id with another amount, then it is counted and logged as a conflict, not a duplicate, and recorded; a reversed label is counted as a correction', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'ingest-import',
      destination: { write: (line: string) => lines.push(line) },
    });
    const first = path.join(dir, 'first.jsonl');
    const again = path.join(dir, 'again.jsonl');
    writeFileSync(first, `${transactionJson('k-1', { amount: 10 })}\n${transactionJson('k-2')}\n`);
    writeFileSync(again, `${transactionJson('k-1', { amount: 99 })}\n${transactionJson('k-2')}\n`);
    await run(first, 'jsonl');
    const summary = await importFile({
      file: again,
      kind: 'transactions',
      format: 'jsonl',
      pool: harness.schema.pool,
      deadLetterProducer: producer,
      deadLetterTopic: harness.topics.names['tx.dlq'] as string,
      maxFutureSkewMs: 86_400_000,
      logger,
    });
    expect(summary).toMatchObject({ landed: 0, duplicates: 1, conflicts: 1 });
    expect(
      await harness.count(
        "transaction_conflicts WHERE transaction_id = 'k-1' AND incoming_amount = 99",
      ),
    ).toBe(1);
    const conflictLines = lines
      .map((line) => JSON.parse(line) as { msg: string; conflicts?: number })
      .filter((line) => line.conflicts === 1 && /conflict/.test(line.msg));
    expect(conflictLines.length).toBeGreaterThan(0);

    const label = (isFraud: boolean, reportedAt: string): string =>
      JSON.stringify({ schemaVersion: 1, transactionId: 'k-2', isFraud, reportedAt });
    const fraud = path.join(dir, 'fraud.jsonl');
    const reversed = path.join(dir, 'reversed.jsonl');
    writeFileSync(fraud, `${label(true, '2018-04-02T00:00:00Z')}\n`);
    writeFileSync(reversed, `${label(false, '2018-04-09T00:00:00Z')}\n`);
    const labels = (file: string) =>
      importFile({
        file,
        kind: 'labels',
        format: 'jsonl',
        pool: harness.schema.pool,
        deadLetterProducer: producer,
        deadLetterTopic: harness.topics.names['tx.dlq'] as string,
        maxFutureSkewMs: 86_400_000,
        logger: testLogger,
      });
    expect(await labels(fraud)).toMatchObject({ landed: 1, corrected: 0 });
    expect(await labels(reversed)).toMatchObject({ landed: 1, corrected: 1, duplicates: 0 });
  });
});
