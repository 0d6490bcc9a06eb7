import { z } from 'zod';
import {
  amqpEnvShape,
  commonEnvShape,
  integer,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';

/** The trainer service's environment. */
export const trainerEnvSchema = z.object({
  ...commonEnvShape,
  ...amqpEnvShape,
  ...warehouseEnvShape,
  HTTP_PORT: integer().max(65535).default(9466),
  /** Batches handled at once; 1 keeps versions in order. @default 1 */
  AMQP_PREFETCH: integer(1).default(1),
  /** Registry name of the model. @default 'fraud' */
  TRAINER_MODEL_NAME: z.string().min(1).default('fraud'),
  /** Bearer token of `GET /v1/models` (the registry). No default: a secret. */
  TRAINER_API_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** tfjs backend: tfjs-node if it loads, else wasm, else cpu; or force one. @default 'auto' */
  TFJS_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Passes over each batch's examples. @default 2 */
  TRAINER_EPOCHS: integer(1).default(2),
  /** Mini-batch size. @default 256 */
  TRAINER_BATCH_SIZE: integer(1).default(256),
  /** Weight of a fraud example in the loss (fraud is ~1 % of examples). @default 10 */
  TRAINER_POSITIVE_WEIGHT: z.coerce.number().positive().default(10),
  /** Seed of the first model's initial weights. @default 42 */
  TRAINER_SEED: integer(1).default(42),
  /** Most recent holdout examples the gate compares candidate and champion on. @default 20000 */
  TRAINER_HOLDOUT_SIZE: integer(1).default(20_000),
  /**
   * Fewest new training examples worth a training step; smaller batches wait for company. The
   * cadence follows the data, not the wall clock, so a replay trains the same versions; and a
   * warm start on a handful of examples (a fresh Adam state each step) would unsettle the model.
   * @default 2000
   */
  TRAINER_MIN_EXAMPLES: integer(1).default(2_000),
  /** How often a standby trainer tries to take the lease. @default 1000 */
  TRAINER_LEASE_POLL_MS: integer(50).default(1_000),
  /** Gate: fewest holdout examples to trust a comparison. @default 200 */
  TRAINER_GATE_MIN_EXAMPLES: integer(0).default(200),
  /** Gate: fewest fraudulent holdout examples. @default 5 */
  TRAINER_GATE_MIN_POSITIVES: integer(0).default(5),
  /** Gate: how far the candidate's average precision may fall below the champion's. @default 0.01 */
  TRAINER_GATE_MAX_AP_DROP: z.coerce.number().min(0).max(1).default(0.01),
  /**
   * Gate: `tolerance` compares the candidate's holdout AP with the champion's within
   * TRAINER_GATE_MAX_AP_DROP; `bootstrap` judges both models' scores on the same holdout with a
   * paired bootstrap (`gateOnHoldout`): kept only if not better than chance, or its AP is below the
   * champion's by more than TRAINER_GATE_MAX_AP_DROP with TRAINER_GATE_CONFIDENCE.
   * @default 'bootstrap' (with a settled holdout and warm starts from the champion it keeps
   * below-chance models of the first weeks from serving; docs/QUALITY.md)
   */
  TRAINER_GATE: z.enum(['tolerance', 'bootstrap']).default('bootstrap'),
  /** Bootstrap gate: two-sided confidence of its intervals. @default 0.9 */
  TRAINER_GATE_CONFIDENCE: z.coerce.number().gt(0).lt(1).default(0.9),
  /** Bootstrap gate: resamples of the holdout. @default 100 */
  TRAINER_GATE_REPLICATES: integer(10).default(100),
  /**
   * Replay buffer ("no forgetting"): fraud examples of earlier steps mixed into each step (the
   * most recent ones). 0 together with TRAINER_REPLAY_RESERVOIR=0 trains on new examples only.
   * @default 1000
   */
  TRAINER_REPLAY_POSITIVES: integer(0).default(1000),
  /** Replay buffer: genuine examples kept, a uniform sample of all earlier ones. @default 8000 */
  TRAINER_REPLAY_RESERVOIR: integer(0).default(8000),
  /**
   * Version a step warm-starts from: `champion` (measured ahead, docs/QUALITY.md) or `latest`
   * (promoted or not). @default 'champion'
   */
  TRAINER_WARM_START_FROM: z.enum(['latest', 'champion']).default('champion'),
  /**
   * Gate only on holdout examples this many days older than the newest watermark, so genuine and
   * fraud examples in it are equally settled (set it to PIPELINE_MATURITY_DAYS); 0 gates on the
   * most recent members. @default 7 (the pipeline's default maturity)
   */
  TRAINER_HOLDOUT_SETTLED_DAYS: z.coerce.number().min(0).default(7),
  /**
   * Weight averaging between versions: a step's trained weights become this share of the version
   * it warm-started from plus the rest of the trained ones (0: no averaging). @default 0.5
   * (docs/QUALITY.md)
   */
  TRAINER_WEIGHT_AVERAGING: z.coerce.number().min(0).lt(1).default(0.5),
  /**
   * Weight averaging backs off (a step keeps its trained weights) when the start version's loss
   * on the step's new frauds is above this many times the median of the last
   * TRAINER_WEIGHT_AVERAGING_BACKOFF_STEPS steps': the fraud patterns changed, and averaging would
   * slow the catch-up. 0 always averages. @default 0 (off: on the default simulation 1.5 fired on
   * 30 % of the steps, on noise, and cost 0.023 AP, while on a pattern change the averaged
   * model stays within 0.03 rolling AP of the weekly retrain; docs/QUALITY.md)
   */
  TRAINER_WEIGHT_AVERAGING_BACKOFF_RATIO: z.coerce.number().min(0).default(0),
  /** Steps whose median fresh-fraud loss is the back-off's reference. @default 30 */
  TRAINER_WEIGHT_AVERAGING_BACKOFF_STEPS: integer(1).default(30),
  /** Steps in a row above the ratio before the averaging backs off. @default 1 */
  TRAINER_WEIGHT_AVERAGING_BACKOFF_CONSECUTIVE: integer(1).default(1),
});

/** The trainer service's validated configuration. */
export type TrainerConfig = z.output<typeof trainerEnvSchema>;

/** Reads the trainer config from `env`; throws one error listing every problem. */
export function loadTrainerConfig(env: Env = process.env): TrainerConfig {
  return loadConfig(trainerEnvSchema, env);
}
