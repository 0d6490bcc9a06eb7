import { isUnknownTopic, retryWhileTopicUnknown } from '../kafka-errors';

const unknownTopic = (): Error =>
  Object.assign(new Error('This server does not host this topic-partition'), {
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
  });

describe('retryWhileTopicUnknown', () => {
  const clock = (): {
    now: () => number;
    sleep: (ms: number) => Promise<void>;
    slept: number[];
  } => {
    let t = 0;
    const slept: number[] = [];
    return {
      now: () => t,
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
      slept,
    };
  };

  it('when a just-created topic is unknown to the broker for a while, then the operation is retried until it succeeds', async () => {
    const time = clock();
    let calls = 0;
    const result = await retryWhileTopicUnknown(
      async () => {
        calls += 1;
        if (calls < 4) throw unknownTopic();
        return 'done';
      },
      { ...time, initialDelayMs: 100, maxDelayMs: 300 },
    );
    expect(result).toBe('done');
    expect(time.slept).toEqual([100, 200, 300]);
  });

  it('when the error is of another kind, then it is thrown at once', async () => {
    const time = clock();
    const refused = Object.assign(new Error('auth'), { type: 'SASL_AUTHENTICATION_FAILED' });
    await expect(retryWhileTopicUnknown(() => Promise.reject(refused), time)).rejects.toBe(refused);
    expect(time.slept).toEqual([]);
  });

  it('when the topic stays unknown past the timeout, then the last error is thrown', async () => {
    const time = clock();
    await expect(
      retryWhileTopicUnknown(() => Promise.reject(unknownTopic()), { ...time, timeoutMs: 1_000 }),
    ).rejects.toThrow('does not host');
    expect(time.now()).toBeLessThanOrEqual(1_000);
  });

  it('recognises the error however deep a client wrapped it', () => {
    const wrapped = Object.assign(new Error('gave up'), {
      cause: { originalError: unknownTopic() },
    });
    expect(isUnknownTopic(wrapped)).toBe(true);
    expect(isUnknownTopic(new Error('other'))).toBe(false);
  });
});
