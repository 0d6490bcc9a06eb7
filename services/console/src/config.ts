import { z } from 'zod';
import {
  commaList,
  commonEnvShape,
  integer,
  kafkaEnvShape,
  loadConfig,
  warehouseEnvShape,
} from '@streamtrain/config';
import type { Env } from '@streamtrain/config';

/** One instance of a service the console probes. */
export interface ServiceTarget {
  name: string;
  url: string;
}

const DEFAULT_SERVICES =
  'ingest=http://127.0.0.1:9464,pipeline=http://127.0.0.1:9465,trainer=http://127.0.0.1:9466';

const serviceTargets = z
  .string()
  .transform((text, context) => {
    const targets: ServiceTarget[] = [];
    for (const entry of text.split(',').map((part) => part.trim())) {
      if (entry === '') continue;
      const match = /^([a-z][a-z0-9-]*)=(https?:\/\/[^\s]+?)\/?$/.exec(entry);
      if (match?.[1] === undefined || match[2] === undefined) {
        context.addIssue({
          code: 'custom',
          message: `"${entry}" is not name=http://host:port`,
        });
        continue;
      }
      targets.push({ name: match[1], url: match[2] });
    }
    return targets;
  })
  .pipe(z.array(z.object({ name: z.string(), url: z.string() })).min(1));

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');

/** The console's environment. Every option is documented with its default. */
export const consoleEnvSchema = z
  .object({
    ...commonEnvShape,
    ...kafkaEnvShape,
    ...warehouseEnvShape,
    HTTP_PORT: integer().max(65535).default(9469),
    /** Bearer token of the page and the JSON API (at least 16 characters). No default. */
    CONSOLE_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    /** kafka-lag-exporter's `cluster_name` label on every lag metric. @default 'local' */
    CONSOLE_CLUSTER_NAME: z.string().min(1).default('local'),
    /** Consumer groups whose lag is exported, comma-separated. @default 'streamtrain-ingest' */
    CONSOLE_LAG_GROUPS: commaList().default(['streamtrain-ingest']),
    /** How often committed and latest offsets are read from the brokers. @default 2000 */
    CONSOLE_LAG_POLL_MS: integer(100).default(2_000),
    /** Latest-offset points kept per partition for the time-lag estimate. @default 60 */
    CONSOLE_LAG_TABLE_POINTS: integer(2).default(60),
    /**
     * Service instances to probe (`/healthz`, `/readyz`), as `name=url` pairs, comma-separated;
     * repeat a name for each instance. @default 'ingest=http://127.0.0.1:9464,pipeline=http://127.0.0.1:9465,trainer=http://127.0.0.1:9466'
     */
    CONSOLE_SERVICES: serviceTargets.default(() => serviceTargets.parse(DEFAULT_SERVICES)),
    /** How often services are probed and the page's data refreshed (and pushed). @default 2000 */
    CONSOLE_REFRESH_MS: integer(200).default(2_000),
    /** Dead-letter topic read for counts per reason and latest samples. @default 'tx.dlq' */
    CONSOLE_DLQ_TOPIC: z.string().min(1).default('tx.dlq'),
    /** Latest dead letters kept per reason. @default 5 */
    CONSOLE_DLQ_SAMPLES: integer(1).default(5),
    /** Registry model shown. @default 'fraud' */
    CONSOLE_MODEL_NAME: z.string().min(1).default('fraud'),
    /** Registry versions shown in the chart. @default 200 */
    CONSOLE_REGISTRY_LIMIT: integer(1).default(200),
    /** Outbox tables whose unpublished events are counted. @default 'ingest_outbox,pipeline_outbox,trainer_outbox' */
    CONSOLE_OUTBOX_TABLES: commaList()
      .pipe(z.array(identifier))
      .default(['ingest_outbox', 'pipeline_outbox', 'trainer_outbox']),
    /** The orchestrator's run table; shown as "no orchestrator runs" while absent. @default 'orchestrator_runs' */
    CONSOLE_RUNS_TABLE: identifier.default('orchestrator_runs'),
    /** The scorer's live-quality table; shown as "no live quality yet" while absent. @default 'scorer_live_quality' */
    CONSOLE_LIVE_QUALITY_TABLE: identifier.default('scorer_live_quality'),
    /** Rows shown from each of those two tables. @default 20 */
    CONSOLE_TABLE_ROWS: integer(1).default(20),
    /** Lag-trend history kept in memory for the page's chart. @default 900000 (15 min) */
    CONSOLE_HISTORY_MS: integer(10_000).default(900_000),
    /** Window over which the lag trend (growing/shrinking/steady) is judged. @default 60000 */
    CONSOLE_TREND_WINDOW_MS: integer(1_000).default(60_000),
  })
  .transform((env) => ({
    ...env,
    KAFKA_CLIENT_ID: env.KAFKA_CLIENT_ID ?? 'streamtrain-console',
  }));

/** The console's validated configuration. */
export type ConsoleConfig = z.output<typeof consoleEnvSchema>;

/** Reads the console config from `env`; throws one error listing every problem. */
export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  return loadConfig(consoleEnvSchema, env);
}
