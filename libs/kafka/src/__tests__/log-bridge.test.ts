import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { createLogger } from '@streamtrain/observability';
import { pinoLogCreator } from '../log-bridge';

/** Top-level keys of a JSON object line, in order, duplicates kept (JSON.parse drops them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (char === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (char === '{' || char === '[') {
      depth += 1;
      expectKey = char === '{' && depth === 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    } else if (char === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('pinoLogCreator', () => {
  it('when kafkajs logs fields the logger already binds, then no key appears twice on a line', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'ingest', destination: stream }).child({
      component: 'kafka',
    });
    const log = pinoLogCreator(logger)(logLevel.INFO);
    log({
      namespace: 'Consumer',
      level: logLevel.WARN,
      label: 'WARN',
      log: {
        timestamp: '2026-01-01T00:00:00.000Z',
        message: 'Restarting the consumer',
        logger: 'kafkajs',
        component: 'runner',
        service: 'other',
        groupId: 'g',
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    const keys = topLevelKeys(line);
    expect(new Set(keys).size).toBe(keys.length);
    expect(JSON.parse(line)).toMatchObject({
      level: 'warn',
      service: 'ingest',
      component: 'kafka',
      kafkajs: 'Consumer',
      kafkajs_component: 'runner',
      kafkajs_service: 'other',
      groupId: 'g',
      msg: 'Restarting the consumer',
    });
  });

  it('when the broker cannot be reached, then that is logged once with the broker and the cause, and again a minute later with the count of attempts', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'ingest', destination: stream }).child({
      component: 'kafka',
    });
    let now = 0;
    const log = pinoLogCreator(logger, { now: () => now })(logLevel.INFO);
    const refused = (namespace: string, message: string, extra: Record<string, unknown> = {}) =>
      log({
        namespace,
        level: logLevel.ERROR,
        label: 'ERROR',
        log: { timestamp: '', message, logger: 'kafkajs', ...extra },
      });
    for (let attempt = 0; attempt < 8; attempt += 1) {
      refused('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', {
        broker: '127.0.0.1:1',
        stack: 'Error: connect ECONNREFUSED 127.0.0.1:1\n    at …',
      });
      refused(
        'BrokerPool',
        'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:1',
        { retryCount: attempt },
      );
      now += 2_000;
    }
    now += 60_000;
    refused('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', {
      broker: '127.0.0.1:1',
    });
    await new Promise((resolve) => setImmediate(resolve));
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toEqual([
      expect.objectContaining({
        level: 'warn',
        broker: '127.0.0.1:1',
        cause: 'ECONNREFUSED',
        msg: 'cannot reach Kafka broker 127.0.0.1:1 (ECONNREFUSED); retrying (repeats are logged at debug level)',
      }),
      expect.objectContaining({
        level: 'warn',
        broker: '127.0.0.1:1',
        msg: 'still cannot reach Kafka broker 127.0.0.1:1 (ECONNREFUSED): 8 failed attempts since the last report',
      }),
    ]);
  });

  it('every line carries pid and hostname', async () => {
    const { lines, stream } = capture();
    createLogger({ service: 'console', destination: stream }).info('hello');
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      service: 'console',
      pid: process.pid,
      hostname: expect.any(String) as string,
    });
  });
});
