import { classifyMessages, withoutRejectedRows } from '../arrival-batch';
import type { SourceMessage } from '../arrival-batch';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const value = (id: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      transactionId: id,
      customerId: 'c1',
      terminalId: 'm1',
      amount: 10,
      eventTime: '2025-12-31T10:00:00Z',
      channel: 'web',
    }),
  );
const messages: SourceMessage[] = ['a', 'b', 'c'].map((id, offset) => ({
  topic: 'tx.web',
  partition: 1,
  offset: String(10 + offset),
  key: Buffer.from(`k-${id}`),
  value: value(id),
}));

describe('withoutRejectedRows', () => {
  it('when the warehouse refuses a row, then it leaves the batch as a dead letter with its original bytes and the reason', () => {
    const batch = classifyMessages(messages, {
      labelsTopic: 'tx.labels',
      maxFutureSkewMs: 0,
      nowMs: NOW,
      service: 'ingest',
    });
    const { batch: rest, deadLetters } = withoutRejectedRows(
      batch,
      [{ kind: 'transaction', index: 1, reason: 'date/time field value out of range' }],
      messages,
      { nowMs: NOW, service: 'ingest' },
    );
    expect(rest.transactions.map((row) => row.transactionId)).toEqual(['a', 'c']);
    expect(rest.batchId).toBe(batch.batchId);
    expect(rest.offsets).toEqual(batch.offsets);
    expect(deadLetters).toEqual([
      {
        key: Buffer.from('k-b'),
        value: value('b'),
        reason: {
          code: 'INGEST_WRITE_REJECTED',
          reason: 'transaction b: the warehouse refused it: date/time field value out of range',
          sourceTopic: 'tx.web',
          sourcePartition: 1,
          sourceOffset: '11',
          failedAt: new Date(NOW).toISOString(),
          service: 'ingest',
        },
      },
    ]);
  });
});
