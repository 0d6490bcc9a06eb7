import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { readMessages, testLogger } from '@streamtrain/testkit';
import { importFile } from '../src/entry-points/file-import';
import { createIngestHarness } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(60_000);

const IMPORT_CLI = path.resolve(__dirname, '..', 'dist', 'cli', 'import.js');
const HEADER = 'schemaVersion,transactionId,customerId,terminalId,amount,eventTime,channel,note';

describe('CSV import (RFC 4180)', () => {
  let harness: IngestHarness;
  let producer: KafkaProducer;
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-csv-'));

  beforeEach(async () => {
    harness = await createIngestHarness();
    producer = await harness.topics.kafka.producer();
  });

  afterEach(async () => {
    await producer.disconnect();
    await harness.dispose();
  });

  it('when a spreadsheet export has a BOM, CRLF endings and quoted commas and line breaks, then its rows land and a short row is dead-lettered as short', async () => {
    const file = path.join(dir, 'export.csv');
    writeFileSync(
      file,
      '\uFEFF' +
        [
          HEADER,
          '1,csv-1,c1,m1,12.5,2018-04-01T10:00:00Z,file,"plain, with a comma"',
          '1,csv-2,c2,m1,7,2018-04-01T11:00:00Z,file,"two\r\nlines, ""quoted"""',
          '1,csv-3,c1,m2',
          '1,csv-4,c3,m2,3,2018-04-02T10:00:00Z,file,',
        ].join('\r\n') +
        '\r\n',
    );
    const summary = await importFile({
      file,
      kind: 'transactions',
      format: 'csv',
      pool: harness.schema.pool,
      deadLetterProducer: producer,
      deadLetterTopic: harness.topics.names['tx.dlq'] as string,
      maxFutureSkewMs: 86_400_000,
      logger: testLogger,
    });
    expect(summary).toMatchObject({ lines: 4, landed: 3, deadLettered: 1 });
    const ids = await harness.schema.pool.query<{ transaction_id: string }>(
      'SELECT transaction_id FROM transactions ORDER BY transaction_id',
    );
    expect(ids.rows.map((row) => row.transaction_id)).toEqual(['csv-1', 'csv-2', 'csv-4']);
    const [letter] = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      1,
    );
    // The record after the two-line one starts on line 5 of the file.
    expect(letter?.headers[DEAD_LETTER_HEADERS.sourceOffset]).toBe('5');
    expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toBe(
      'transaction: line 5: 4 fields where the header has 8 (no amount, eventTime, channel)',
    );
    expect(letter?.value?.toString()).toBe('1,csv-3,c1,m2');
  });

  it('when a quote is never closed, then the row is dead-lettered saying so', async () => {
    const file = path.join(dir, 'unclosed.csv');
    writeFileSync(
      file,
      `${HEADER}\n1,csv-5,c1,m1,1,2018-04-01T10:00:00Z,file,ok\n1,csv-6,c1,m1,1,2018-04-01T10:00:00Z,file,"oops\n`,
    );
    const summary = await importFile({
      file,
      kind: 'transactions',
      format: 'csv',
      pool: harness.schema.pool,
      deadLetterProducer: producer,
      deadLetterTopic: harness.topics.names['tx.dlq'] as string,
      maxFutureSkewMs: 86_400_000,
      logger: testLogger,
    });
    expect(summary).toMatchObject({ lines: 2, landed: 1, deadLettered: 1 });
    const [letter] = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      1,
    );
    expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(
      /^transaction: line 3: CSV row does not parse: Quote Not Closed/,
    );
  });

  it('when the import file does not exist, then the command says so in one line and exits 2', async () => {
    const missing = path.join(dir, 'nope.csv');
    const failure = await promisify(execFile)(process.execPath, [IMPORT_CLI, missing], {
      env: { ...process.env, ...harness.env },
    }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toBe(`streamtrain-import: ${missing}: no such file\n`);
  });
});
