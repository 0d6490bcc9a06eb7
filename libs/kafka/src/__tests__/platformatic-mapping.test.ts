import { Partitioners } from 'kafkajs';
import { isRecordTooLarge } from '../kafka-errors';
import { kafkajsCompatiblePartitioner } from '../platformatic-client';
import { backoffMs, unreachableBroker } from '../platformatic-options';
import { explainConnectError, platformaticSasl } from '../security';

describe('the @platformatic/kafka adapter', () => {
  it('when a message has a key, then it goes to the partition kafkajs would choose; without one, round robin', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const ours = kafkajsCompatiblePartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let index = 0; index < 500; index += 1) {
      const key = `card-${index * 104_729}`;
      const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
      const raw = ours({ topic: 't' }, Buffer.from(key), { metadata: undefined });
      // The producer takes the partitioner's number modulo the partition count.
      expect(raw % 12).toBe(expected);
    }
    const keyless = [0, 1, 2, 3].map(() =>
      ours({ topic: 'u' }, undefined, { metadata: undefined }),
    );
    expect(keyless).toEqual([0, 1, 2, 3]);
  });

  it('maps each SASL mechanism to the names the library expects; OAUTHBEARER reads its token file', async () => {
    expect(platformaticSasl({ mechanism: 'scram-sha-512', username: 'u', password: 'p' })).toEqual({
      mechanism: 'SCRAM-SHA-512',
      username: 'u',
      password: 'p',
    });
    expect(platformaticSasl({ mechanism: 'plain', username: 'u', password: 'p' }).mechanism).toBe(
      'PLAIN',
    );
    const oauth = platformaticSasl({ mechanism: 'oauthbearer', tokenFile: __filename });
    expect(oauth.mechanism).toBe('OAUTHBEARER');
    expect(typeof oauth.token).toBe('function');
    const token = await (oauth.token as () => Promise<string>)();
    expect(token.startsWith('import')).toBe(true);
  });

  it('backs off as kafkajs is configured to: 300 ms doubling to 30 s, ±20 %', () => {
    expect([1, 2, 3, 8, 20].map((attempt) => backoffMs(attempt, () => 0.5))).toEqual([
      300, 600, 1200, 30_000, 30_000,
    ]);
    expect(backoffMs(1, () => 0)).toBe(240);
    expect(backoffMs(1, () => 1)).toBe(360);
  });

  it('recognises an unreachable broker, a refused password and an oversized record in its errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const network = Object.assign(new Error('Connection to 127.0.0.1:1 failed.'), {
      cause: refused,
    });
    const retries = new AggregateError([network, network], 'metadata failed 2 times.');
    expect(unreachableBroker(retries)).toEqual({ broker: '127.0.0.1:1', cause: 'ECONNREFUSED' });
    expect(unreachableBroker(new Error('Connection to h:9 timed out.'))).toEqual({
      broker: 'h:9',
      cause: 'timeout',
    });
    expect(unreachableBroker(new Error('Request timed out'))).toBeUndefined();

    const auth = Object.assign(new Error('SASL authentication failed.'), {
      code: 'PLT_KFK_AUTHENTICATION',
      cause: new Error(
        'Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-256',
      ),
    });
    expect(
      explainConnectError(new AggregateError([auth], 'metadata failed.'), {
        brokers: ['b:1'],
        sasl: { mechanism: 'scram-sha-256', username: 'app', password: 'x' },
      }),
    ).toMatchObject({
      code: 'KAFKA_AUTH_FAILED',
      retriable: false,
      message: expect.stringContaining(
        'refused SCRAM-SHA-256 authentication for user "app" (SASL authentication failed. Authentication failed due to invalid credentials',
      ) as unknown,
    });

    const tooLarge = Object.assign(new Error('The request included a message larger than …'), {
      apiId: 'MESSAGE_TOO_LARGE',
    });
    expect(isRecordTooLarge(new AggregateError([new Error('x'), tooLarge], 'produce failed'))).toBe(
      true,
    );
    expect(isRecordTooLarge({ type: 'RECORD_LIST_TOO_LARGE' })).toBe(true);
    expect(isRecordTooLarge(new Error('MESSAGE_TOO_LARGE'))).toBe(false);
  });
});
