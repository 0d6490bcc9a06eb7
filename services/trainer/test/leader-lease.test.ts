import { spawn } from 'node:child_process';
import path from 'node:path';
import { createEventHarness, waitFor } from '@streamtrain/testkit';
import type { EventHarness } from '@streamtrain/testkit';
import { seedBatch } from './seed-batch';

jest.setTimeout(120_000);

const TRAINER_MAIN = path.resolve(__dirname, '..', 'dist', 'main.js');

describe('trainer leader lease', () => {
  let harness: EventHarness;
  const children = new Set<ReturnType<typeof spawn>>();

  beforeEach(async () => {
    harness = await createEventHarness();
  });

  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await harness.dispose();
  });

  const runTrainer = (env: Record<string, string> = {}): ReturnType<typeof spawn> => {
    const child = spawn(process.execPath, [TRAINER_MAIN], {
      env: {
        ...process.env,
        ...harness.env,
        TRAINER_API_TOKEN: 'trainer-token-0123456789abcdef',
        TRAINER_MIN_EXAMPLES: '100',
        TRAINER_GATE_MIN_EXAMPLES: '50',
        TRAINER_GATE_MIN_POSITIVES: '2',
        TRAINER_GATE_MAX_AP_DROP: '1',
        TRAINER_LEASE_POLL_MS: '200',
        TFJS_BACKEND: 'cpu',
        ...env,
      },
      stdio: 'ignore',
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  /** Lands 600 transactions with features and matured examples, as ingest and the pipeline would. */

  const versions = () =>
    harness.schema.pool.query<{
      version_id: string;
      version: number;
      parent_version_id: string | null;
    }>('SELECT version_id, version, parent_version_id FROM model_versions ORDER BY version');
  const leaseHolders = () =>
    harness.schema.pool.query<{ pid: number }>(
      `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
       WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'trainer'
         AND l.objid = (hashtext($1)::bigint & 4294967295)::oid`,
      [`trainer:${harness.schema.schema}:fraud`],
    );

  it('when the active trainer is SIGKILLed, then the standby takes over and the version history stays one line', async () => {
    const first = runTrainer();
    await waitFor(leaseHolders, (result) => result.rows.length === 1, {
      description: 'a lease holder',
    });
    const firstHolder = (await leaseHolders()).rows[0]?.pid;
    runTrainer();
    // Let the second trainer start and find the lease taken.
    await waitFor(
      () =>
        harness.schema.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'trainer' AND pid <> $1`,
          [firstHolder],
        ),
      (result) => (result.rowCount ?? 0) > 0,
      { description: 'the standby connected' },
    );
    await harness.amqp.publish({
      routingKey: 'features.ready',
      messageId: 'r1',
      body: await seedBatch(harness.schema.pool, 'batch-1', 0),
    });
    await waitFor(versions, (result) => result.rows.length === 1, {
      description: 'version 1',
      timeoutMs: 60_000,
    });

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await waitFor(
      leaseHolders,
      (result) => result.rows.length === 1 && result.rows[0]?.pid !== firstHolder,
      { description: 'the standby to take the lease', timeoutMs: 30_000 },
    );
    await harness.amqp.publish({
      routingKey: 'features.ready',
      messageId: 'r2',
      body: await seedBatch(harness.schema.pool, 'batch-2', 600),
    });
    const both = await waitFor(versions, (result) => result.rows.length === 2, {
      description: 'version 2 from the new leader',
      timeoutMs: 60_000,
    });
    expect(both.rows.map((row) => row.version)).toEqual([1, 2]);
    expect(both.rows[1]?.parent_version_id).toBe(both.rows[0]?.version_id);
  });

  it('when the database ends the lease connection more times than the pool has connections, then the trainer takes the lease again each time and still trains', async () => {
    // A previous session saw the trainer stuck after PostgreSQL restarts during steps: every lost
    // lease kept its dead connection checked out of the pool, so after DATABASE_POOL_SIZE losses
    // the next connect waited forever.
    runTrainer({ DATABASE_POOL_SIZE: '3' });
    let holder = await waitFor(leaseHolders, (result) => result.rows.length === 1, {
      description: 'a lease holder',
    });
    for (let loss = 1; loss <= 5; loss += 1) {
      const pid = holder.rows[0]?.pid;
      await harness.schema.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      holder = await waitFor(
        leaseHolders,
        (result) => result.rows.length === 1 && result.rows[0]?.pid !== pid,
        { description: `the lease taken again after loss ${loss}`, timeoutMs: 15_000 },
      );
    }
    await harness.amqp.publish({
      routingKey: 'features.ready',
      messageId: 'r1',
      body: await seedBatch(harness.schema.pool, 'batch-1', 0),
    });
    await waitFor(versions, (result) => result.rows.length === 1, {
      description: 'version 1 after the losses',
      timeoutMs: 60_000,
    });
  });
});
