import { z } from 'zod';
import {
  amqpEnvShape,
  commonEnvShape,
  integer,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';

const optionalNumber = (schema: z.ZodNumber) =>
  z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().pipe(schema).optional(),
  );

/** The orchestrator service's environment. */
export const orchestratorEnvSchema = z.object({
  ...commonEnvShape,
  ...amqpEnvShape,
  ...warehouseEnvShape,
  HTTP_PORT: integer().max(65535).default(9468),
  /** Bearer token of the `/v1` API (registry operations, runs, schedules). No default: a secret. */
  ORCHESTRATOR_API_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Registry name of the model. @default 'fraud' */
  ORCHESTRATOR_MODEL_NAME: z.string().min(1).default('fraud'),
  /** Schema of pg-boss's job and schedule tables. @default `<WAREHOUSE_SCHEMA>_jobs` */
  ORCHESTRATOR_JOBS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .optional(),
  /** tfjs backend. @default 'auto' */
  TFJS_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Job attempts after the first (a run resumes at its last completed step). @default 5 */
  ORCHESTRATOR_RUN_RETRIES: integer(0).default(5),
  /** Seconds before the first job retry; doubles after. @default 5 */
  ORCHESTRATOR_RUN_RETRY_DELAY_SECONDS: integer(1).default(5),
  /** A run active longer than this is failed by pg-boss. @default 14400 */
  ORCHESTRATOR_RUN_EXPIRE_SECONDS: integer(1).default(14_400),
  /** How often an idle worker polls for a run. @default 2 */
  ORCHESTRATOR_POLL_SECONDS: z.coerce.number().min(0.5).default(2),
  /** How often cron schedules are checked (1-45). @default 30 */
  ORCHESTRATOR_CRON_CHECK_SECONDS: integer(1).max(45).default(30),
  /** How often the data triggers, the auto-rollback and the lost-run reaper look. @default 30000 */
  ORCHESTRATOR_TRIGGER_INTERVAL_MS: integer(100).default(30_000),
  /** Workflow the data triggers start. @default 'retrain' */
  ORCHESTRATOR_DATA_TRIGGER_WORKFLOW: z.string().min(1).default('retrain'),
  /** Newly matured labels that start a run; 0 = off. @default 0 */
  ORCHESTRATOR_LABEL_TRIGGER_COUNT: integer(0).default(0),
  /** Start a run when the champion's live AP falls below this; unset = off. */
  ORCHESTRATOR_AP_TRIGGER_THRESHOLD: optionalNumber(z.number().min(0).max(1)),
  /** Roll back when the champion's live AP is this far below its predecessor's; unset = off. */
  ORCHESTRATOR_ROLLBACK_MAX_AP_DROP: optionalNumber(z.number().min(0).max(1)),
  /** Recent holdout examples live quality is measured on (the trainer's holdout). @default 20000 */
  ORCHESTRATOR_LIVE_HOLDOUT_SIZE: integer(1).default(20_000),
});

/** The orchestrator's validated configuration. */
export type OrchestratorConfig = z.output<typeof orchestratorEnvSchema> & { jobsSchema: string };

/** Reads the orchestrator config from `env`; throws one error listing every problem. */
export function loadOrchestratorConfig(env: Env = process.env): OrchestratorConfig {
  const config = loadConfig(orchestratorEnvSchema, env);
  return Object.freeze({
    ...config,
    jobsSchema: config.ORCHESTRATOR_JOBS_SCHEMA ?? `${config.WAREHOUSE_SCHEMA}_jobs`.slice(0, 63),
  });
}
