import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel, ReplayBuffer } from '@streamtrain/model';
import {
  ContinuousTrainer,
  promoteEveryVersion,
  replayBufferComposer,
} from '@streamtrain/training';
import type { Example, FitOptions, Lineage, StepOutcome } from '@streamtrain/training';
import { PostgresTrainerStore } from '@streamtrain/warehouse';
import { runCli } from '../src/cli/program';
import { createOrchestratorHarness, seedWarehouse } from './fixtures';

jest.setTimeout(150_000);

/** Not the CLI's fallback options: a rebuild must use what the lineage recorded. */
const FIT: FitOptions = { epochs: 2, batchSize: 128, positiveWeight: 5, shuffleSeed: 7 };

describe('rebuilding a continuous-trainer version', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
  });

  afterEach(async () => {
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

  const trainedVersion = (outcome: StepOutcome): string => {
    if (!outcome.trained) throw new Error('the step did not train');
    return outcome.versionId;
  };

  it('when a warm-started step that replayed earlier examples and averaged weights is rebuilt, then the weights are identical', async () => {
    const pool = harness.schema.pool;
    // The trainer as its service wires it: seeded models, the replay buffer, warm starts.
    const trainer = new ContinuousTrainer(
      new PostgresTrainerStore(pool, 'fraud', featureNames().length),
      {
        create: () => FraudModel.create(featureNames(), { seed: FIT.shuffleSeed }),
        fromArtifact: (artifact) => FraudModel.fromArtifact(artifact),
      },
      {
        featureSetVersion: FEATURE_SET_VERSION,
        backend: 'cpu',
        fit: FIT,
        holdoutSize: 20_000,
        minExamples: 1,
        gate: promoteEveryVersion,
        weightAveraging: 0.3,
        composeTrainingSet: replayBufferComposer(
          new ReplayBuffer<Example>({ maxPositives: 200, reservoirSize: 300, seed: 7 }),
        ),
      },
    );
    await seedWarehouse(pool, { days: 15, perDay: 150 });
    const first = trainedVersion(await trainer.trainIfDue());
    await seedWarehouse(pool, { days: 10, perDay: 150, fromDay: 15 });
    const second = trainedVersion(await trainer.trainIfDue());

    const { rows } = await pool.query<{ lineage: Lineage }>(
      'SELECT lineage FROM model_versions WHERE version_id = $1',
      [second],
    );
    const lineage = rows[0]?.lineage;
    expect(lineage?.parentVersionId).toBe(first);
    expect(lineage?.fit).toEqual(FIT);
    expect(lineage?.replayedTransactionIds?.length).toBeGreaterThan(300);
    expect(lineage?.weightAveraging).toMatchObject({ alpha: 0.3, withVersionId: first });

    for (const version of [first, second]) {
      const report = JSON.parse(
        await cli('model', 'rebuild', version, '--backend', 'cpu', '--json'),
      ) as { identical: boolean; source: string; examples: number; maxAbsDifference: number };
      expect(report).toMatchObject({
        identical: true,
        source: 'example-sets',
        maxAbsDifference: 0,
      });
      expect(report.examples).toBeGreaterThan(500);
    }
  });
});
