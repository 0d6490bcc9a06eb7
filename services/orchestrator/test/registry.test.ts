import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { drainQueue, topologyOf } from '@streamtrain/amqp';
import { ModelPublishedV1 } from '@streamtrain/contracts';
import { FraudModel } from '@streamtrain/model';
import { testServers, waitFor } from '@streamtrain/testkit';
import { featureNames } from '@streamtrain/features';
import { PostgresExampleReadModel, readVersionArtifact } from '@streamtrain/warehouse';
import type { AliasChange } from '@streamtrain/warehouse';
import { runCli } from '../src/cli/program';
import type { OrchestratorService } from '../src/service';
import {
  api,
  createOrchestratorHarness,
  runInProcess,
  seedWarehouse,
  startOrchestrator,
} from './fixtures';

jest.setTimeout(150_000);

/** A deliberately poor candidate the lenient gate lets through: one epoch on a few hours. */
const WEAK = { seed: 7, trainDays: 0.1, epochs: 1, gate: { maxApDrop: 1 } };

describe('registry operations', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;
  let service: OrchestratorService | undefined;

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
    await seedWarehouse(harness.schema.pool, { days: 40, perDay: 150 });
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await harness.dispose();
  });

  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    await runCli(['node', 'streamtrain', ...args], harness.orchestratorEnv, {
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
    });
    return lines.join('\n');
  };
  const champion = async () =>
    (
      await harness.schema.pool.query<{ version_id: string }>(
        `SELECT version_id FROM model_aliases WHERE alias = 'champion'`,
      )
    ).rows[0]?.version_id;
  const published = () =>
    drainQueue(testServers().amqpUrl, topologyOf(harness.exchange).modelPublished.queue).then(
      (messages) =>
        messages.map(
          (message) => ModelPublishedV1.parse(JSON.parse(message.content.toString())).versionId,
        ),
    );

  it('when an operator pins, promotes and rolls back through the CLI, then the champion follows, every change is audited and announced', async () => {
    const v1 = await runInProcess(harness, 'retrain', 'run-1');
    const v2 = await runInProcess(harness, 'retrain', 'run-2', WEAK);
    expect(await champion()).toBe(v2);
    expect(await published()).toEqual([v1, v2]);

    const page = JSON.parse(await cli('model', 'list', '--json', '--limit', '1')) as {
      total: number;
      versions: { versionId: string }[];
    };
    expect(page.total).toBe(2);
    expect(page.versions.map((v) => v.versionId)).toEqual([v2]);
    const second = JSON.parse(
      await cli('model', 'list', '--json', '--limit', '1', '--page', '2'),
    ) as typeof page;
    expect(second.versions.map((v) => v.versionId)).toEqual([v1]);
    const retired = JSON.parse(
      await cli('model', 'list', '--json', '--status', 'retired'),
    ) as typeof page;
    expect(retired.versions).toHaveLength(1);
    const shown = JSON.parse(await cli('model', 'show', v2, '--json')) as {
      version: { gateReason: string; lineage: { window: unknown } };
      aliases: string[];
    };
    expect(shown.aliases).toEqual(['champion', 'latest']);
    expect(shown.version.lineage.window).toBeDefined();
    expect(await cli('model', 'show', v2)).toMatch(/gate: candidate AP/);

    // Pinned: a run the gate would promote is registered but the champion stays.
    await cli('model', 'pin', '--reason', 'incident 42', '--actor', 'alice');
    const v3 = await runInProcess(harness, 'retrain', 'run-3', { ...WEAK, seed: 9 });
    expect(await champion()).toBe(v2);
    const v3Row = await readVersionArtifact(harness.schema.pool, v3);
    expect(v3Row?.record.status).toBe('rejected');
    expect(v3Row?.record.gateReason).toMatch(/promotion frozen by alice's pin \(incident 42\)/);
    expect(await cli('model', 'unpin', '--actor', 'alice')).toBe('unpinned');

    // Promote by hand, then roll back to the previous champion, then to a named version.
    expect(
      await cli('model', 'promote', v1, '--reason', 'v2 looks weak', '--actor', 'bob'),
    ).toMatch(/model.published sent/);
    expect(await champion()).toBe(v1);
    await cli('model', 'rollback', '--reason', 'undo', '--actor', 'bob');
    expect(await champion()).toBe(v2);
    await cli('model', 'rollback', v3, '--reason', 'named', '--actor', 'carol');
    expect(await champion()).toBe(v3);
    expect(await published()).toEqual([v1, v2, v3]);
    await expect(cli('model', 'promote', v3, '--reason', 'again')).rejects.toThrow(
      /already the champion/,
    );

    const audit = JSON.parse(await cli('model', 'audit', '--json')) as AliasChange[];
    expect(audit.map((c) => [c.action, c.actor, c.fromVersionId, c.toVersionId]).reverse()).toEqual(
      [
        ['gate', 'gate', null, v1],
        ['gate', 'gate', v1, v2],
        ['pin', 'alice', v2, v2],
        ['unpin', 'alice', v2, v2],
        ['promote', 'bob', v2, v1],
        ['rollback', 'bob', v1, v2],
        ['rollback', 'carol', v2, v3],
      ],
    );
    const promotion = audit.find((c) => c.action === 'promote');
    expect(promotion?.reason).toBe('v2 looks weak');
    expect(typeof (promotion?.numbers.to as { averagePrecision: unknown }).averagePrecision).toBe(
      'number',
    );
    await expect(
      harness.schema.pool.query(`UPDATE model_alias_changes SET actor = 'mallory'`),
    ).rejects.toThrow(/append-only/);
  });

  it('when a version is exported, then a tfjs consumer loads it and scores as the model does', async () => {
    const v1 = await runInProcess(harness, 'retrain', 'run-1');
    const dir = await mkdtemp(path.join(tmpdir(), 'streamtrain-export-'));
    try {
      await cli('model', 'export', v1, '--out', dir);
      const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
      };
      const weights = await readFile(path.join(dir, 'weights.bin'));
      const normaliser = JSON.parse(await readFile(path.join(dir, 'normaliser.json'), 'utf8')) as {
        mean: number[];
        std: number[];
      };
      const spec = JSON.parse(await readFile(path.join(dir, 'feature-spec.json'), 'utf8')) as {
        featureNames: string[];
      };
      const consumer = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: modelJson.modelTopology,
          weightSpecs: modelJson.weightsManifest[0]?.weights,
          weightData: new Uint8Array(weights).buffer,
        }),
      );
      const width = featureNames().length;
      const examples = await new PostgresExampleReadModel(
        harness.schema.pool,
        width,
      ).readExamplesBetween(0, Date.parse('2100-01-01'));
      const rows = Array.from({ length: Math.min(50, examples.labels.length) }, (_, i) =>
        Array.from(examples.features.subarray(i * width, (i + 1) * width)),
      );
      const holdout = { features: rows };
      const standardised = holdout.features.map((row) =>
        row.map(
          (value, i) => (value - (normaliser.mean[i] as number)) / (normaliser.std[i] as number),
        ),
      );
      const scored = consumer.predict(tf.tensor2d(standardised)) as tf.Tensor;
      const theirs = Array.from(scored.dataSync());
      const stored = await readVersionArtifact(harness.schema.pool, v1);
      const model = await FraudModel.fromArtifact(stored?.artifact);
      const ours = Array.from(model.predict(holdout.features));
      expect(spec.featureNames).toEqual(model.featureNames);
      theirs.forEach((score, i) => expect(score).toBeCloseTo(ours[i] as number, 5));
      model.dispose();
      consumer.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('when a version is rebuilt from its lineage, then the weights are identical', async () => {
    await runInProcess(harness, 'retrain', 'run-1');
    const warm = await runInProcess(harness, 'retrain-warm', 'run-2', { gate: { maxApDrop: 1 } });
    const report = JSON.parse(
      await cli('model', 'rebuild', warm, '--backend', 'cpu', '--json'),
    ) as {
      identical: boolean;
      source: string;
      examples: number;
      maxAbsDifference: number;
    };
    expect(report).toMatchObject({ identical: true, source: 'window', maxAbsDifference: 0 });
    expect(report.examples).toBeGreaterThan(500);
  });

  it('when the champion degrades live against the version it replaced, then it is rolled back automatically, with the numbers', async () => {
    const v1 = await runInProcess(harness, 'retrain', 'run-1');
    const v2 = await runInProcess(harness, 'retrain', 'run-2', WEAK);
    expect(await champion()).toBe(v2);
    expect(await published()).toEqual([v1, v2]);
    service = await startOrchestrator(
      harness.config({ ORCHESTRATOR_ROLLBACK_MAX_AP_DROP: '0.05' }),
    );
    await service.checkTriggers();
    expect(await champion()).toBe(v1);
    await service.checkTriggers();
    expect(await champion()).toBe(v1);
    // The rollback is announced once (relayed by the running orchestrator).
    await waitFor(
      () => published(),
      (ids) => ids.length > 0,
      { description: 'model.published of the rollback' },
    ).then((ids) => expect(ids).toEqual([v1]));
    const [change] = JSON.parse(
      await cli('model', 'audit', '--json', '--limit', '1'),
    ) as AliasChange[];
    expect(change).toMatchObject({
      action: 'auto-rollback',
      actor: 'orchestrator',
      fromVersionId: v2,
      toVersionId: v1,
      numbers: { maxApDrop: 0.05 },
    });
    const numbers = change?.numbers as { liveChampionAp: number; livePreviousAp: number };
    expect(numbers.liveChampionAp).toBeLessThan(numbers.livePreviousAp - 0.05);

    // The same registry over the authenticated HTTP API, described by OpenAPI.
    const listed = await api<{ total: number; versions: { versionId: string }[] }>(
      service,
      'GET',
      '/v1/models/fraud/versions?status=champion',
    );
    expect(listed.body.versions.map((v) => v.versionId)).toEqual([v1]);
    const pinned = await api<{ actor: string }>(service, 'POST', '/v1/models/fraud/pin', {
      reason: 'over http',
    });
    expect(pinned.body.actor).toBe('api');
    const back = await api<{ toVersionId: string }>(service, 'POST', '/v1/models/fraud/rollback', {
      versionId: v2,
      reason: 'operator override',
    });
    expect(back.body.toVersionId).toBe(v2);
    expect(
      (await api(service, 'POST', '/v1/models/fraud/promote', { versionId: 'nope' })).status,
    ).toBe(404);
    expect((await api(service, 'POST', '/v1/runs', { params: { epochs: 0 } })).status).toBe(400);
    const exported = await api<Record<string, unknown>>(
      service,
      'GET',
      `/v1/models/fraud/versions/${v1}/export`,
    );
    expect(Object.keys(exported.body).sort()).toEqual([
      'feature-spec.json',
      'model.json',
      'normaliser.json',
      'weights.bin',
    ]);
    const openapi = (await fetch(`http://127.0.0.1:${service.port()}/openapi.json`).then((r) =>
      r.json(),
    )) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/runs', '/v1/models/{model}/rollback']),
    );
    expect((await fetch(`http://127.0.0.1:${service.port()}/v1/models/fraud/audit`)).status).toBe(
      401,
    );
  });
});
