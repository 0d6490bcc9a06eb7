import { StreamtrainError } from '@streamtrain/contracts';
import { loadBackend } from '@streamtrain/model';
import type { ModelLogger } from '@streamtrain/model';

function recordingLogger(): ModelLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

describe('loadBackend', () => {
  it('when tfjs-node is absent, then auto picks wasm or cpu, logs the choice and why tensorflow was skipped', async () => {
    const logger = recordingLogger();
    const loaded = await loadBackend({ logger });

    expect(['wasm', 'cpu']).toContain(loaded.backend);
    expect(loaded.tf.getBackend()).toBe(loaded.backend);
    const selected = logger.lines.find((line) => line.msg === 'model backend selected');
    expect(selected?.obj).toMatchObject({
      backend: loaded.backend,
      preferred: 'auto',
      unavailable: [expect.objectContaining({ backend: 'tensorflow' })],
    });
  });

  it('when called again, then it returns the same backend without selecting again', async () => {
    const logger = recordingLogger();
    const first = await loadBackend();
    const second = await loadBackend({ logger });
    expect(second).toBe(first);
    expect(logger.lines).toHaveLength(0);
  });

  it('when the explicitly chosen backend is unavailable, then it throws MODEL_BACKEND_UNAVAILABLE and keeps the current one', async () => {
    const before = await loadBackend();
    const failure = loadBackend({ preferred: 'tensorflow', logger: recordingLogger() });

    await expect(failure).rejects.toBeInstanceOf(StreamtrainError);
    await expect(failure).rejects.toMatchObject({ code: 'MODEL_BACKEND_UNAVAILABLE' });
    expect(before.tf.getBackend()).toBe(before.backend);
    expect(before.tf.tidy(() => before.tf.scalar(2).square().dataSync()[0])).toBe(4);
  });

  it('when cpu is chosen explicitly, then it runs on cpu, and auto switches back to its own choice', async () => {
    const cpu = await loadBackend({ preferred: 'cpu' });
    expect(cpu.tf.getBackend()).toBe('cpu');

    const auto = await loadBackend();
    expect(auto.tf.getBackend()).toBe(auto.backend);
  });
});
