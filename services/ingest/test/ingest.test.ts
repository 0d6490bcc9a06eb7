import { drainQueue, topologyOf } from '@streamtrain/amqp';
import { BatchArrivedV1, DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import { kafkaClientNames } from '@streamtrain/config';
import type { KafkaProducer } from '@streamtrain/kafka';
import {
  createTestSchema,
  createTestTopics,
  readMessages,
  removeTestExchange,
  testLogger,
  testServers,
  uniqueExchange,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestSchema, TestTopics } from '@streamtrain/testkit';
import { loadIngestConfig } from '../src/config';
import { createIngestService } from '../src/service';
import type { IngestService } from '../src/service';

jest.setTimeout(60_000);

function transaction(id: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 1,
    transactionId: id,
    customerId: 'c1',
    terminalId: 'm1',
    amount: 42.5,
    eventTime: '2018-04-01T10:00:00.000Z',
    channel: 'web',
    ...overrides,
  });
}

describe.each(kafkaClientNames)('ingest service on %s', (client) => {
  let schema: TestSchema;
  let topics: TestTopics;
  let exchange: string;
  let service: IngestService;
  let producer: KafkaProducer;

  beforeEach(async () => {
    schema = createTestSchema();
    topics = await createTestTopics(['tx.web', 'tx.pos', 'tx.labels', 'tx.dlq']);
    exchange = uniqueExchange();
    const servers = testServers();
    const config = loadIngestConfig({
      AMQP_URL: servers.amqpUrl,
      AMQP_EXCHANGE: exchange,
      DATABASE_URL: servers.databaseUrl,
      WAREHOUSE_SCHEMA: schema.schema,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      KAFKA_CLIENT: client,
      HTTP_PORT: '0',
      INGEST_TOPICS: `${topics.names['tx.web']},${topics.names['tx.pos']}`,
      INGEST_LABELS_TOPIC: topics.names['tx.labels'],
      INGEST_DEAD_LETTER_TOPIC: topics.names['tx.dlq'],
      INGEST_GROUP_ID: uniqueName('ingest'),
      LOG_LEVEL: 'silent',
    });
    service = createIngestService(config, testLogger, (error) => {
      throw error;
    });
    await service.start();
    producer = await topics.kafka.producer();
  });

  afterEach(async () => {
    await producer.disconnect();
    await service.stop();
    await topics.remove();
    await removeTestExchange(exchange);
    await schema.drop();
  });

  const count = async (table: string): Promise<number> =>
    Number(
      (await schema.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n,
    );

  it('when transactions and labels arrive on several topics, then each lands once and its batch is announced', async () => {
    await producer.send(topics.names['tx.web'] as string, [
      { key: 'c1', value: transaction('t1') },
      { key: 'c1', value: transaction('t2') },
    ]);
    await producer.send(topics.names['tx.pos'] as string, [
      { key: 'c2', value: transaction('t3', { channel: 'pos' }) },
    ]);
    await producer.send(topics.names['tx.labels'] as string, [
      {
        key: 'c1',
        value: JSON.stringify({
          schemaVersion: 1,
          transactionId: 't1',
          isFraud: true,
          reportedAt: '2018-04-03T00:00:00Z',
        }),
      },
    ]);
    await waitFor(
      () => count('transactions'),
      (n) => n === 3,
      { description: '3 transactions' },
    );
    await waitFor(
      () => count('labels'),
      (n) => n === 1,
      { description: '1 label' },
    );
    await waitFor(
      () => count('ingest_outbox WHERE published_at IS NOT NULL'),
      (n) => n >= 2,
      { description: 'arrival events published' },
    );
    const events = (
      await drainQueue(testServers().amqpUrl, topologyOf(exchange).pipeline.queue)
    ).map((message) => BatchArrivedV1.parse(JSON.parse(message.content.toString())));
    const announced = events.reduce(
      (sum, event) => sum + event.transactionCount + event.labelCount,
      0,
    );
    expect(announced).toBe(4);
    for (const event of events) expect(event.offsets.length).toBe(1);
  });

  it('when a malformed message arrives, then it is dead-lettered with its reason and the next message still lands', async () => {
    const web = topics.names['tx.web'] as string;
    await producer.send(web, [
      { key: 'c1', value: 'not json', partition: 0 },
      { key: 'c1', value: transaction('t-neg', { amount: -5 }), partition: 0 },
      { key: 'c1', value: transaction('t-ok'), partition: 0 },
    ]);
    const letters = await readMessages(topics.kafka, topics.names['tx.dlq'] as string, 2);
    const byOffset = new Map(
      letters.map((letter) => [letter.headers[DEAD_LETTER_HEADERS.sourceOffset], letter]),
    );
    expect(byOffset.get('0')?.value?.toString()).toBe('not json');
    expect(byOffset.get('0')?.headers[DEAD_LETTER_HEADERS.code]).toBe('CONTRACT_INVALID_JSON');
    expect(byOffset.get('1')?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/amount/);
    expect(byOffset.get('1')?.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(web);
    await waitFor(
      () => count('transactions'),
      (n) => n === 1,
      { description: 'the valid transaction' },
    );
    const metrics = await fetch(`http://127.0.0.1:${service.port()}/metrics`).then((response) =>
      response.text(),
    );
    expect(metrics).toMatch(
      /streamtrain_ingest_dead_letters_total\{[^}]*code="CONTRACT_INVALID_JSON"[^}]*\} 1/,
    );
  });

  // Issue 13 item 7: corrections and conflicts are recorded and visible, on the Kafka path.
  it('when a transaction id comes again with another amount and a fraud label is reversed, then the conflict and the correction are recorded and counted', async () => {
    const web = topics.names['tx.web'] as string;
    const labels = topics.names['tx.labels'] as string;
    const label = (isFraud: boolean, reportedAt: string): string =>
      JSON.stringify({ schemaVersion: 1, transactionId: 'k1', isFraud, reportedAt });
    await producer.send(web, [
      { key: 'c1', value: transaction('k1', { amount: 10 }), partition: 0 },
    ]);
    await producer.send(labels, [{ key: 'c1', value: label(true, '2018-04-02T00:00:00Z') }]);
    await waitFor(
      () => count('labels'),
      (n) => n === 1,
      { description: 'the fraud label' },
    );
    await producer.send(web, [
      { key: 'c1', value: transaction('k1', { amount: 99 }), partition: 0 },
    ]);
    await producer.send(labels, [{ key: 'c1', value: label(false, '2018-04-09T00:00:00Z') }]);
    await waitFor(
      () => count('label_corrections'),
      (n) => n === 1,
      { description: 'the correction recorded' },
    );
    await waitFor(
      () => count('transaction_conflicts WHERE incoming_amount = 99'),
      (n) => n === 1,
      { description: 'the conflict recorded' },
    );
    const metrics = await waitFor(
      () => fetch(`http://127.0.0.1:${service.port()}/metrics`).then((response) => response.text()),
      (text) =>
        /^streamtrain_ingest_transaction_conflicts_total(\{[^}]*\})? 1$/m.test(text) &&
        /^streamtrain_ingest_label_corrections_total(\{[^}]*\})? 1$/m.test(text),
      { description: 'conflict and correction counted' },
    );
    expect(metrics).toMatch(/^streamtrain_ingest_transaction_conflicts_total(\{[^}]*\})? 1$/m);
  });

  it('when a producer adds an optional field, then the transaction lands without it; a message of an unknown schemaVersion is dead-lettered until the build knows it', async () => {
    const web = topics.names['tx.web'] as string;
    await producer.send(web, [
      { key: 'c1', value: transaction('t-added', { loyaltyTier: 'gold' }), partition: 0 },
      {
        key: 'c1',
        value: transaction('t-v2', { schemaVersion: 2, amountMinor: 4250 }),
        partition: 0,
      },
    ]);
    const [letter] = await readMessages(topics.kafka, topics.names['tx.dlq'] as string, 1);
    expect(letter?.headers[DEAD_LETTER_HEADERS.code]).toBe('CONTRACT_UNKNOWN_VERSION');
    expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(
      /unknown schemaVersion 2; known: 1/,
    );
    expect(JSON.parse(letter?.value?.toString() ?? '')).toMatchObject({ transactionId: 't-v2' });
    await waitFor(
      () => count('transactions'),
      (n) => n === 1,
      { description: 'the transaction with the added field' },
    );
    const stored = await schema.pool.query<Record<string, unknown>>(
      "SELECT * FROM transactions WHERE transaction_id = 't-added'",
    );
    expect(stored.rows).toHaveLength(1);
    expect(JSON.stringify(stored.rows[0])).not.toMatch(/gold|loyalty/);
  });

  it('when the same transactions are delivered again, then no row is written twice and nothing new is announced', async () => {
    const web = topics.names['tx.web'] as string;
    const messages = ['a', 'b', 'c'].map((id) => ({
      key: 'c1',
      value: transaction(id),
      partition: 1,
    }));
    await producer.send(web, messages);
    await waitFor(
      () => count('transactions'),
      (n) => n === 3,
    );
    await producer.send(web, [...messages, { key: 'c1', value: transaction('d'), partition: 1 }]);
    await waitFor(
      () => count('transactions'),
      (n) => n === 4,
    );
    await waitFor(
      () => count('ingest_outbox WHERE published_at IS NULL'),
      (n) => n === 0,
    );
    const batches = await schema.pool.query<{ transaction_count: number }>(
      'SELECT transaction_count FROM ingest_batches ORDER BY created_at',
    );
    expect(batches.rows.map((row) => row.transaction_count)).toEqual([3, 1]);
  });

  it('exposes readiness, liveness and metrics, leaving consumer lag to the console', async () => {
    await producer.send(topics.names['tx.web'] as string, [
      { key: 'c1', value: transaction('lag-1') },
    ]);
    await waitFor(
      () => count('transactions'),
      (n) => n === 1,
    );
    const base = `http://127.0.0.1:${service.port()}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await waitFor(
      () => fetch(`${base}/readyz`).then((response) => response.status),
      (status) => status === 200,
    );
    const metrics = await waitFor(
      () => fetch(`${base}/metrics`).then((response) => response.text()),
      (text) => /streamtrain_ingest_messages_total\{/.test(text),
    );
    // Consumer lag is the console's (one exporter, read from the brokers); ingest exports none,
    // so N ingest instances never report a group's lag N times.
    expect(metrics).not.toMatch(/kafka_consumergroup_/);
    expect(metrics).toMatch(/^process_cpu_user_seconds_total/m);
  });
});
