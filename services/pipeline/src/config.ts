import { z } from 'zod';
import {
  amqpEnvShape,
  commonEnvShape,
  integer,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';

/** The pipeline service's environment. */
export const pipelineEnvSchema = z.object({
  ...commonEnvShape,
  ...amqpEnvShape,
  ...warehouseEnvShape,
  HTTP_PORT: integer().max(65535).default(9465),
  /**
   * Days after its event time that a transaction with no fraud label counts as genuine. Labels
   * arriving later correct the example. @default 7
   */
  PIPELINE_MATURITY_DAYS: z.coerce.number().min(0).default(7),
  /**
   * Batch events held at once; those that arrive together are handled in one pass (up to this
   * many), in delivery order. @default 32
   */
  AMQP_PREFETCH: integer(1).default(32),
  /**
   * Days behind the watermark that a late transaction is still featurised from the incremental
   * feature state; older ones are featurised from raw warehouse rows (exact either way, slower).
   * @default 2
   */
  PIPELINE_STATE_SLACK_DAYS: z.coerce.number().min(0).default(2),
  /**
   * Seconds between checkpoints of the feature state to the warehouse; a restart applies the
   * batches processed after the last one. @default 60
   */
  PIPELINE_STATE_CHECKPOINT_SECONDS: z.coerce.number().min(0).default(60),
});

/** The pipeline service's validated configuration. */
export type PipelineConfig = z.output<typeof pipelineEnvSchema>;

/** Reads the pipeline config from `env`; throws one error listing every problem. */
export function loadPipelineConfig(env: Env = process.env): PipelineConfig {
  return loadConfig(pipelineEnvSchema, env);
}
