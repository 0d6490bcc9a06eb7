import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
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
});
