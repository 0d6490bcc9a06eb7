import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  FraudScoreV1,
  PUBLISHED_MESSAGES,
  TransactionV1,
  breakingChanges,
  decodeTransaction,
  jsonSchemaOf,
  publishedDocuments,
} from '@streamtrain/contracts';

const CONTRACTS_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'docs', 'contracts');
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
const schemaOf = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { io: 'input' });

describe('contract evolution', () => {
  it('when a producer adds an optional field, then the message is accepted and the field dropped', () => {
    const decoded = decodeTransaction(
      bytes({ ...valid, loyaltyTier: 'gold', device: { os: 'ios' } }),
    );
    expect(decoded).toEqual({ ok: true, value: valid });
  });

  it('when a score carries a field this version does not list, then a consumer accepts it and drops the field', () => {
    const score = {
      schemaVersion: 1,
      transactionId: 't-1',
      score: 0.91,
      modelVersionId: 'mv-1',
      modelVersion: 3,
      threshold: 0.5,
      exceeded: true,
      eventTime: '2018-04-01T10:00:00.000Z',
      featureSetVersion: 1,
      features: [1, 0.5],
      latencyMs: 2.5,
      scoredAt: '2026-12-02T20:00:00.000Z',
    };
    expect(FraudScoreV1.parse({ ...score, explanation: { top: 'amount' } })).toEqual(score);
    expect(FraudScoreV1.safeParse({ ...score, score: 1.5 }).success).toBe(false);
  });

  it('when a producer sends a breaking shape under version 1, then it is refused; a new version must be declared', () => {
    // v2 might carry the amount in minor units: under schemaVersion 1 that is a mismatch...
    const asV1 = decodeTransaction(bytes({ ...valid, amount: '1250' }));
    expect(asV1).toMatchObject({ ok: false, code: 'CONTRACT_SCHEMA_MISMATCH' });
    // ...and under schemaVersion 2 an unknown version until this build learns it.
    const asV2 = decodeTransaction(bytes({ ...valid, schemaVersion: 2, amountMinor: 1250 }));
    expect(asV2).toMatchObject({ ok: false, code: 'CONTRACT_UNKNOWN_VERSION' });
    if (!asV2.ok) expect(asV2.reason).toMatch(/unknown schemaVersion 2; known: 1/);
  });

  it('when version 1 gains an optional field, then that is compatible; a changed, removed or newly required field is not', () => {
    const published = schemaOf(TransactionV1);
    expect(
      breakingChanges(published, schemaOf(TransactionV1.extend({ note: z.string().optional() }))),
    ).toEqual([]);
    expect(
      breakingChanges(published, schemaOf(TransactionV1.extend({ note: z.string() }))),
    ).toEqual(['note: now required']);
    expect(breakingChanges(published, schemaOf(TransactionV1.omit({ terminalId: true })))).toEqual([
      'terminalId: removed',
    ]);
    const changed = breakingChanges(
      published,
      schemaOf(TransactionV1.extend({ amount: z.number().int() })),
    );
    expect(changed).toEqual([expect.stringMatching(/^amount: changed from /)]);
    expect(breakingChanges(published, schemaOf(TransactionV1.strict()))).toContain(
      '(root): unknown properties no longer accepted',
    );
  });

  it.each(PUBLISHED_MESSAGES.map((message) => [message.name, message] as const))(
    'the checked-in schema of %s stays compatible with the code (a breaking change needs a new schemaVersion)',
    (_name, message) => {
      const published = JSON.parse(
        readFileSync(path.join(CONTRACTS_DIR, message.file), 'utf8'),
      ) as Record<string, unknown>;
      expect(breakingChanges(published, jsonSchemaOf(message))).toEqual([]);
    },
  );

  it('the documents in docs/contracts are current (regenerate with `npm run contracts`)', () => {
    for (const [file, text] of Object.entries(publishedDocuments())) {
      expect({ file, text: readFileSync(path.join(CONTRACTS_DIR, file), 'utf8') }).toEqual({
        file,
        text,
      });
    }
  });
});
