import type { Pool, PoolClient } from 'pg';

/**
 * A PostgreSQL session advisory lock held on a connection of its own. The lock lives exactly as
 * long as that connection: a process that dies (even by SIGKILL) loses it when the server sees the
 * socket close, so another process can take over without any timeout to tune.
 */
export interface SessionLock {
  /** The lock's name, as given. */
  readonly name: string;
  /** The backend pid holding it, for checks from other connections. */
  readonly backendPid: number;
  /**
   * Whether the lock is still held: asks the server, from another connection of `pool`, whether
   * the holding backend still has it. False once the holding connection is gone.
   */
  isHeld(): Promise<boolean>;
  /** Called once when the holding connection fails (the lock is then lost). */
  onLost(listener: (error: Error) => void): void;
  /** Releases the lock and closes its connection. */
  release(): Promise<void>;
}

const KEY_SQL = `hashtext($1)`;

/**
 * Tries to take the lock `name` once; null when another session holds it. The connection is
 * taken from `pool` and not returned until {@link SessionLock.release}.
 */
export async function tryAcquireSessionLock(pool: Pool, name: string): Promise<SessionLock | null> {
  const client: PoolClient = await pool.connect();
  let lostListener: ((error: Error) => void) | undefined;
  let lost: Error | undefined;
  let returned = false;
  /** Destroys the connection rather than return it: a pooled connection must never carry a session lock. */
  const giveBack = (): void => {
    if (returned) return;
    returned = true;
    client.release(true);
  };
  let held = false;
  const onError = (error: Error): void => {
    if (lost !== undefined) return;
    lost = error;
    // The lock went with the connection. Hand the dead connection back now: kept checked out,
    // each lost lock held one of the pool's connections for good, and after as many losses as the
    // pool has connections every connect waited forever (the trainer stuck after PostgreSQL
    // restarts, services/trainer/test/leader-lease.test.ts).
    if (held) giveBack();
    lostListener?.(error);
  };
  client.on('error', onError);
  try {
    const { rows } = await client.query<{ locked: boolean; pid: number }>(
      `SELECT pg_try_advisory_lock(${KEY_SQL}) AS locked, pg_backend_pid() AS pid`,
      [name],
    );
    const row = rows[0];
    if (row?.locked !== true) {
      client.off('error', onError);
      returned = true;
      client.release();
      return null;
    }
    held = true;
    if (lost !== undefined) giveBack();
    let released = false;
    return {
      name,
      backendPid: row.pid,
      async isHeld() {
        if (released || lost !== undefined) return false;
        const held = await pool.query<{ held: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $2
             AND objsubid = 1 AND objid = (${KEY_SQL}::bigint & 4294967295)::oid
             AND classid = ((${KEY_SQL}::bigint >> 32) & 4294967295)::oid) AS held`,
          [name, row.pid],
        );
        return held.rows[0]?.held === true;
      },
      onLost(listener) {
        lostListener = listener;
        if (lost !== undefined) listener(lost);
      },
      async release() {
        if (released) return;
        released = true;
        client.off('error', onError);
        try {
          if (lost === undefined) {
            await client.query(`SELECT pg_advisory_unlock(${KEY_SQL})`, [name]);
          }
        } finally {
          giveBack();
        }
      },
    };
  } catch (error) {
    client.off('error', onError);
    giveBack();
    throw error;
  }
}
