import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';
import { retry } from '@streamtrain/observability';
import { assertIdentifier, explainWarehouseConnectError, isConnectionError } from './pool';

const LOCKED = /Another migration is already running/;

/** Where the SQL migrations live, whether this runs from `src` (tests) or `dist`. */
export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations');

/** Options of {@link migrate}. */
export interface MigrateOptions {
  databaseUrl: string;
  schema: string;
  logger: Logger;
  /** @default 'up' */
  direction?: 'up' | 'down';
}

/**
 * Runs `work` with a client of its own that has an 'error' listener: node-pg-migrate's own client
 * has none, so a server restart during a migration ended the process (issue 13).
 */
async function withClient<T>(
  databaseUrl: string,
  logger: Logger,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', (error) => logger.warn({ err: error }, 'migration connection failed'));
  try {
    await client.connect();
  } catch (error) {
    throw explainWarehouseConnectError(error, databaseUrl);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Brings the warehouse schema up to date with node-pg-migrate (creating the schema if needed).
 * Safe to run from several processes at once: they take node-pg-migrate's advisory lock in turn.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const schema = assertIdentifier(options.schema);
  const logger = options.logger.child({ component: 'migrate' });
  const applied = await retry(
    () =>
      withClient(options.databaseUrl, logger, (dbClient) =>
        runner({
          dbClient,
          dir: MIGRATIONS_DIR,
          direction: options.direction ?? 'up',
          migrationsTable: 'pgmigrations',
          schema,
          createSchema: true,
          count: Infinity,
          logger: {
            debug: (msg: string) => logger.debug(msg),
            info: (msg: string) => logger.debug(msg),
            warn: (msg: string) => logger.warn(msg),
            error: (msg: string) => logger.error(msg),
          },
        }),
      ),
    {
      retries: 30,
      initialDelayMs: 100,
      factor: 1.5,
      maxDelayMs: 2_000,
      // node-pg-migrate takes its advisory lock with pg_try_advisory_lock and fails at once when
      // another process holds it: services starting together wait their turn instead.
      // A server that is down or starting up is waited for too, with backoff.
      shouldRetry: (error) => LOCKED.test((error as Error).message) || isConnectionError(error),
    },
  );
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) logger.info({ schema, applied: names }, 'migrations applied');
  return names;
}
