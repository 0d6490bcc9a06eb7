import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { readMessages, testLogger, waitFor } from '@streamtrain/testkit';
import { loadIngestConfig } from '../src/config';
import { createIngestService } from '../src/service';
import { importFile } from '../src/entry-points/file-import';
import { createIngestHarness, transactionJson } from './harness';
import type { IngestHarness } from './harness';

jest.setTimeout(60_000);

describe('file import (the "other data stores" path)', () => {
  let harness: IngestHarness;
  let producer: KafkaProducer;
  const dir = mkdtempSync(path.join(tmpdir(), 'streamtrain-import-'));

  beforeEach(async () => {
    harness = await createIngestHarness();
    producer = await harness.topics.kafka.producer();
  });

  afterEach(async () => {
    await producer.disconnect();
    await harness.dispose();
  });

  const run = (file: string, kind: 'transactions' | 'labels', format: 'jsonl' | 'csv') =>
    importFile({
      file,
      kind,
      format,
      pool: harness.schema.pool,
      deadLetterProducer: producer,
      deadLetterTopic: harness.topics.names['tx.dlq'] as string,
      batchSize: 2,
      maxFutureSkewMs: 86_400_000,
      logger: testLogger,
    });

  it('when a CSV file is imported twice, then its valid rows land once, its bad row is dead-lettered with its line, and its batches are announced', async () => {
    const file = path.join(dir, 'store-export.csv');
    writeFileSync(
      file,
      [
        'schemaVersion,transactionId,customerId,terminalId,amount,eventTime,channel',
        '1,csv-1,c1,m1,12.5,2018-04-01T10:00:00Z,file',
        '1,csv-2,c2,m1,-3,2018-04-01T10:00:00Z,file',
        '1,csv-3,c1,m2,99,2018-04-02T10:00:00Z,file',
      ].join('\n'),
    );
    const first = await run(file, 'transactions', 'csv');
    expect(first).toMatchObject({ lines: 3, landed: 2, deadLettered: 1 });
    const again = await run(file, 'transactions', 'csv');
    expect(again).toMatchObject({ landed: 0, duplicates: 2 });
    expect(await harness.count('transactions')).toBe(2);
    expect(await harness.count('ingest_outbox')).toBe(first.batches);
    const [letter] = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      1,
    );
    expect(letter?.headers[DEAD_LETTER_HEADERS.sourceTopic]).toMatch(
      /^file:store-export\.csv#[0-9a-f]{12}$/,
    );
    expect(letter?.headers[DEAD_LETTER_HEADERS.sourceOffset]).toBe('3');
    expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/amount/);
  });

  /** How many letters the test's dead-letter topic holds. */
  const deadLetterCount = async (): Promise<number> => {
    const admin = await harness.topics.kafka.admin();
    try {
      const offsets = await admin.latestOffsets(harness.topics.names['tx.dlq'] as string);
      return offsets.reduce((sum, partition) => sum + Number(partition.offset), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('when a file with bad lines is imported again, then its bad lines are not dead-lettered twice; a line rewritten with other bad content is', async () => {
    const file = path.join(dir, 'twice.jsonl');
    const lines = [
      transactionJson('dlq-once-1'),
      '{"schemaVersion":1,"transactionId":"dlq-once-2"',
      transactionJson('dlq-once-3'),
      JSON.stringify({ ...JSON.parse(transactionJson('dlq-once-4')), amount: -1 }),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = await run(file, 'transactions', 'jsonl');
    expect(first).toMatchObject({ lines: 4, landed: 2, deadLettered: 2, alreadyDeadLettered: 0 });
    const again = await run(file, 'transactions', 'jsonl');
    expect(again).toMatchObject({
      landed: 0,
      duplicates: 2,
      deadLettered: 0,
      alreadyDeadLettered: 2,
    });
    expect(await deadLetterCount()).toBe(2);

    // Line 2 rewritten with another mistake is new bad input, and is dead-lettered.
    lines[1] = '{"schemaVersion":1,"transactionId":"dlq-once-2","amount":"12"}';
    writeFileSync(file, `${lines.join('\n')}\n`);
    const rewritten = await run(file, 'transactions', 'jsonl');
    expect(rewritten).toMatchObject({ deadLettered: 1, alreadyDeadLettered: 1 });
    expect(await deadLetterCount()).toBe(3);
    const letters = await readMessages(
      harness.topics.kafka,
      harness.topics.names['tx.dlq'] as string,
      3,
    );
    expect(
      letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.sourceOffset]).sort(),
    ).toEqual(['2', '2', '4']);
  });

  it('when a JSONL file of labels is imported, then the labels land through the same write path', async () => {
    const txFile = path.join(dir, 'tx.jsonl');
    writeFileSync(txFile, `${transactionJson('j-1')}\n${transactionJson('j-2')}\n`);
    const labelFile = path.join(dir, 'labels.jsonl');
    writeFileSync(
      labelFile,
      `${JSON.stringify({ schemaVersion: 1, transactionId: 'j-1', isFraud: true, reportedAt: '2018-04-03T00:00:00Z' })}\n`,
    );
    await run(txFile, 'transactions', 'jsonl');
    const labels = await run(labelFile, 'labels', 'jsonl');
    expect(labels).toMatchObject({ lines: 1, landed: 1, deadLettered: 0 });
    expect(await harness.count('labels')).toBe(1);
  });
});

describe('topic pattern subscription', () => {
  it('when topics are chosen by a pattern, then every matching source topic is consumed', async () => {
    const harness = await createIngestHarness();
    try {
      const prefix = (harness.topics.names['tx.web'] as string).replace(/tx\.web$/, '');
      const config = loadIngestConfig({
        ...harness.env,
        INGEST_TOPIC_PATTERN: `^${prefix.replace(/\./g, '\\.')}tx\\.(web|pos)$`,
      });
      const service = createIngestService(config, testLogger, (error) => {
        throw error;
      });
      await service.start();
      const producer = await harness.topics.kafka.producer();
      try {
        await producer.send(harness.topics.names['tx.web'] as string, [
          { value: transactionJson('p-1') },
        ]);
        await producer.send(harness.topics.names['tx.pos'] as string, [
          { value: transactionJson('p-2', { channel: 'pos' }) },
        ]);
        await waitFor(
          () => harness.count('transactions'),
          (n) => n === 2,
        );
      } finally {
        await producer.disconnect();
        await service.stop();
      }
    } finally {
      await harness.dispose();
    }
  });
});
