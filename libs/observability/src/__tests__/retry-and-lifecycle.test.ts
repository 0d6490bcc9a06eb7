import pino from 'pino';
import {
  Health,
  backoffDelay,
  once,
  retry,
  runShutdownSteps,
  withTimeout,
} from '@streamtrain/observability';

const silent = pino({ level: 'silent' });
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

describe('retry', () => {
  it('retries a failing operation until it succeeds', async () => {
    let calls = 0;
    const result = await retry(async () => {
      calls += 1;
      if (calls < 3) throw new Error('flaky');
      return 'done';
    }, fast);
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('never retries a TypeError, a non-retriable error, or after bail', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        throw new TypeError('bug');
      }, fast),
    ).rejects.toThrow('bug');
    await expect(
      retry(async () => {
        calls += 1;
        throw Object.assign(new Error('bad input'), { retriable: false });
      }, fast),
    ).rejects.toThrow('bad input');
    await expect(retry(async (bail) => bail(new Error('stop')), fast)).rejects.toThrow('stop');
    expect(calls).toBe(2);
  });

  it('gives up after the configured retries', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new Error('down');
        },
        { ...fast, retries: 2 },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(0, { initialDelayMs: 100, jitter: 0 })).toBe(100);
    expect(backoffDelay(3, { initialDelayMs: 100, jitter: 0 })).toBe(800);
    expect(backoffDelay(30, { initialDelayMs: 100, maxDelayMs: 5_000 })).toBe(5_000);
    const jittered = backoffDelay(1, { initialDelayMs: 100, jitter: 0.5 }, () => 1);
    expect(jittered).toBe(300);
  });
});

describe('lifecycle helpers', () => {
  it('once: repeated stops share one promise', async () => {
    let runs = 0;
    const stop = once(async () => {
      runs += 1;
    });
    await Promise.all([stop(), stop(), stop()]);
    expect(runs).toBe(1);
  });

  it('runs every shutdown step even when one fails, and reports the failures', async () => {
    const ran: string[] = [];
    const errors = await runShutdownSteps(
      [
        { name: 'a', run: () => void ran.push('a') },
        {
          name: 'b',
          run: () => {
            throw new Error('b failed');
          },
        },
        { name: 'c', run: () => void ran.push('c') },
      ],
      silent,
    );
    expect(ran).toEqual(['a', 'c']);
    expect(errors.map((error) => error.message)).toEqual(['b failed']);
  });

  it('withTimeout rejects with SHUTDOWN_TIMEOUT when the work hangs', async () => {
    await expect(withTimeout(new Promise(() => undefined), 5, 'stop')).rejects.toMatchObject({
      code: 'SHUTDOWN_TIMEOUT',
    });
    await expect(withTimeout(Promise.resolve(7), 50, 'stop')).resolves.toBe(7);
  });
});

describe('Health', () => {
  it('is ready only while every check passes, and never once shutting down', async () => {
    const health = new Health();
    let up = true;
    health.register('db', () => up);
    health.register('broker', () => Promise.reject(new Error('refused')));
    expect(await health.readiness()).toMatchObject({
      ready: false,
      checks: { db: { ok: true }, broker: { ok: false, error: 'refused' } },
    });
    health.register('broker', () => true);
    expect((await health.readiness()).ready).toBe(true);
    up = false;
    expect((await health.readiness()).checks.db).toEqual({ ok: false, error: 'not ready' });
    up = true;
    health.markShuttingDown();
    expect((await health.readiness()).ready).toBe(false);
  });

  it('fails a check that does not answer in time', async () => {
    const health = new Health();
    health.register('slow', () => new Promise<boolean>(() => undefined));
    expect((await health.readiness(5)).checks.slow?.error).toMatch(/timed out/);
  });
});
