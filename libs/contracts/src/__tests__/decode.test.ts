import fc from 'fast-check';
import {
  BatchArrivedV1,
  MAX_MESSAGE_BYTES,
  decodeEvent,
  decodeFraudLabel,
  decodeTransaction,
  deadLetterHeaders,
  DEAD_LETTER_HEADERS,
  transactionTopic,
} from '@streamtrain/contracts';

const valid = {
  schemaVersion: 1,
  transactionId: 't-1',
  customerId: 'c1',
  terminalId: 'm1',
  amount: 12.5,
  eventTime: '2018-04-01T10:00:00.000Z',
  channel: 'web',
};
const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('decodeTransaction', () => {
  it('accepts a valid v1 transaction, with or without a time-zone offset', () => {
    expect(decodeTransaction(bytes(valid))).toEqual({ ok: true, value: valid });
    expect(decodeTransaction(bytes({ ...valid, eventTime: '2018-04-01T12:00:00+02:00' })).ok).toBe(
      true,
    );
  });

  it.each([
    ['empty', null, 'CONTRACT_INVALID_JSON', /empty/],
    ['not JSON', Buffer.from('{oops'), 'CONTRACT_INVALID_JSON', /not valid JSON/],
    ['an array', bytes([1]), 'CONTRACT_SCHEMA_MISMATCH', /not a JSON object/],
    [
      'an unknown version',
      bytes({ ...valid, schemaVersion: 7 }),
      'CONTRACT_UNKNOWN_VERSION',
      /schemaVersion 7/,
    ],
    [
      'no version',
      bytes({ ...valid, schemaVersion: undefined }),
      'CONTRACT_UNKNOWN_VERSION',
      /undefined/,
    ],
    ['a negative amount', bytes({ ...valid, amount: -1 }), 'CONTRACT_SCHEMA_MISMATCH', /amount/],
    ['an absurd amount', bytes({ ...valid, amount: 1e9 }), 'CONTRACT_SCHEMA_MISMATCH', /amount/],
    [
      'a mistyped field',
      bytes({ ...valid, customerId: 5 }),
      'CONTRACT_SCHEMA_MISMATCH',
      /customerId/,
    ],
    [
      'an unknown channel',
      bytes({ ...valid, channel: 'fax' }),
      'CONTRACT_SCHEMA_MISMATCH',
      /channel/,
    ],
    [
      'a bad timestamp',
      bytes({ ...valid, eventTime: 'yesterday' }),
      'CONTRACT_SCHEMA_MISMATCH',
      /eventTime/,
    ],
    [
      'an oversized payload',
      bytes({ ...valid, pad: 'x'.repeat(MAX_MESSAGE_BYTES) }),
      'CONTRACT_PAYLOAD_TOO_LARGE',
      /exceeds/,
    ],
  ])('refuses %s with a code and a reason', (_name, input, code, reason) => {
    const decoded = decodeTransaction(input);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.code).toBe(code);
      expect(decoded.reason).toMatch(reason);
    }
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const decoded = decodeTransaction(Buffer.from(raw));
        expect(typeof decoded.ok).toBe('boolean');
      }),
    );
  });
});

describe('decodeFraudLabel', () => {
  it('accepts a label and refuses one without its report time', () => {
    const label = {
      schemaVersion: 1,
      transactionId: 't-1',
      isFraud: true,
      reportedAt: '2018-04-03T00:00:00Z',
    };
    expect(decodeFraudLabel(bytes(label)).ok).toBe(true);
    const refused = decodeFraudLabel(bytes({ ...label, reportedAt: undefined }));
    expect(!refused.ok && refused.reason).toMatch(/reportedAt/);
  });
});

describe('decodeEvent', () => {
  it('reports every problem of an event that breaks its contract', () => {
    const decoded = decodeEvent(
      BatchArrivedV1,
      bytes({ type: 'batch.arrived', batchId: 3 }),
      'batch.arrived',
    );
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.reason).toMatch(/batchId/);
      expect(decoded.reason).toMatch(/transactionCount/);
    }
    expect(decodeEvent(BatchArrivedV1, Buffer.from('nope'), 'batch.arrived')).toMatchObject({
      ok: false,
      code: 'CONTRACT_INVALID_JSON',
    });
  });
});

describe('names and headers', () => {
  it('names a source topic tx.<channel> and carries dead-letter reasons in headers', () => {
    expect(transactionTopic('pos')).toBe('tx.pos');
    const headers = deadLetterHeaders({
      code: 'X',
      reason: 'why',
      sourceTopic: 'tx.web',
      sourcePartition: 2,
      sourceOffset: '41',
      failedAt: 'now',
      service: 'ingest',
    });
    expect(headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe('2');
    expect(headers[DEAD_LETTER_HEADERS.reason]).toBe('why');
  });
});
