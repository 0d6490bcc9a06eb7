import {
  ProgressMeter,
  TokenBucket,
  createSimulation,
  formatProgress,
  publishEvents,
  toKafkaRecord,
  type KeyedMessage,
  type PublishClock,
} from '../index';

interface Sent {
  topic: string;
  messages: KeyedMessage[];
  atMs: number;
}

/** A virtual clock: sleeping advances time instantly, so pacing is tested without waiting. */
function virtualClock(): PublishClock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

function recorder(clock: PublishClock): {
  sent: Sent[];
  send: (t: string, m: KeyedMessage[]) => Promise<void>;
} {
  const sent: Sent[] = [];
  return {
    sent,
    send: (topic, messages) => {
      sent.push({ topic, messages: [...messages], atMs: clock.now() });
      return Promise.resolve();
    },
  };
}

const config = { seed: 5, customers: 200, terminals: 400, days: 40 } as const;

describe('toKafkaRecord', () => {
  it('then a transaction goes to tx.<channel> and a label to tx.labels, both keyed by customer', () => {
    const events = [...createSimulation(config).events()];
    const tx = events.find((event) => event.kind === 'transaction')!;
    const label = events.find((event) => event.kind === 'label')!;
    if (tx.kind !== 'transaction' || label.kind !== 'label') throw new Error('unreachable');
    expect(toKafkaRecord(tx)).toEqual({
      topic: `tx.${tx.tx.channel}`,
      key: tx.tx.customerId,
      value: JSON.stringify(tx.tx),
    });
    const labelRecord = toKafkaRecord(label);
    expect(labelRecord.topic).toBe('tx.labels');
    expect(labelRecord.key).toMatch(/^c\d+$/);
    // Only the contract travels: no ground truth in the value.
    expect(JSON.parse(labelRecord.value)).toEqual(label.label);
    expect(tx.tx).not.toHaveProperty('scenario');
  });
});

describe('publishEvents', () => {
  it('when streaming as fast as possible, then batches hold at most 1,000 messages and every event is sent once', async () => {
    const clock = virtualClock();
    const { sent, send } = recorder(clock);
    const simulation = createSimulation(config);
    const total = [...simulation.events()].length;
    const summary = await publishEvents(simulation.events(), { send, clock });
    expect(summary).toMatchObject({ events: total, stoppedBy: 'end' });
    expect(sent.reduce((sum, call) => sum + call.messages.length, 0)).toBe(total);
    expect(Math.max(...sent.map((call) => call.messages.length))).toBeLessThanOrEqual(1000);
    expect(summary.batches).toBe(Math.ceil(total / 1000));
    expect(clock.sleeps).toEqual([]);
  });

  it('then no label reaches the broker before its transaction', async () => {
    const clock = virtualClock();
    const { sent, send } = recorder(clock);
    // Labels due at once, and big batches, so labels and their transactions share batches.
    const simulation = createSimulation({ ...config, labelDelay: { kind: 'fixed', days: 0 } });
    await publishEvents(simulation.events(), { send, clock, batchSize: 5000 });
    const seen = new Set<string>();
    let labels = 0;
    for (const call of sent) {
      for (const message of call.messages) {
        const value = JSON.parse(message.value) as { transactionId: string; reportedAt?: string };
        if (call.topic === 'tx.labels') {
          expect(seen.has(value.transactionId)).toBe(true);
          labels += 1;
        } else {
          seen.add(value.transactionId);
        }
      }
    }
    expect(labels).toBeGreaterThan(0);
  });

  it('when a limit is set, then exactly that many events are sent', async () => {
    const clock = virtualClock();
    const { sent, send } = recorder(clock);
    const summary = await publishEvents(createSimulation(config).events(), {
      send,
      clock,
      limit: 2500,
    });
    expect(summary).toEqual({ events: 2500, batches: 3, stoppedBy: 'limit' });
    expect(sent.reduce((sum, call) => sum + call.messages.length, 0)).toBe(2500);
    const none = await publishEvents(createSimulation(config).events(), { send, clock, limit: 0 });
    expect(none).toEqual({ events: 0, batches: 0, stoppedBy: 'limit' });
  });

  it('when a rate is set, then the events are spread over wall-clock time at that rate', async () => {
    const clock = virtualClock();
    const { sent, send } = recorder(clock);
    const summary = await publishEvents(createSimulation(config).events(), {
      send,
      clock,
      ratePerSecond: 2000,
      limit: 10_000,
    });
    expect(summary.events).toBe(10_000);
    // A tenth of a second's worth per batch; the first batch goes at once from the full bucket.
    expect(Math.max(...sent.map((call) => call.messages.length))).toBeLessThanOrEqual(200);
    expect(clock.now()).toBeCloseTo((10_000 - 200) / 2, 0);
  });

  it('when the signal aborts mid-stream, then the batch in hand is sent and the stream stops', async () => {
    const clock = virtualClock();
    const controller = new AbortController();
    let sentEvents = 0;
    const summary = await publishEvents(createSimulation(config).events(), {
      clock,
      signal: controller.signal,
      batchSize: 100,
      send: (_topic, messages) => {
        sentEvents += messages.length;
        if (sentEvents >= 250) controller.abort();
        return Promise.resolve();
      },
    });
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.events).toBe(sentEvents);
    expect(summary.events).toBe(300);
  });

  it('when a topic prefix is given, then every topic carries it and labels still go last', async () => {
    const clock = virtualClock();
    const { sent, send } = recorder(clock);
    await publishEvents(createSimulation(config).events(), {
      send,
      clock,
      topicPrefix: 'trial.',
      batchSize: 100_000,
    });
    expect(new Set(sent.map((call) => call.topic))).toEqual(
      new Set(['trial.tx.mobile', 'trial.tx.web', 'trial.tx.pos', 'trial.tx.labels']),
    );
    expect(sent.at(-1)!.topic).toBe('trial.tx.labels');
  });

  it('when sending fails, then the error reaches the caller', async () => {
    await expect(
      publishEvents(createSimulation(config).events(), {
        clock: virtualClock(),
        send: () => Promise.reject(new Error('broker down')),
      }),
    ).rejects.toThrow('broker down');
  });
});

describe('TokenBucket', () => {
  it('then a full bucket lets a burst through, and then paces at the rate', () => {
    const bucket = new TokenBucket(100, 10, 0);
    expect(bucket.reserve(10, 0)).toBe(0);
    expect(bucket.reserve(10, 0)).toBeCloseTo(100);
    // The overdraft counts: the next reservation waits behind it.
    expect(bucket.reserve(10, 0)).toBeCloseTo(200);
    expect(bucket.reserve(10, 1000)).toBe(0);
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
  });
});

describe('ProgressMeter', () => {
  it('then a snapshot comes once per interval, with the simulated day and the rate', () => {
    let now = 0;
    const simulation = createSimulation(config);
    const meter = new ProgressMeter({
      startMs: simulation.startMs,
      days: config.days,
      intervalMs: 1000,
      now: () => now,
    });
    const snapshots = [];
    let count = 0;
    for (const event of simulation.events()) {
      count += 1;
      now = count; // one millisecond per event
      const snapshot = meter.record(event);
      if (snapshot !== undefined) snapshots.push(snapshot);
      if (count === 5000) break;
    }
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    expect(snapshots.length).toBeLessThanOrEqual(5);
    const [first] = snapshots;
    expect(first!.eventsPerSecond).toBeGreaterThan(900);
    expect(first!.simDay).toBeGreaterThanOrEqual(1);
    expect(formatProgress(first!)).toMatch(
      /^day \d+\/40 · [\d,]+ events \([\d,]+ tx, [\d,]+ labels\) · [\d,]+ events\/s · \d+\.\d s$/,
    );
  });
});
