import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import type { FraudLabel, Transaction } from '@streamtrain/contracts';
import {
  RecordWriter,
  createSimulation,
  formatCsvRow,
  groundTruthCodec,
  groundTruthOf,
  labelCodec,
  parseCsvRow,
  readCsvRows,
  readRecordFile,
  readRecords,
  transactionCodec,
  writeSimulationFiles,
  type CsvRow,
  type FileFormat,
  type GroundTruth,
} from '../index';

async function collect<T>(records: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const record of records) all.push(record);
  return all;
}

describe('CSV rows', () => {
  it('then any fields without line breaks survive a format and parse round trip', () => {
    const field = fc.string({ unit: 'grapheme' }).filter((text) => !/[\r\n]/.test(text));
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fields) => {
        expect(parseCsvRow(formatCsvRow(fields))).toEqual(fields);
      }),
    );
  });

  it('then quotes, commas and empty fields parse as RFC 4180 says', () => {
    expect(parseCsvRow('a,"b,c","say ""hi""",,')).toEqual(['a', 'b,c', 'say "hi"', '', '']);
    expect(formatCsvRow(['plain', 'with,comma', 'a "quote"', ' padded'])).toBe(
      'plain,"with,comma","a ""quote"""," padded"',
    );
  });

  it('when a quote is not closed or text follows it, then the row is refused saying so', () => {
    expect(() => parseCsvRow('"open,b')).toThrow(/Quote Not Closed/);
    // A stray quote inside a field is literal, as spreadsheets write it.
    expect(parseCsvRow('a"b,c')).toEqual(['a"b', 'c']);
  });
});

describe('CSV streams (readCsvRows)', () => {
  const rowsOf = async (text: string): Promise<CsvRow[]> =>
    collect(readCsvRows(Readable.from([Buffer.from(text)])));

  it('when fields hold quoted commas and line breaks behind a BOM, then each record keeps them and the line it starts on', async () => {
    const rows = await rowsOf('\uFEFFid,note\r\n1,"a, b"\r\n2,"two\nlines"\n\n3,"say ""hi"""\n');
    expect(rows.map((row) => [row.line, row.fields])).toEqual([
      [1, ['id', 'note']],
      [2, ['1', 'a, b']],
      [3, ['2', 'two\nlines']],
      [6, ['3', 'say "hi"']],
    ]);
  });

  it('when a quote is never closed, then the record comes with its line, its text and what is wrong', async () => {
    const rows = await rowsOf('id,note\n1,"ok"\n2,"never closed\n');
    expect(rows[1]).toEqual({ line: 2, raw: '1,"ok"', fields: ['1', 'ok'] });
    expect(rows[2]).toEqual({
      line: 3,
      raw: '2,"never closed',
      problem: 'Quote Not Closed: the parsing is finished with an opening quote at line 3',
    });
  });
});

describe('dataset files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamtrain-sim-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const small = { seed: 11, customers: 60, terminals: 120, days: 60 } as const;

  it.each<FileFormat>(['jsonl', 'csv'])(
    'when a simulation is written as %s and read back, then every record is the same',
    async (format) => {
      const simulation = createSimulation(small);
      const transactions: Transaction[] = [];
      const labels: FraudLabel[] = [];
      const truth: GroundTruth[] = [];
      for (const event of simulation.events()) {
        if (event.kind === 'transaction') {
          transactions.push(event.tx);
          truth.push(groundTruthOf(event));
        } else {
          labels.push(event.label);
        }
      }
      expect(labels.length).toBeGreaterThan(0);

      const files = await writeSimulationFiles(simulation.events(), { dir, format });
      expect(await collect(readRecordFile(files.transactions, transactionCodec, format))).toEqual(
        transactions,
      );
      expect(await collect(readRecordFile(files.labels, labelCodec, format))).toEqual(labels);
      expect(await collect(readRecordFile(files.truth, groundTruthCodec, format))).toEqual(truth);
    },
  );

  it('then a CSV file starts with the Transaction fields as its header', async () => {
    const files = await writeSimulationFiles(createSimulation({ ...small, days: 2 }).events(), {
      dir,
      format: 'csv',
    });
    const [header, first] = (await readFile(files.transactions, 'utf8')).split('\n');
    expect(header).toBe(
      'schemaVersion,transactionId,customerId,terminalId,amount,eventTime,channel',
    );
    expect(first).toMatch(
      /^1,t11-0,c\d+,m\d+,\d+(\.\d{1,2})?,2018-04-01T\d\d:\d\d:\d\d\.000Z,\w+$/,
    );
    expect((await readFile(files.truth, 'utf8')).split('\n')[0]).toBe(
      'transactionId,isFraud,scenario',
    );
    expect((await readFile(files.labels, 'utf8')).split('\n')[0]).toBe(
      'schemaVersion,transactionId,isFraud,reportedAt',
    );
  });

  it('when the signal aborts, then the files hold what was written and are closed', async () => {
    const controller = new AbortController();
    controller.abort();
    const files = await writeSimulationFiles(createSimulation(small).events(), {
      dir,
      format: 'jsonl',
      signal: controller.signal,
    });
    expect(await readFile(files.transactions, 'utf8')).toBe('');
  });
});

describe('record readers', () => {
  const tx: Transaction = {
    schemaVersion: 1,
    transactionId: 't1-0',
    customerId: 'c1',
    terminalId: 'm2',
    amount: 12.5,
    eventTime: '2018-04-01T10:00:00.000Z',
    channel: 'web',
  };

  it('when CSV columns come in another order, with extras and CRLF endings, then records still read', async () => {
    const text =
      'channel,extra,amount,eventTime,terminalId,customerId,transactionId,schemaVersion\r\n' +
      'web,x,12.5,2018-04-01T10:00:00.000Z,m2,c1,t1-0,1\r\n\r\n';
    expect(await collect(readRecords(Readable.from([text]), transactionCodec, 'csv'))).toEqual([
      tx,
    ]);
  });

  it('when a line is invalid, then reading stops with its source and line number', async () => {
    const bad = `${JSON.stringify(tx)}\n${JSON.stringify({ ...tx, amount: -1 })}\n`;
    await expect(
      collect(readRecords(Readable.from([bad]), transactionCodec, 'jsonl', 'tx.jsonl')),
    ).rejects.toThrow(/tx\.jsonl:2: invalid transaction: amount/);
    await expect(
      collect(readRecords(Readable.from(['{not json\n']), transactionCodec, 'jsonl')),
    ).rejects.toMatchObject({ code: 'CONTRACT_INVALID_JSON' });
    const emptyAmount = 'transactionId,isFraud,scenario\nt1,true,\n';
    await expect(
      collect(readRecords(Readable.from([emptyAmount]), groundTruthCodec, 'csv')),
    ).rejects.toMatchObject({ code: 'CONTRACT_SCHEMA_MISMATCH' });
    await expect(
      collect(readRecords(Readable.from(['transactionId\nt1\n']), groundTruthCodec, 'csv')),
    ).rejects.toThrow(/lacks column\(s\): isFraud, scenario/);
    // A short row is named as short, not as whatever its missing fields would fail.
    const short =
      'schemaVersion,transactionId,customerId,terminalId,amount,eventTime,channel\n1,t1,c1,m2\n';
    await expect(
      collect(readRecords(Readable.from([short]), transactionCodec, 'csv', 'tx.csv')),
    ).rejects.toThrow('tx.csv:2: 4 fields where the header has 7 (no amount, eventTime, channel)');
  });

  it('when the destination is slow, then the writer waits for drain and loses nothing', async () => {
    const chunks: string[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        setImmediate(callback);
      },
    });
    const writer = new RecordWriter(slow, labelCodec, 'jsonl');
    const labels: FraudLabel[] = Array.from({ length: 5000 }, (_, i) => ({
      schemaVersion: 1,
      transactionId: `t0-${i}`,
      isFraud: true,
      reportedAt: '2018-04-02T00:00:00.000Z',
    }));
    for (const label of labels) await writer.write(label);
    await writer.end();
    expect(writer.count).toBe(5000);
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(labels);
  });

  it('when the destination fails, then the next write or end rejects instead of crashing', async () => {
    const out = new PassThrough();
    const writer = new RecordWriter(out, labelCodec, 'csv');
    out.destroy(new Error('disk full'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(writer.end()).rejects.toThrow('disk full');
  });
});
