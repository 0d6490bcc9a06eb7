import { decodeFraudLabel, decodeTransaction } from '@streamtrain/contracts';

const transaction = {
  schemaVersion: 1,
  transactionId: 't-1',
  customerId: 'c1',
  terminalId: 'm1',
  amount: 12.5,
  eventTime: '2018-04-01T10:00:00.000Z',
  channel: 'web',
};
const label = {
  schemaVersion: 1,
  transactionId: 't-1',
  isFraud: true,
  reportedAt: '2018-04-03T10:00:00.000Z',
};
const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

// Issue 13, item 1: these passed validation and were then refused by PostgreSQL, blocking the
// partition. Validation must accept exactly what the warehouse (timestamptz) can store.
describe('event times the warehouse cannot store', () => {
  it.each([
    ['year 0000', '0000-01-01T00:00:00Z', /year 0000/],
    ['an offset of +18:00', '2018-04-01T10:00:00+18:00', /offset \+18:00/],
    ['an offset of -16:00', '2018-04-01T10:00:00-16:00', /offset -16:00/],
  ])(
    'when a transaction has %s, then it is refused with the reason',
    (_name, eventTime, reason) => {
      const decoded = decodeTransaction(bytes({ ...transaction, eventTime }));
      expect(decoded).toMatchObject({ ok: false, code: 'CONTRACT_SCHEMA_MISMATCH' });
      expect(!decoded.ok && decoded.reason).toMatch(reason);
    },
  );

  it('when a label is reported in year 0000, then it is refused with the reason', () => {
    const decoded = decodeFraudLabel(bytes({ ...label, reportedAt: '0000-06-01T00:00:00Z' }));
    expect(decoded).toMatchObject({ ok: false, code: 'CONTRACT_SCHEMA_MISMATCH' });
    expect(!decoded.ok && decoded.reason).toMatch(/reportedAt: .*year 0000/);
  });

  it.each([
    ['year 0001', '0001-01-01T00:00:00Z'],
    ['year 9999', '9999-12-31T23:59:59.999Z'],
    ['an offset of +15:59', '2018-04-01T10:00:00+15:59'],
    ['an offset of -15:59', '2018-04-01T10:00:00-15:59'],
  ])('when a transaction has %s, then it is accepted', (_name, eventTime) => {
    expect(decodeTransaction(bytes({ ...transaction, eventTime })).ok).toBe(true);
  });
});
