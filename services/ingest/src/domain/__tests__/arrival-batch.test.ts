import { batchIdOf, classifyMessages } from '../arrival-batch';
import type { SourceMessage } from '../arrival-batch';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const options = {
  labelsTopic: 'tx.labels',
  maxFutureSkewMs: 86_400_000,
  nowMs: NOW,
  service: 'ingest',
};
const tx = (id: string, overrides: Record<string, unknown> = {}): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      transactionId: id,
      customerId: 'c1',
      terminalId: 'm1',
      amount: 10,
      eventTime: '2025-12-31T10:00:00Z',
      channel: 'web',
      ...overrides,
    }),
  );
const message = (offset: number, value: Buffer | null, topic = 'tx.web'): SourceMessage => ({
  topic,
  partition: 2,
  offset: String(offset),
  key: Buffer.from('c1'),
  value,
});

describe('classifyMessages', () => {
  it('sorts a partition run into transactions, labels and dead letters, keeping each one', () => {
    const result = classifyMessages(
      [
        message(10, tx('a')),
        message(11, Buffer.from('garbage')),
        message(12, tx('b', { eventTime: '2030-01-01T00:00:00Z' })),
        message(13, tx('c')),
      ],
      options,
    );
    expect(result.batchId).toBe('tx.web:2:10-13');
    expect(result.transactions.map((record) => record.transactionId)).toEqual(['a', 'c']);
    expect(result.transactions[0]).toMatchObject({
      sourceTopic: 'tx.web',
      sourcePartition: 2,
      sourceOffset: '10',
    });
    expect(
      result.deadLetters.map((letter) => [letter.reason.sourceOffset, letter.reason.code]),
    ).toEqual([
      ['11', 'CONTRACT_INVALID_JSON'],
      ['12', 'INGEST_EVENT_TIME_IN_FUTURE'],
    ]);
    expect(result.deadLetters[0]?.value?.toString()).toBe('garbage');
    expect(result.offsets).toEqual([
      { topic: 'tx.web', partition: 2, firstOffset: '10', lastOffset: '13' },
    ]);
  });

  it('reads the labels topic as labels, refusing future reports and bad ones', () => {
    const label = (id: string, reportedAt: string): Buffer =>
      Buffer.from(
        JSON.stringify({ schemaVersion: 1, transactionId: id, isFraud: true, reportedAt }),
      );
    const result = classifyMessages(
      [
        message(0, label('a', '2025-12-30T00:00:00Z'), 'tx.labels'),
        message(1, label('b', '2027-01-01T00:00:00Z'), 'tx.labels'),
        message(2, tx('not-a-label'), 'tx.labels'),
      ],
      options,
    );
    expect(result.labels.map((record) => record.transactionId)).toEqual(['a']);
    expect(result.deadLetters.map((letter) => letter.reason.code)).toEqual([
      'INGEST_EVENT_TIME_IN_FUTURE',
      'CONTRACT_SCHEMA_MISMATCH',
    ]);
  });

  it('gives an empty batch for no messages', () => {
    expect(classifyMessages([], options)).toEqual({
      batchId: '',
      transactions: [],
      labels: [],
      deadLetters: [],
      offsets: [],
    });
  });

  it('names a batch after its exact source range', () => {
    expect(batchIdOf('tx.pos', 0, '5', '9')).toBe('tx.pos:0:5-9');
  });
});
