import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  amqpEnvShape,
  booleanFlag,
  commaList,
  commonEnvShape,
  integer,
  kafkaEnvShape,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';
import { DEFAULT_NAMES } from '@streamtrain/contracts';

const probability = (): z.ZodCoercedNumber => z.coerce.number().min(0).max(1);

/** The scorer service's environment. Every option is documented with its default. */
export const scorerEnvSchema = z
  .object({
    ...commonEnvShape,
    ...kafkaEnvShape,
    ...amqpEnvShape,
    ...warehouseEnvShape,
    /** Port of the scoring API and of `/healthz`, `/readyz`, `/metrics`. @default 9467 */
    HTTP_PORT: integer().max(65535).default(9467),
    /** Connections in the pool (warm-up and registry reads only). @default 4 */
    DATABASE_POOL_SIZE: integer(1).default(4),
    /** Bearer token every `/v1` route requires. A secret: no default. At least 16 characters. */
    SCORER_API_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    /** Transaction topics scored, comma-separated. @default 'tx.mobile,tx.web,tx.pos,tx.file' */
    SCORER_TOPICS: commaList().default(['tx.mobile', 'tx.web', 'tx.pos', 'tx.file']),
    /** The fraud-labels topic (feature state and live quality). @default 'tx.labels' */
    SCORER_LABELS_TOPIC: z.string().min(1).default(DEFAULT_NAMES.labelsTopic),
    /** Where scores go, keyed like the transaction. @default 'tx.scores' */
    SCORER_SCORES_TOPIC: z.string().min(1).default(DEFAULT_NAMES.scoresTopic),
    /** Consumer group of the scoring stream; instances in one group share the partitions. @default 'streamtrain-scorer' */
    SCORER_GROUP_ID: z.string().min(1).default('streamtrain-scorer'),
    /** Where a group with no committed offsets starts: the oldest message, or only new ones. @default true */
    SCORER_FROM_BEGINNING: booleanFlag().default(true),
    /** Names this instance (its state-feed group and its model.published queue). @default random */
    SCORER_INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -')
      .optional(),
    /** Create missing topics at start (with `SCORER_TOPIC_PARTITIONS` partitions). @default true */
    SCORER_CREATE_TOPICS: booleanFlag().default(true),
    /** @default 4 */
    SCORER_TOPIC_PARTITIONS: integer(1).default(4),
    /** Partitions scored at once: one's Kafka round trip overlaps another's scoring. @default 4 */
    SCORER_PARTITIONS_CONCURRENCY: integer(1).default(4),
    /** Bytes fetched per partition: bounds a batch and its memory. @default 1048576 */
    SCORER_FETCH_MAX_BYTES_PER_PARTITION: integer(1024).default(1_048_576),
    /** Longest the broker waits to fill a fetch: the stream's added latency. @default 20 */
    SCORER_LINGER_MS: integer(0).default(20),
    /** Most bytes of scores in one produce request; below the broker's `message.max.bytes`. @default 524288 */
    SCORER_PRODUCE_MAX_BYTES: integer(1024).default(524_288),
    /** Registry name of the model served. @default 'fraud' */
    SCORER_MODEL_NAME: z.string().min(1).default('fraud'),
    /** Decision threshold: a score at or above it is `exceeded`. @default 0.5 */
    SCORER_THRESHOLD: probability().default(0.5),
    /** Most transactions in one `POST /v1/score` batch. @default 10000 */
    SCORER_HTTP_MAX_BATCH: integer(1).max(100_000).default(10_000),
    /** Transactions scored between yields to the event loop, so HTTP stays responsive. @default 500 */
    SCORER_CHUNK_SIZE: integer(1).default(500),
    /** Extra history kept past the features' look-back, in days. @default 1 */
    SCORER_STATE_SLACK_DAYS: z.coerce.number().min(0).default(1),
    /** Event-time days after which an unlabelled scored transaction counts as genuine. @default 7 */
    SCORER_QUALITY_MATURITY_DAYS: z.coerce.number().positive().default(7),
    /** Matured scores per model version in the rolling live-quality window. @default 20000 */
    SCORER_QUALITY_WINDOW: integer(1).default(20_000),
    /** Model versions whose live quality is kept. @default 10 */
    SCORER_QUALITY_VERSIONS: integer(1).default(10),
    /** Served scores awaiting a label, at most (memory bound). @default 1000000 */
    SCORER_QUALITY_MAX_PENDING: integer(1).default(1_000_000),
    /** tfjs backend: tfjs-node if it loads, else wasm, else cpu; or force one. @default 'auto' */
    TFJS_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  })
  .transform((env) => ({
    ...env,
    KAFKA_CLIENT_ID: env.KAFKA_CLIENT_ID ?? 'streamtrain-scorer',
    SCORER_INSTANCE_ID: env.SCORER_INSTANCE_ID ?? randomBytes(4).toString('hex'),
  }));

/** The scorer service's validated configuration. */
export type ScorerConfig = z.output<typeof scorerEnvSchema>;

/** Reads the scorer config from `env`; throws one error listing every problem. */
export function loadScorerConfig(env: Env = process.env): ScorerConfig {
  return loadConfig(scorerEnvSchema, env);
}
