import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import { StreamtrainError } from '@streamtrain/contracts';

export type { Pool, PoolClient } from 'pg';

/** Options of {@link createPool}. */
export interface WarehouseOptions {
  databaseUrl: string;
  /** Schema of the warehouse tables; every connection's `search_path` points at it. */
  schema: string;
  /** @default 8 */
  poolSize?: number;
  logger: Logger;
  /** Counted on every pool error (a dropped idle connection, a server restart). */
  onPoolError?: (error: Error) => void;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name before it is put into SQL text (identifiers cannot be parameters). */
export function assertIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new StreamtrainError(
      'CONFIG_INVALID',
      `not a safe SQL identifier: ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** A pg pool whose connections use the warehouse schema. Attach-once error handler included. */
export function createPool(options: WarehouseOptions): Pool {
  const schema = assertIdentifier(options.schema);
  const logger = options.logger.child({ component: 'warehouse' });
  const pool = new Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 8,
    options: `-c search_path=${schema},public`,
    application_name: logger.bindings().service as string | undefined,
  });
  // An idle client that errors (server restart, network drop) would crash the process
  // without this handler (node-postgres README, "error" event on Pool).
  pool.on('error', (error) => {
    logger.error({ err: error }, 'idle warehouse connection failed');
    options.onPoolError?.(error);
  });
  return pool;
}

/**
 * Runs `work` in one transaction and commits, or rolls back and rethrows. Connection failures
 * come back as retriable `WAREHOUSE_UNAVAILABLE` errors.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new StreamtrainError(
      'WAREHOUSE_UNAVAILABLE',
      `cannot connect to the warehouse: ${(error as Error).message}`,
      {
        retriable: true,
        cause: error,
      },
    );
  }
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone; do not return it to the pool
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/** True when the warehouse answers a trivial query. For readiness checks. */
export async function ping(pool: Pool): Promise<boolean> {
  await pool.query('SELECT 1');
  return true;
}
