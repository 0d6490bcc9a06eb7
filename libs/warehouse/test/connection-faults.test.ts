import { Client } from 'pg';
import { testLogger, testServers, uniqueName } from '@streamtrain/testkit';
import { createPool, inTransaction, tryAcquireSessionLock } from '@streamtrain/warehouse';

// Issue 13, item 3: a PostgreSQL restart ended ingest and the pipeline with an unhandled 'error'
// event of a checked-out pg client. pg_terminate_backend of this test's own connections is what a
// restart does to them ("terminating connection due to administrator command").
describe('warehouse connections that the server ends', () => {
  const terminate = async (applicationName: string): Promise<number> => {
    const admin = new Client({ connectionString: testServers().databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity WHERE application_name = $1`,
        [applicationName],
      );
      return rows.length;
    } finally {
      await admin.end();
    }
  };

  it('when a checked-out connection is terminated between two queries, then the transaction fails with a retriable error, nothing crashes and the pool recovers', async () => {
    const name = uniqueName('conn');
    const errors: Error[] = [];
    const pool = createPool({
      databaseUrl: testServers().databaseUrl,
      schema: 'public',
      logger: testLogger.child({ service: name }),
      onPoolError: (error) => errors.push(error),
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const failed = inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        expect(await terminate(name)).toBe(1);
        // The server's goodbye arrives while no query is active: the client emits 'error'.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await client.query('SELECT 2');
      });
      await expect(failed).rejects.toMatchObject({
        code: 'WAREHOUSE_UNAVAILABLE',
        retriable: true,
      });
      expect(uncaught).toEqual([]);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      const { rows } = await pool.query<{ n: number }>('SELECT 3 AS n');
      expect(rows).toEqual([{ n: 3 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
  });

  it('when the connection holding a session lock is terminated, then the lock reports lost and its connection goes back to the pool', async () => {
    const name = uniqueName('lock');
    const pool = createPool({
      databaseUrl: testServers().databaseUrl,
      schema: 'public',
      logger: testLogger.child({ service: name }),
      poolSize: 2,
    });
    try {
      for (let loss = 1; loss <= 3; loss += 1) {
        const lock = await tryAcquireSessionLock(pool, name);
        expect(lock).not.toBeNull();
        const lost = new Promise<Error>((resolve) => lock?.onLost(resolve));
        expect(await terminate(name)).toBeGreaterThanOrEqual(1);
        await expect(lost).resolves.toBeInstanceOf(Error);
        // Kept checked out, a lost lock's dead connection used up the pool for good.
        expect(pool.totalCount).toBe(0);
        await lock?.release();
      }
    } finally {
      await pool.end();
    }
  });
});
