import { deadLetterHeaders } from '@streamtrain/contracts';
import type { KafkaProducer } from '@streamtrain/kafka';
import { createTestTopics, readMessages, uniqueName } from '@streamtrain/testkit';
import type { TestTopics } from '@streamtrain/testkit';
import { REDRIVEN_FROM_HEADER } from '../src/domain/redrive';
import { redriveDeadLetters } from '../src/entry-points/redrive';
import { transactionJson } from './harness';

jest.setTimeout(60_000);

describe('dead-letter re-drive', () => {
  let topics: TestTopics;
  let producer: KafkaProducer;

  beforeEach(async () => {
    topics = await createTestTopics(['tx.web', 'tx.dlq'], 2);
    producer = await topics.kafka.producer();
  });

  afterEach(async () => {
    await producer.disconnect();
    await topics.remove();
  });

  const deadLetter = (id: string, code: string): Parameters<KafkaProducer['send']>[1][number] => ({
    key: `c-${id}`,
    value: transactionJson(id, { schemaVersion: 2 }),
    headers: deadLetterHeaders({
      code,
      reason: 'test',
      sourceTopic: topics.names['tx.web'] as string,
      sourcePartition: 0,
      sourceOffset: '0',
      failedAt: '2026-12-02T00:00:00.000Z',
      service: 'ingest',
    }),
  });

  it('when run dry, then it counts by code and sends nothing; run for real, then the chosen letters return with their bytes and key', async () => {
    await producer.send(topics.names['tx.dlq'] as string, [
      deadLetter('r1', 'CONTRACT_UNKNOWN_VERSION'),
      deadLetter('r2', 'CONTRACT_UNKNOWN_VERSION'),
      deadLetter('r3', 'CONTRACT_SCHEMA_MISMATCH'),
    ]);
    const options = {
      kafka: topics.kafka,
      deadLetterTopic: topics.names['tx.dlq'] as string,
      filter: { codes: ['CONTRACT_UNKNOWN_VERSION'] },
    };
    const dry = await redriveDeadLetters({ ...options, dryRun: true, groupId: uniqueName('rd') });
    expect(dry).toMatchObject({
      read: 3,
      sent: 2,
      byCode: {
        CONTRACT_UNKNOWN_VERSION: { sent: 2, skipped: 0 },
        CONTRACT_SCHEMA_MISMATCH: { sent: 0, skipped: 1 },
      },
    });
    const admin = await topics.kafka.admin();
    const sourceOffsets = await admin.latestOffsets(topics.names['tx.web'] as string);
    await admin.disconnect();
    expect(sourceOffsets.every((p) => p.offset === '0')).toBe(true);

    const real = await redriveDeadLetters({ ...options, dryRun: false, groupId: uniqueName('rd') });
    expect(real.sent).toBe(2);
    const back = await readMessages(topics.kafka, topics.names['tx.web'] as string, 2);
    expect(back.map((m) => m.key?.toString()).sort()).toEqual(['c-r1', 'c-r2']);
    expect(back.map((m) => m.value?.toString()).sort()).toEqual(
      [
        transactionJson('r1', { schemaVersion: 2 }),
        transactionJson('r2', { schemaVersion: 2 }),
      ].sort(),
    );
    expect(back[0]?.headers[REDRIVEN_FROM_HEADER]).toMatch(
      new RegExp(`^${topics.names['tx.dlq']?.replaceAll('.', '\\.') ?? ''}:\\d+:\\d+$`),
    );
  });
});
