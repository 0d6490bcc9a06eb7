import { z } from 'zod';
import {
  amqpEnvShape,
  booleanFlag,
  checkKafkaSecurity,
  commaList,
  commonEnvShape,
  integer,
  kafkaEnvShape,
  kafkaSecurityCheckParams,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';

/** The ingest service's environment. Every option is documented with its default. */
export const ingestEnvSchema = z
  .object({
    ...commonEnvShape,
    ...kafkaEnvShape,
    ...amqpEnvShape,
    ...warehouseEnvShape,
    /** Transaction topics, comma-separated. Ignored when `INGEST_TOPIC_PATTERN` is set. @default 'tx.mobile,tx.web,tx.pos,tx.file' */
    INGEST_TOPICS: commaList().default(['tx.mobile', 'tx.web', 'tx.pos', 'tx.file']),
    /** A regular expression selecting transaction topics, e.g. `^tx\.(?!labels|dlq)`. */
    INGEST_TOPIC_PATTERN: z
      .string()
      .refine((source) => {
        try {
          new RegExp(source);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
    /** The fraud-labels topic. @default 'tx.labels' */
    INGEST_LABELS_TOPIC: z.string().min(1).default('tx.labels'),
    /** Where bad input goes, with its reason. @default 'tx.dlq' */
    INGEST_DEAD_LETTER_TOPIC: z.string().min(1).default('tx.dlq'),
    /** Consumer group; instances in one group share the partitions. @default 'streamtrain-ingest' */
    INGEST_GROUP_ID: z.string().min(1).default('streamtrain-ingest'),
    /** Create missing topics at start (with `INGEST_TOPIC_PARTITIONS` partitions). @default true */
    INGEST_CREATE_TOPICS: booleanFlag().default(true),
    /** @default 4 */
    INGEST_TOPIC_PARTITIONS: integer(1).default(4),
    /** Most messages in one warehouse write; a larger fetch is split. @default 20000 */
    INGEST_BATCH_MAX_MESSAGES: integer(1).default(20_000),
    /**
     * Bytes fetched per partition: bounds memory (about this × partitions held × 2 for decoded
     * copies) however fast the topic fills. @default 4194304
     */
    INGEST_FETCH_MAX_BYTES_PER_PARTITION: integer(1024).default(4_194_304),
    /**
     * How long the broker may wait to gather `INGEST_FETCH_MIN_BYTES` (the batch linger): bigger
     * batches mean fewer warehouse transactions and arrival events, at this much added latency.
     * @default 500
     */
    INGEST_LINGER_MS: integer(0).default(500),
    /** Bytes the broker gathers before answering a fetch, within the linger. @default 131072 */
    INGEST_FETCH_MIN_BYTES: integer(1).default(131_072),
    /** Partitions processed at once: their validation overlaps the warehouse writes. @default 4 */
    INGEST_PARTITIONS_CONCURRENCY: integer(1).default(4),
    /**
     * How long the group waits for a silent member before giving its partitions to the others.
     * Shorter means faster takeover after a crash (a restarted instance cannot join before its
     * dead predecessor's session expires; kafkajs has no static membership), at the risk of
     * rebalances during long pauses; heartbeats go every second and between write retries.
     * 6000 is the broker's default `group.min.session.timeout.ms`.
     * @default 6000
     */
    INGEST_SESSION_TIMEOUT_MS: integer(6_000).default(6_000),
    /**
     * How long warehouse writes of a partition may keep failing before `/readyz` reports the
     * partition stuck (503). @default 60000
     */
    INGEST_STUCK_AFTER_MS: integer(1_000).default(60_000),
    /** Event times further than this ahead of the wall clock are refused. @default 86400000 (1 day) */
    INGEST_MAX_FUTURE_SKEW_MS: integer(0).default(86_400_000),
  })
  .superRefine(checkKafkaSecurity, kafkaSecurityCheckParams)
  .transform((env) => ({
    ...env,
    KAFKA_CLIENT_ID: env.KAFKA_CLIENT_ID ?? 'streamtrain-ingest',
  }));

/** The ingest service's validated configuration. */
export type IngestConfig = z.output<typeof ingestEnvSchema>;

/** Reads the ingest config from `env`; throws one error listing every problem. */
export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return loadConfig(ingestEnvSchema, env);
}
