import { z } from 'zod';
import { integer } from './load-config';

/**
 * Variables every service shares. Each service's schema extends this shape with its own.
 */
export const commonEnvShape = {
  /** Log level for pino. @default 'info' */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Port of the health, readiness and metrics endpoints; 0 picks a free port. @default 9464 */
  HTTP_PORT: integer().max(65535).default(9464),
  /** Address the HTTP endpoints bind to. @default '127.0.0.1' */
  HTTP_HOST: z.string().default('127.0.0.1'),
  /** Hard limit on a graceful shutdown before the process exits non-zero. @default 30000 */
  SHUTDOWN_TIMEOUT_MS: integer(1).default(30_000),
};

/** RabbitMQ connection variables. `AMQP_URL` carries credentials, so it has no default. */
export const amqpEnvShape = {
  /** AMQP URL including credentials, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  AMQP_URL: z.url({ protocol: /^amqps?$/ }),
  /** Topic exchange that carries the pipeline's events. @default 'streamtrain.events' */
  AMQP_EXCHANGE: z.string().min(1).default('streamtrain.events'),
  /** Prefetch (unacknowledged deliveries per consumer). @default 8 */
  AMQP_PREFETCH: integer(1).default(8),
};

/** PostgreSQL warehouse variables. `DATABASE_URL` carries credentials, so it has no default. */
export const warehouseEnvShape = {
  /** PostgreSQL URL, e.g. `postgres://postgres@127.0.0.1:5432/streamtrain`. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  /** Schema holding the warehouse tables; tests use one per test. @default 'streamtrain' */
  WAREHOUSE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('streamtrain'),
  /** Connections in the pool. @default 8 */
  DATABASE_POOL_SIZE: integer(1).default(8),
};
