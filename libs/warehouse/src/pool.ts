import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import { StreamtrainError, tlsVerifyFailure } from '@streamtrain/contracts';

export type { Pool, PoolClient } from 'pg';

/** Options of {@link createPool}. */
export interface WarehouseOptions {
  databaseUrl: string;
  /** Schema of the warehouse tables; every connection's `search_path` points at it. */
  schema: string;
  /** @default 8 */
  poolSize?: number;
  logger: Logger;
  /**
   * Longest wait for a connection (a free one of the pool, or a new one to a server that accepts
   * but does not answer) before the query fails with a retriable error instead of waiting forever.
   * @default 30000
   */
  connectTimeoutMs?: number;
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
    // node-postgres waits for a connection without limit by default: one leaked connection per
    // fault then ends as a process that hangs with no error (issue 13, the trainer's lease).
    connectionTimeoutMillis: options.connectTimeoutMs ?? 30_000,
    options: `-c search_path=${schema},public`,
    application_name: logger.bindings().service as string | undefined,
  });
  // An idle client that errors (server restart, network drop) would crash the process
  // without this handler (node-postgres README, "error" event on Pool).
  pool.on('error', (error) => {
    logger.error({ err: error }, 'idle warehouse connection failed');
    options.onPoolError?.(error);
  });
  // The pool listens only to idle clients: a checked-out one that the server drops between two
  // queries (a restart, pg_terminate_backend) emits 'error' with no listener and ends the process
  // (issue 13). Every client gets its own listener for its whole life; the failed query that
  // follows tells the caller, and the client is released as broken.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger.warn({ err: error }, 'warehouse connection in use failed');
      options.onPoolError?.(error);
    });
  });
  return pool;
}

/**
 * True when an error means the connection or the server went away (SQLSTATE class 08, connection
 * exception; class 57P, operator intervention such as a shutdown or a server starting up; a socket
 * closed under the client): trying again on a new connection may succeed.
 */
export function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^08/.test(code) || /^57P0[1-4]$/.test(code))) return true;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(code))
    return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|Client has encountered a connection error|Connection ended/.test(message)
  );
}

/** `host:port` of a PostgreSQL URL, for messages (never its credentials). */
function serverOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * A connect failure of PostgreSQL as the operator should read it: a server certificate that does
 * not verify becomes a non-retriable `WAREHOUSE_TLS_FAILED` that names the setting to fix
 * (`sslrootcert` in `DATABASE_URL`); any other error is returned unchanged.
 */
export function explainWarehouseConnectError(error: unknown, databaseUrl: string): unknown {
  const code = tlsVerifyFailure(error);
  if (code === undefined) return error;
  return new StreamtrainError(
    'WAREHOUSE_TLS_FAILED',
    `the certificate of PostgreSQL at ${serverOf(databaseUrl)} is not trusted (${code}); set ` +
      'sslrootcert=<the CA file> in DATABASE_URL to the CA that signed it (docs/OPERATIONS.md)',
    { retriable: false, cause: error },
  );
}

/**
 * Runs `work` in one transaction and commits, or rolls back and rethrows. Connection failures
 * (at connect or during the work, see {@link isConnectionError}) come back as retriable
 * `WAREHOUSE_UNAVAILABLE` errors.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    if (tlsVerifyFailure(error) !== undefined) {
      const options = pool.options as { connectionString?: string };
      throw explainWarehouseConnectError(error, options.connectionString ?? '');
    }
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
    if (isConnectionError(error)) {
      throw new StreamtrainError(
        'WAREHOUSE_UNAVAILABLE',
        `the warehouse connection failed: ${(error as Error).message}`,
        { retriable: true, cause: error },
      );
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
