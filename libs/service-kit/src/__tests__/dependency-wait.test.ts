import { createLogger } from '@streamtrain/observability';
import {
  connectKafkaWhenReachable,
  connectWhenReachable,
  unreachableCause,
} from '../dependency-wait';

const refused = (): Error =>
  new Error('cannot reach RabbitMQ', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  });

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    destination: { write: (line) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
  });
  const phases: string[] = [];
  return {
    lines,
    logger,
    ops: { port: 0, phase: (p: string) => phases.push(p), started: () => undefined },
    phases,
  };
}

describe('unreachableCause', () => {
  it('finds a socket code in the causes and in an AggregateError, and nothing in a refusal', () => {
    expect(unreachableCause(refused())).toBe('ECONNREFUSED');
    const aggregate = new AggregateError([
      Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' }),
    ]);
    expect(unreachableCause(new Error('x', { cause: aggregate }))).toBe('ECONNREFUSED');
    expect(
      unreachableCause(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED)')),
    ).toBe(undefined);
    expect(unreachableCause('ECONNREFUSED')).toBe(undefined);
  });
});

describe('connectWhenReachable', () => {
  it('when the server is unreachable a while, then the phase names it, one warning, debug repeats, a count after repeatAfterMs, and the connection', async () => {
    const { lines, logger, ops, phases } = capture();
    let attempts = 0;
    let clock = 0;
    const connected = await connectWhenReachable({
      dependency: 'RabbitMQ at 127.0.0.1:1',
      logger,
      ops,
      signal: new AbortController().signal,
      initialDelayMs: 1,
      maxDelayMs: 2,
      repeatAfterMs: 1_000,
      now: () => (clock += 300),
      connect: () => {
        attempts += 1;
        return attempts < 6 ? Promise.reject(refused()) : Promise.resolve('client');
      },
    });
    expect(connected).toBe('client');
    expect(phases).toEqual(['connecting to RabbitMQ at 127.0.0.1:1']);
    const warnings = lines.filter((line) => line.level === 'warn').map((line) => line.msg);
    expect(warnings).toEqual([
      'cannot reach RabbitMQ at 127.0.0.1:1 (ECONNREFUSED); retrying (repeats are logged at debug level)',
      'still cannot reach RabbitMQ at 127.0.0.1:1 (ECONNREFUSED): 4 failed attempts since the last report',
    ]);
    expect(lines.filter((line) => line.level === 'debug')).toHaveLength(3);
    expect(lines.at(-1)?.msg).toBe('reached RabbitMQ at 127.0.0.1:1');
  });

  it('when the server refuses (credentials, TLS), then it fails at once', async () => {
    const { logger, ops } = capture();
    const connect = jest.fn(() => Promise.reject(new Error('403 (ACCESS-REFUSED)')));
    await expect(
      connectWhenReachable({
        dependency: 'RabbitMQ',
        logger,
        ops,
        signal: new AbortController().signal,
        connect,
      }),
    ).rejects.toThrow('ACCESS-REFUSED');
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('when the service stops while waiting, then the wait ends at once', async () => {
    const { logger, ops } = capture();
    const stopping = new AbortController();
    const waiting = connectWhenReachable({
      dependency: 'RabbitMQ',
      logger,
      ops,
      signal: stopping.signal,
      initialDelayMs: 60_000,
      connect: () => Promise.reject(refused()),
    });
    setImmediate(() => stopping.abort(new Error('stopped while starting')));
    await expect(waiting).rejects.toThrow('stopped while starting');
  });
});

describe('connectKafkaWhenReachable', () => {
  const kafkaError = (code: string): Error =>
    Object.assign(new Error(`Kafka: ${code}`, { cause: refused() }), { code });

  it('when Kafka is unreachable a while, then it probes again, names it, leaves the one warning to the client, and says when it is reached', async () => {
    const { lines, logger, ops, phases } = capture();
    let probes = 0;
    await connectKafkaWhenReachable(
      {
        probe: () =>
          (probes += 1) < 4 ? Promise.reject(kafkaError('BROKER_UNAVAILABLE')) : Promise.resolve(),
      },
      { brokers: ['127.0.0.1:1', '127.0.0.1:2'], logger },
      { ops, signal: new AbortController().signal, initialDelayMs: 1, maxDelayMs: 2 },
    );
    expect(probes).toBe(4);
    expect(phases).toEqual(['connecting to Kafka at 127.0.0.1:1,127.0.0.1:2']);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(lines.map((line) => line.msg)).toEqual([
      ...Array<string>(3).fill('cannot reach Kafka at 127.0.0.1:1,127.0.0.1:2; retrying'),
      'reached Kafka at 127.0.0.1:1,127.0.0.1:2',
    ]);
  });

  it('when Kafka refuses the credentials, then it fails at the first probe', async () => {
    const { logger, ops } = capture();
    let probes = 0;
    const refusal = kafkaError('KAFKA_AUTH_FAILED');
    await expect(
      connectKafkaWhenReachable(
        { probe: () => ((probes += 1), Promise.reject(refusal)) },
        { brokers: ['127.0.0.1:1'], logger },
        { ops, signal: new AbortController().signal, initialDelayMs: 1 },
      ),
    ).rejects.toBe(refusal);
    expect(probes).toBe(1);
  });
});
