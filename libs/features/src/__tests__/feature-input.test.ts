import { TransactionV1 } from '@streamtrain/contracts';
import { toFeatureInput } from '../index';

describe('toFeatureInput', () => {
  it('when given a contract transaction, then it keeps the ids and amount and parses the event time', () => {
    const transaction = TransactionV1.parse({
      schemaVersion: 1,
      transactionId: 'tx-1',
      customerId: 'cust-1',
      terminalId: 'term-1',
      amount: 12.34,
      eventTime: '2024-03-01T01:30:00.000+02:00',
      channel: 'pos',
    });
    expect(toFeatureInput(transaction)).toEqual({
      transactionId: 'tx-1',
      customerId: 'cust-1',
      terminalId: 'term-1',
      amount: 12.34,
      eventTimeMs: Date.UTC(2024, 1, 29, 23, 30),
    });
  });

  it('when the event time is not a date, then it throws a RangeError', () => {
    const row = {
      transactionId: 'x',
      customerId: 'c',
      terminalId: 't',
      amount: 1,
      eventTime: 'soon',
    };
    expect(() => toFeatureInput(row)).toThrow(RangeError);
  });
});
