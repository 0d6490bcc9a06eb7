import { drainQueue, topologyOf } from '@streamtrain/amqp';
import { ModelPublishedV1 } from '@streamtrain/contracts';
import { testServers, waitFor } from '@streamtrain/testkit';
import type { RunRecord } from '@streamtrain/warehouse';
import { readRun } from '@streamtrain/warehouse';
import { runCli } from '../src/cli/program';
import type { OrchestratorService } from '../src/service';
import { api, createOrchestratorHarness, seedWarehouse, startOrchestrator } from './fixtures';

jest.setTimeout(120_000);

describe('orchestrated retraining', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;
  const services: OrchestratorService[] = [];

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
    await seedWarehouse(harness.schema.pool, { days: 40, perDay: 150 });
  });

  afterEach(async () => {
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
      { timeoutMs: 90_000, description: `run ${runId} to finish` },
    ) as Promise<RunRecord>;
  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    await runCli(['node', 'streamtrain', ...args], harness.orchestratorEnv, {
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
    });
    return lines.join('\n');
  };

  it('when a run is triggered over HTTP, then every step is recorded, the version is promoted, audited and announced', async () => {
    const service = await start();
    const refused = await fetch(`http://127.0.0.1:${service.port()}/v1/runs`, { method: 'POST' });
    expect(refused.status).toBe(401);

    const triggered = await api<{ started: boolean; runId: string }>(service, 'POST', '/v1/runs', {
      workflow: 'retrain',
      reason: 'first model',
    });
    expect(triggered.status).toBe(202);
    const run = await finished(triggered.body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((step) => [step.step, step.status])).toEqual(
      ['extract', 'transform', 'train', 'evaluate', 'gate', 'register', 'publish'].map((step) => [
        step,
        'completed',
      ]),
    );
    expect(run.steps.every((step) => step.seconds !== null && step.attempts === 1)).toBe(true);
    expect(run.promoted).toBe(true);
    expect(run.trigger).toMatchObject({ kind: 'manual', by: 'api', reason: 'first model' });

    const shown = await api<RunRecord>(service, 'GET', `/v1/runs/${run.runId}`);
    expect(shown.body.versionId).toBe(run.versionId);
    const version = await harness.schema.pool.query<{
      status: string;
      lineage: { window: object; offsets: unknown[] };
    }>('SELECT status, lineage FROM model_versions WHERE version_id = $1', [run.versionId]);
    expect(version.rows[0]?.status).toBe('champion');
    expect(version.rows[0]?.lineage.window).toBeDefined();
    expect(version.rows[0]?.lineage.offsets.length).toBeGreaterThan(0);
    const audit = await harness.count(
      `model_alias_changes WHERE action = 'gate' AND to_version_id = '${run.versionId}'`,
    );
    expect(audit).toBe(1);
    const published = await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(harness.exchange).modelPublished.queue),
      (messages) => messages.length === 1,
    );
    expect(
      ModelPublishedV1.parse(JSON.parse(published[0]?.content.toString() ?? '')).versionId,
    ).toBe(run.versionId);
    // Run history from the CLI too.
    expect(await cli('runs', 'show', run.runId)).toContain('publish');
  });

  it("when retrain-window runs, then libs/training's retrainOnWindow registers the window's version, gated on the trainer's holdout, and it is announced", async () => {
    const service = await start();
    const triggered = await api<{ runId: string }>(service, 'POST', '/v1/runs', {
      workflow: 'retrain-window',
    });
    const run = await finished(triggered.body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((step) => step.step)).toEqual(['register', 'publish']);
    expect(run.promoted).toBe(true);
    const version = await harness.schema.pool.query<{
      status: string;
      lineage: { window?: { from: string; to: string }; run?: unknown };
      champion_metrics: unknown;
      metrics: { examples: number };
    }>(
      'SELECT status, lineage, champion_metrics, metrics FROM model_versions WHERE version_id = $1',
      [run.versionId],
    );
    expect(version.rows[0]?.status).toBe('champion');
    // retrainOnWindow's lineage: the window, no run options.
    expect(version.rows[0]?.lineage.window?.from).toMatch(/^\d{4}-/);
    expect(version.rows[0]?.lineage.run).toBeUndefined();
    // Rebuilt from that lineage (the window's matured examples less the holdout): same weights.
    const rebuilt = JSON.parse(
      await cli('model', 'rebuild', run.versionId as string, '--backend', 'cpu', '--json'),
    ) as { identical: boolean; source: string };
    expect(rebuilt).toMatchObject({ identical: true, source: 'window' });
    // Judged on the trainer's recorded holdout.
    expect(version.rows[0]?.metrics.examples).toBe(await harness.count('trainer_holdout'));
    const published = await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(harness.exchange).modelPublished.queue),
      (messages) => messages.length === 1,
    );
    expect(
      ModelPublishedV1.parse(JSON.parse(published[0]?.content.toString() ?? '')).versionId,
    ).toBe(run.versionId);
  });

  it('when the gate refuses a candidate, then it is registered as rejected with the reason and nothing is announced', async () => {
    const service = await start();
    const first = await api<{ runId: string }>(service, 'POST', '/v1/runs', {
      workflow: 'retrain',
    });
    const champion = await finished(first.body.runId);
    await waitFor(
      () => drainQueue(testServers().amqpUrl, topologyOf(harness.exchange).modelPublished.queue),
      (messages) => messages.length === 1,
    );
    const second = await api<{ runId: string }>(service, 'POST', '/v1/runs', {
      workflow: 'retrain',
      params: { seed: 7, gate: { minPositives: 1_000_000 } },
    });
    const refused = await finished(second.body.runId);
    expect(refused.status).toBe('succeeded');
    expect(refused.promoted).toBe(false);
    expect(refused.gateReason).toMatch(/positives, fewer than the 1000000 required/);
    const aliases = await harness.schema.pool.query<{ version_id: string }>(
      `SELECT version_id FROM model_aliases WHERE alias = 'champion'`,
    );
    expect(aliases.rows[0]?.version_id).toBe(champion.versionId);
    expect(refused.steps.find((step) => step.step === 'publish')?.output).toMatchObject({
      published: false,
    });
    expect(
      await drainQueue(testServers().amqpUrl, topologyOf(harness.exchange).modelPublished.queue),
    ).toHaveLength(0);
  });

  it('when a schedule is stored, then it fires a run without a redeploy, and can be listed and removed', async () => {
    await start();
    expect(await cli('schedules', 'set', 'retrain', '* * * * *')).toMatch(/next /);
    const listed = JSON.parse(await cli('schedules', 'list', '--json')) as {
      workflow: string;
      nextRuns: string[];
    }[];
    expect(listed).toEqual([expect.objectContaining({ workflow: 'retrain', cron: '* * * * *' })]);
    const run = await waitFor(
      () =>
        harness.schema.pool.query<{ run_id: string }>(
          `SELECT run_id FROM orchestrator_runs WHERE trigger_kind = 'cron'`,
        ),
      (result) => result.rows.length > 0,
      { timeoutMs: 90_000, description: 'a cron run' },
    );
    expect((await finished(run.rows[0]?.run_id as string)).status).toBe('succeeded');
    await cli('schedules', 'remove', 'retrain');
    expect(await cli('schedules', 'list')).toBe('no schedules');
    await expect(cli('schedules', 'set', 'retrain', 'every minute')).rejects.toThrow(/five fields/);
  });

  it('when two instances serve the same workflow, then runs never overlap and a trigger while one waits is absorbed', async () => {
    const a = await start();
    await start();
    const params = { epochs: 30 };
    const first = await api<{ runId: string }>(a, 'POST', '/v1/runs', {
      workflow: 'retrain',
      params,
    });
    await waitFor(
      () => readRun(harness.schema.pool, first.body.runId),
      (run) => run?.status === 'running',
    );
    const second = await api<{ started: boolean; runId: string }>(a, 'POST', '/v1/runs', {
      workflow: 'retrain',
      params,
    });
    expect(second.body.started).toBe(true);
    const third = await api<{ started: boolean }>(a, 'POST', '/v1/runs', {
      workflow: 'retrain',
      params,
    });
    expect(third.body).toEqual({ started: false, reason: 'a run of retrain is already queued' });
    const one = await finished(first.body.runId);
    const two = await finished(second.body.runId);
    expect(Date.parse(two.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(one.finishedAt as string),
    );
    expect(await harness.count('orchestrator_runs')).toBe(2);
  });

  it('when a run is triggered from the CLI and cancelled mid-step, then it stops before the next step', async () => {
    await start();
    const triggered = JSON.parse(
      await cli(
        'runs',
        'trigger',
        'retrain',
        '--param',
        'epochs=60',
        '--reason',
        'by hand',
        '--actor',
        'dana',
        '--json',
      ),
    ) as { started: boolean; runId: string };
    expect(triggered.started).toBe(true);
    const run = { body: { runId: triggered.runId } };
    await waitFor(
      () => readRun(harness.schema.pool, run.body.runId),
      (record) =>
        record?.steps.some((step) => step.step === 'train' && step.status === 'running') === true,
    );
    expect(JSON.parse(await cli('runs', 'cancel', run.body.runId, '--json'))).toMatchObject({
      cancelRequested: true,
    });
    const cancelled = await finished(run.body.runId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.trigger).toMatchObject({ kind: 'manual', by: 'cli:dana', reason: 'by hand' });
    expect(cancelled.steps.map((step) => step.step)).toEqual(['extract', 'transform', 'train']);
    expect(await harness.count('model_versions')).toBe(0);
  });
});
