import { spawn } from 'node:child_process';
import path from 'node:path';
import { waitFor } from '@streamtrain/testkit';
import { readRun } from '@streamtrain/warehouse';
import type { RunRecord } from '@streamtrain/warehouse';
import type { OrchestratorService } from '../src/service';
import { api, createOrchestratorHarness, seedWarehouse, startOrchestrator } from './fixtures';

jest.setTimeout(150_000);

const ORCHESTRATOR_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

describe('orchestrator recovery and data triggers', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;
  const services: OrchestratorService[] = [];
  let cleanup: () => void = () => undefined;

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
    await seedWarehouse(harness.schema.pool, { days: 40, perDay: 150 });
  });

  afterEach(async () => {
    cleanup();
    for (const service of services.splice(0)) await service.stop();
    await harness.dispose();
  });

  const start = async (extra?: Record<string, string>) => {
    const service = await startOrchestrator(harness.config(extra));
    services.push(service);
    return service;
  };
  const finished = (runId: string) =>
    waitFor(
      () => readRun(harness.schema.pool, runId),
      (run) => run !== null && ['succeeded', 'failed', 'cancelled'].includes(run.status),
      { timeoutMs: 120_000, description: `run ${runId} to finish` },
    ) as Promise<RunRecord>;

  it('when the orchestrator is SIGKILLed mid-training, then another instance resumes the run at the training step', async () => {
    const child = spawn(process.execPath, [ORCHESTRATOR_MAIN], {
      env: { ...process.env, ...harness.orchestratorEnv, HTTP_PORT: '0' },
      stdio: 'ignore',
    });
    cleanup = () => child.kill('SIGKILL');
    // Queue the run from here: the child takes it.
    const observer = await start({
      ORCHESTRATOR_POLL_SECONDS: '3600',
      ORCHESTRATOR_TRIGGER_INTERVAL_MS: '3600000',
    });
    const queued = await api<{ runId: string }>(observer, 'POST', '/v1/runs', {
      workflow: 'retrain',
      params: { epochs: 60 },
    });
    const runId = queued.body.runId;
    await waitFor(
      () => readRun(harness.schema.pool, runId),
      (run) =>
        run?.steps.some((step) => step.step === 'train' && step.status === 'running') === true,
      { timeoutMs: 60_000, description: 'the child to be training' },
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    // A fresh instance (fast trigger loop: its reaper notices the lost worker) resumes the run.
    const survivor = await start({ ORCHESTRATOR_TRIGGER_INTERVAL_MS: '500' });
    expect(survivor.port()).toBeGreaterThan(0);
    const run = await finished(runId);
    expect(run.status).toBe('succeeded');
    expect(run.attempts).toBe(2);
    const attempts = Object.fromEntries(run.steps.map((step) => [step.step, step.attempts]));
    expect(attempts).toEqual({
      extract: 1,
      transform: 1,
      train: 2,
      evaluate: 1,
      gate: 1,
      register: 1,
      publish: 1,
    });
    expect(await harness.count('model_versions')).toBe(1);
  });

  it('when enough labels mature, then one run starts, however many instances look', async () => {
    const extra = { ORCHESTRATOR_LABEL_TRIGGER_COUNT: '1000' };
    const a = await start(extra);
    const b = await start(extra);
    await Promise.all([a.checkTriggers(), b.checkTriggers(), a.checkTriggers()]);
    const runs = await harness.schema.pool.query<{
      run_id: string;
      trigger_kind: string;
      reason: string;
    }>('SELECT run_id, trigger_kind, reason FROM orchestrator_runs');
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0]).toMatchObject({ trigger_kind: 'label-count' });
    expect(runs.rows[0]?.reason).toMatch(
      /labels matured since the last label-count run \(threshold 1000\)/,
    );
    await finished(runs.rows[0]?.run_id as string);
    // No new labels: no new run.
    await a.checkTriggers();
    expect(await harness.count('orchestrator_runs')).toBe(1);
    // 1000 more matured labels: a second run.
    await seedWarehouse(harness.schema.pool, { days: 8, perDay: 150, fromDay: 40 });
    await b.checkTriggers();
    expect(await harness.count(`orchestrator_runs WHERE trigger_kind = 'label-count'`)).toBe(2);
  });

  it('when the champion live AP falls below the threshold, then one drift run starts for that champion', async () => {
    const service = await start({ ORCHESTRATOR_AP_TRIGGER_THRESHOLD: '1' });
    // No champion yet: nothing to judge.
    await service.checkTriggers();
    expect(await harness.count('orchestrator_runs')).toBe(0);
    const first = await api<{ runId: string }>(service, 'POST', '/v1/runs', {
      workflow: 'retrain',
    });
    const champion = await finished(first.body.runId);
    expect(champion.promoted).toBe(true);
    await service.checkTriggers();
    await service.checkTriggers();
    const drift = await harness.schema.pool.query<{
      run_id: string;
      trigger_key: string;
      reason: string;
    }>(`SELECT run_id, trigger_key, reason FROM orchestrator_runs WHERE trigger_kind = 'drift'`);
    expect(drift.rows).toHaveLength(1);
    expect(drift.rows[0]?.trigger_key).toBe(`drift:retrain:${champion.versionId}`);
    expect(drift.rows[0]?.reason).toMatch(/live AP 0\.\d+ below 1/);
    await finished(drift.rows[0]?.run_id as string);
  });
});
