import { kafkaClientNames } from '@streamtrain/config';
import type { KafkaClientName } from '@streamtrain/config';
import {
  createTestTopics,
  readMessages,
  testLogger,
  testServers,
  uniqueName,
  waitFor,
} from '@streamtrain/testkit';
import type { TestTopics } from '@streamtrain/testkit';
import { createKafkaClient, isRecordTooLarge } from '../src';
import type { ConsumedBatch, KafkaClient, KafkaConsumer, RunOptions } from '../src';

jest.setTimeout(120_000);

const clientOf = (client: KafkaClientName): KafkaClient =>
  createKafkaClient({
    client,
    brokers: testServers().kafkaBrokers,
    clientId: `client-test-${client}`,
    logger: testLogger,
  });

/** Every batch a consumer was handed, and a way to wait for `count` messages. */
function collector(): {
  batches: ConsumedBatch[];
  values: () => string[];
  waitForCount: (count: number) => Promise<number>;
} {
  const batches: ConsumedBatch[] = [];
  const values = (): string[] =>
    batches.flatMap((batch) => batch.messages.map((message) => message.value?.toString() ?? ''));
  return {
    batches,
    values,
    waitForCount: (count) =>
      waitFor(
        () => values().length,
        (n) => n >= count,
        { description: `${count} messages` },
      ),
  };
}

const fail = (error: Error): never => {
  throw error;
};

// The interface's guarantees, held by each client library behind it (issue 12).
describe.each(kafkaClientNames)('the Kafka client on %s', (name) => {
  let kafka: KafkaClient;
  let topics: TestTopics;
  let topic: string;
  const consumers: KafkaConsumer[] = [];

  const consume = async (
    groupId: string,
    handler: RunOptions['handler'],
    overrides: Partial<RunOptions> = {},
  ): Promise<KafkaConsumer> => {
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeMs: 50,
      partitionsConsumedConcurrently: 2,
    });
    consumers.push(consumer);
    await consumer.run({ topics: [topic], handler, onFatal: fail, ...overrides });
    return consumer;
  };

  const produce = async (values: readonly string[], key = 'k'): Promise<void> => {
    const producer = await kafka.producer();
    try {
      await producer.send(
        topic,
        values.map((value) => ({ key, value })),
      );
    } finally {
      await producer.disconnect();
    }
  };

  beforeEach(async () => {
    kafka = clientOf(name);
    topics = await createTestTopics(['events', 'other'], 4);
    topic = topics.names.events as string;
  });

  afterEach(async () => {
    for (const consumer of consumers.splice(0)) await consumer.disconnect();
    await topics.remove();
  });

  it('when messages are sent with a key and headers, then each arrives once, in order, with its key, value, headers and timestamp', async () => {
    const producer = await kafka.producer();
    const before = Date.now();
    try {
      await producer.send(
        topic,
        Array.from({ length: 50 }, (_, index) => ({
          key: 'card-7',
          value: `v${index}`,
          headers: { 'x-source': 'test', 'x-index': String(index) },
        })),
      );
      await producer.send(topic, [{ key: null, value: null }]);
    } finally {
      await producer.disconnect();
    }
    const received = await readMessages(kafka, topic, 51);
    const keyed = received.filter((message) => message.key !== null);
    expect(keyed.map((message) => message.value?.toString())).toEqual(
      Array.from({ length: 50 }, (_, index) => `v${index}`),
    );
    expect(new Set(keyed.map((message) => message.partition)).size).toBe(1);
    const first = keyed[0];
    expect(first?.key?.toString()).toBe('card-7');
    expect(first?.headers).toEqual({ 'x-source': 'test', 'x-index': '0' });
    expect(first?.size).toBe(2);
    expect(Number(first?.timestamp)).toBeGreaterThanOrEqual(before - 1_000);
    const tombstone = received.find((message) => message.key === null);
    expect(tombstone).toMatchObject({ value: null, size: 0 });
  });

  it('when a batch is committed only after it was processed, then a member that takes over resumes after it and gets the rest once', async () => {
    const groupId = uniqueName('commit');
    await produce(['a1', 'a2', 'a3']);
    const first = collector();
    const consumer = await consume(groupId, async (batch, control) => {
      first.batches.push(batch);
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await control.commit(last.offset);
    });
    await first.waitForCount(3);
    await consumer.disconnect();
    await produce(['b1', 'b2']);
    const second = collector();
    await consume(groupId, (batch) => {
      second.batches.push(batch);
      return Promise.resolve();
    });
    await second.waitForCount(2);
    expect(second.values()).toEqual(['b1', 'b2']);
  });

  it('when a batch was handled but not committed, then the consumer moves on, and the next member of the group gets the batch again', async () => {
    const groupId = uniqueName('uncommitted');
    await produce(['u1', 'u2']);
    const first = collector();
    const consumer = await consume(groupId, (batch) => {
      first.batches.push(batch);
      return Promise.resolve();
    });
    await first.waitForCount(2);
    await produce(['u3']);
    await first.waitForCount(3);
    await consumer.disconnect();
    expect(first.values()).toEqual(['u1', 'u2', 'u3']);
    const second = collector();
    await consume(groupId, (batch) => {
      second.batches.push(batch);
      return Promise.resolve();
    });
    await second.waitForCount(3);
    expect(second.values()).toEqual(['u1', 'u2', 'u3']);
  });

  it('when the handler throws, then the batch is handed over again and committed once it succeeds', async () => {
    const groupId = uniqueName('retry');
    await produce(['r1', 'r2']);
    let calls = 0;
    const handled = collector();
    await consume(groupId, async (batch, control) => {
      calls += 1;
      if (calls === 1) throw new Error('warehouse away');
      handled.batches.push(batch);
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await control.commit(last.offset);
    });
    await handled.waitForCount(2);
    expect(handled.values()).toEqual(['r1', 'r2']);
    const admin = await kafka.admin();
    try {
      const committed = await waitFor(
        () => admin.committedOffsets(groupId),
        (offsets) => offsets.some((entry) => entry.offset === '2'),
      );
      expect(committed.filter((entry) => entry.offset !== null)).toEqual([
        { topic, partition: expect.any(Number) as number, offset: '2' },
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('when the handler only marks messages read, then each arrives once and the group commits nothing', async () => {
    const groupId = uniqueName('reader');
    await produce(['m1', 'm2', 'm3']);
    const seen = collector();
    await consume(groupId, (batch, control) => {
      seen.batches.push(batch);
      for (const message of batch.messages) control.markRead(message.offset);
      return Promise.resolve();
    });
    await seen.waitForCount(3);
    await produce(['m4']);
    await seen.waitForCount(4);
    expect(seen.values()).toEqual(['m1', 'm2', 'm3', 'm4']);
    const admin = await kafka.admin();
    try {
      expect(
        (await admin.committedOffsets(groupId)).filter((entry) => entry.offset !== null),
      ).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('when the consumer disconnects with a batch in hand, then the batch finishes and commits, and the member leaves the group at once', async () => {
    const groupId = uniqueName('leave');
    await produce(['l1']);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    let staleAtEnd: boolean | undefined;
    const consumer = await consume(groupId, async (batch, control) => {
      started = true;
      await gate;
      staleAtEnd = control.isStale();
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) await control.commit(last.offset);
    });
    await waitFor(
      () => started,
      (value) => value,
    );
    expect(consumer.isRunning()).toBe(true);
    expect(Object.values(consumer.assignment()).flat()).toHaveLength(4);
    const stopping = consumer.disconnect();
    release();
    await stopping;
    expect(staleAtEnd).toBe(true);
    expect(consumer.isRunning()).toBe(false);
    const admin = await kafka.admin();
    try {
      const [group] = await admin.describeGroups([groupId]);
      // Empty at once: a member that left need not wait out its session timeout.
      expect(group).toMatchObject({ groupId, state: 'Empty', members: [] });
      expect(
        (await admin.committedOffsets(groupId)).filter((entry) => entry.offset !== null),
      ).toEqual([{ topic, partition: expect.any(Number) as number, offset: '1' }]);
    } finally {
      await admin.disconnect();
    }
  });

  it('when subscribed by pattern, then every matching topic is consumed', async () => {
    const producer = await kafka.producer();
    try {
      await producer.send(topics.names.other as string, [{ value: 'o1' }]);
      await producer.send(topic, [{ value: 'e1' }]);
    } finally {
      await producer.disconnect();
    }
    const seen = collector();
    const prefix = topic.slice(0, topic.lastIndexOf('.'));
    await consume(
      uniqueName('pattern'),
      (batch) => {
        seen.batches.push(batch);
        return Promise.resolve();
      },
      { topics: [new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.`)] },
    );
    await seen.waitForCount(2);
    expect(new Set(seen.batches.map((batch) => batch.topic))).toEqual(
      new Set([topic, topics.names.other]),
    );
  });

  it('when a message is over the topic limit, then the send fails and says it was too large', async () => {
    const admin = await kafka.admin();
    const limited = `${topic}.limited`;
    try {
      await admin.ensureTopics([
        { topic: limited, partitions: 1, configEntries: { 'max.message.bytes': '2048' } },
      ]);
      const producer = await kafka.producer();
      try {
        const error: unknown = await producer
          .send(limited, [{ value: Buffer.alloc(8_192, 1) }])
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        expect(isRecordTooLarge(error)).toBe(true);
      } finally {
        await producer.disconnect();
      }
    } finally {
      await admin.deleteTopics([limited]);
      await admin.disconnect();
    }
  });

  it('administers topics and groups: limits, offsets, lag, members', async () => {
    const admin = await kafka.admin();
    const limited = `${topic}.admin`;
    try {
      await admin.ensureTopics([
        {
          topic: limited,
          partitions: 2,
          configEntries: { 'max.message.bytes': '100000', 'retention.ms': '3600000' },
        },
      ]);
      // Twice: an existing topic is left as it is.
      await admin.ensureTopics([{ topic: limited, partitions: 2 }]);
      expect(await admin.listTopics()).toEqual(expect.arrayContaining([topic, limited]));
      expect(await admin.maxMessageBytes([limited])).toEqual({ [limited]: 100_000 });
      await admin.setMaxMessageBytes(limited, 200_000);
      expect(await admin.maxMessageBytes([limited])).toEqual({ [limited]: 200_000 });

      await produce(['x1', 'x2', 'x3'], 'same-key');
      const latest = await admin.latestOffsets(topic);
      expect(latest.map((entry) => entry.offset).sort()).toEqual(['0', '0', '0', '3']);
      const offsets = await admin.partitionOffsets(topic);
      expect(offsets).toHaveLength(4);
      expect(offsets.every((entry) => entry.earliest === '0')).toBe(true);

      const groupId = uniqueName('lag');
      const seen = collector();
      const consumer = await consume(groupId, async (batch, control) => {
        seen.batches.push(batch);
        const first = batch.messages[0];
        if (first !== undefined) await control.commit(first.offset);
      });
      await seen.waitForCount(3);
      const lag = await waitFor(
        () => admin.groupLag(groupId, [topic]),
        (lags) => lags.some((entry) => entry.committedOffset === '1'),
      );
      expect(lag).toHaveLength(4);
      expect(lag.find((entry) => entry.committedOffset === '1')).toMatchObject({
        latestOffset: '3',
        lag: '2',
      });
      expect(lag.filter((entry) => entry.committedOffset === null)).toHaveLength(3);
      const [group] = await admin.describeGroups([groupId]);
      expect(group).toMatchObject({ groupId, state: 'Stable', protocolType: 'consumer' });
      expect(group?.members).toHaveLength(1);
      const sorted = (assignment: Record<string, number[]> | undefined) =>
        Object.fromEntries(
          Object.entries(assignment ?? {}).map(([name, partitions]) => [
            name,
            [...partitions].sort(),
          ]),
        );
      expect(sorted(group?.members[0]?.assignment)).toEqual({ [topic]: [0, 1, 2, 3] });
      expect(sorted(consumer.assignment())).toEqual({ [topic]: [0, 1, 2, 3] });
    } finally {
      await admin.deleteTopics([limited]);
      await admin.disconnect();
    }
  });
});

describe('kafkajs and @platformatic/kafka together', () => {
  let topics: TestTopics;
  let topic: string;

  beforeEach(async () => {
    topics = await createTestTopics(['mixed'], 4);
    topic = topics.names.mixed as string;
  });

  afterEach(async () => {
    await topics.remove();
  });

  it('when either client sends a key, then it lands on the same partition', async () => {
    const keys = Array.from({ length: 40 }, (_, index) => `card-${index * 7919}`);
    for (const name of kafkaClientNames) {
      const producer = await clientOf(name).producer();
      try {
        await producer.send(
          topic,
          keys.map((key) => ({ key, value: name })),
        );
      } finally {
        await producer.disconnect();
      }
    }
    const received = await readMessages(clientOf('kafkajs'), topic, keys.length * 2);
    const partitionOf = (client: string): Map<string, number> =>
      new Map(
        received
          .filter((message) => message.value?.toString() === client)
          .map((message) => [message.key?.toString() ?? '', message.partition]),
      );
    expect(partitionOf('platformatic')).toEqual(partitionOf('kafkajs'));
    expect(new Set(partitionOf('kafkajs').values()).size).toBe(4);
  });

  it('when members on each client share a group, then they split the partitions and each message is handled once', async () => {
    const groupId = uniqueName('mixed');
    const handled: string[] = [];
    const consumers = kafkaClientNames.map((name) =>
      clientOf(name).consumer({ groupId, maxWaitTimeMs: 50 }),
    );
    try {
      for (const consumer of consumers) {
        await consumer.run({
          topics: [topic],
          onFatal: fail,
          handler: async (batch, control) => {
            handled.push(...batch.messages.map((message) => message.value?.toString() ?? ''));
            const last = batch.messages[batch.messages.length - 1];
            if (last !== undefined) await control.commit(last.offset);
          },
        });
      }
      await waitFor(
        () => consumers.map((consumer) => Object.values(consumer.assignment()).flat().length),
        (counts) => counts.every((count) => count === 2),
        { description: 'two partitions each', timeoutMs: 60_000 },
      );
      const producer = await clientOf('kafkajs').producer();
      const values = Array.from({ length: 100 }, (_, index) => `m${index}`);
      try {
        await producer.send(
          topic,
          values.map((value, index) => ({ key: `k${index}`, value })),
        );
      } finally {
        await producer.disconnect();
      }
      await waitFor(
        () => handled.length,
        (n) => n >= values.length,
        { description: 'every message' },
      );
      expect([...handled].sort()).toEqual([...values].sort());
    } finally {
      for (const consumer of consumers) await consumer.disconnect();
    }
  });
});
