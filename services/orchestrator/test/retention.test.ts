import { computeFeatures, historyRange } from '@streamtrain/features';
import type { FeatureInput } from '@streamtrain/features';
import { pruneWarehouse, readHistory, readKnownLabels } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import { runCli } from '../src/cli/program';
import { DAY, T0, createOrchestratorHarness, runInProcess, seedWarehouse } from './fixtures';

jest.setTimeout(150_000);

/** New transactions after the seeded days, on customers and terminals with history. */
const targets: FeatureInput[] = Array.from({ length: 40 }, (_, n) => ({
  transactionId: `new-${n}`,
  customerId: `c${n * 3}`,
  terminalId: `m${n % 60}`,
  amount: 20 + n,
  eventTimeMs: T0 + 60 * DAY + n * 60_000,
}));

/** Features of `targets` from what the warehouse holds, read the way the pipeline reads history. */
async function featuresNow(pool: Pool): Promise<number[][]> {
  const range = historyRange(targets);
  const history = await readHistory(
    pool,
    targets.map((t) => t.customerId),
    targets.map((t) => t.terminalId),
    range.fromMs,
    range.toMs,
  );
  const labels = await readKnownLabels(pool, range.fromMs, range.toMs);
  return computeFeatures(targets, history, labels).map((vector) => Array.from(vector.values));
}

describe('warehouse retention', () => {
  let harness: Awaited<ReturnType<typeof createOrchestratorHarness>>;

  beforeEach(async () => {
    harness = await createOrchestratorHarness();
    await seedWarehouse(harness.schema.pool, { days: 60, perDay: 60 });
    await harness.schema.pool.query(
      'UPDATE pipeline_state SET watermark = $1, matured_until = $2',
      [new Date(T0 + 60 * DAY), new Date(T0 + 53 * DAY)],
    );
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

  it('when the warehouse is pruned, then new transactions get the same features and the registry and lineage still answer', async () => {
    const pool = harness.schema.pool;
    const old = await runInProcess(harness, 'retrain', 'run-1');
    const replaced = await runInProcess(harness, 'retrain', 'run-2', {
      seed: 7,
      gate: { maxApDrop: 1 },
    });
    const champion = await runInProcess(harness, 'retrain', 'run-3', {
      seed: 9,
      gate: { maxApDrop: 1 },
    });
    const before = await featuresNow(pool);
    const counts = async () =>
      (
        await pool.query<{ tx: string; f: string; e: string }>(
          `SELECT (SELECT count(*) FROM transactions) AS tx, (SELECT count(*) FROM features) AS f,
                  (SELECT count(*) FROM training_examples) AS e`,
        )
      ).rows[0];
    const full = await counts();

    const dry = JSON.parse(
      await cli(
        'warehouse',
        'prune',
        '--transactions-days',
        '1',
        '--features-days',
        '1',
        '--examples-days',
        '1',
        '--artifacts-days',
        '0',
        '--dry-run',
        '--json',
      ),
    ) as { rows: Record<string, number>; cutoffs: Record<string, string | null> };
    expect(await counts()).toEqual(full);
    expect(dry.rows.transactions).toBeGreaterThan(0);
    // One day of retention asked for; the 37-day feature look-back and maturity win.
    const lookBack = -historyRange([{ ...targets[0]!, eventTimeMs: 0 }]).fromMs;
    expect(dry.cutoffs.transactions).toBe(new Date(T0 + 60 * DAY - lookBack).toISOString());

    const done = JSON.parse(
      await cli(
        'warehouse',
        'prune',
        '--transactions-days',
        '1',
        '--features-days',
        '1',
        '--examples-days',
        '1',
        '--artifacts-days',
        '0',
        '--batch-size',
        '500',
        '--json',
      ),
    ) as { rows: Record<string, number> };
    expect(done.rows).toEqual(dry.rows);
    const after = await counts();
    expect(Number(after?.tx)).toBe(Number(full?.tx) - (dry.rows.transactions ?? 0));
    expect(Number(after?.f)).toBeLessThan(Number(full?.f));

    expect(await featuresNow(pool)).toEqual(before);

    // Versions and lineage stay; the champion and the version it replaced keep their artifacts.
    const shown = await cli('model', 'show', old, '--json');
    expect(shown).toContain(old);
    expect(JSON.stringify(JSON.parse(shown))).toContain('"lineage"');
    const { rows } = await pool.query<{ version_id: string; pruned: boolean }>(
      'SELECT version_id, artifact IS NULL AS pruned FROM model_versions ORDER BY version',
    );
    // The champion and the one it replaced keep theirs (a rollback works); the oldest lost its.
    expect(rows.find((row) => row.version_id === champion)?.pruned).toBe(false);
    expect(rows.find((row) => row.version_id === replaced)?.pruned).toBe(false);
    expect(rows.find((row) => row.version_id === old)?.pruned).toBe(true);
    expect(done.rows.artifacts).toBe(1);
    // A version without its artifact cannot be served or exported: refused with the reason.
    await expect(cli('model', 'promote', old, '--reason', 'back to v1')).rejects.toThrow(
      `${old}'s artifact was pruned`,
    );
    await expect(cli('model', 'export', old, '--out', '/tmp/never-written')).rejects.toThrow(
      /artifact was pruned/,
    );
    await cli('model', 'rollback', '--reason', 'the one it replaced still works');
    expect(
      (await pool.query(`SELECT version_id FROM model_aliases WHERE alias = 'champion'`)).rows[0],
    ).toEqual({ version_id: replaced });
    expect(JSON.parse(await cli('model', 'list', '--json'))).toMatchObject({ total: rows.length });
    await expect(
      pruneWarehouse(pool, {
        policy: {
          transactionsDays: null,
          featuresDays: null,
          examplesDays: null,
          artifactsDays: null,
        },
        lookBackMs: lookBack,
      }),
    ).resolves.toMatchObject({ rows: { transactions: 0, artifacts: 0 } });
  });
});
