#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { z } from 'zod';
import {
  checkKafkaSecurity,
  ConfigError,
  kafkaConnectionOf,
  kafkaEnvShape,
  kafkaSecurityCheckParams,
  loadConfig,
} from '@streamtrain/config';
import { StreamtrainError } from '@streamtrain/contracts';
import { createKafkaClient } from '@streamtrain/kafka';
import { createLogger } from '@streamtrain/observability';
import { redriveDeadLetters } from '../entry-points/redrive';

const redriveEnvSchema = z
  .object({
    ...kafkaEnvShape,
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('warn'),
    /** The dead-letter topic to read. @default 'tx.dlq' */
    INGEST_DEAD_LETTER_TOPIC: z.string().min(1).default('tx.dlq'),
  })
  .superRefine(checkKafkaSecurity, kafkaSecurityCheckParams);

interface RedriveCliOptions {
  code: string[];
  sourceTopic?: string;
  to?: string;
  dryRun?: boolean;
}

async function run(options: RedriveCliOptions): Promise<void> {
  const config = loadConfig(redriveEnvSchema);
  const logger = createLogger({ service: 'ingest-redrive', level: config.LOG_LEVEL });
  const kafka = createKafkaClient({
    ...kafkaConnectionOf(config),
    clientId: 'streamtrain-redrive',
    logger,
  });
  const summary = await redriveDeadLetters({
    kafka,
    deadLetterTopic: config.INGEST_DEAD_LETTER_TOPIC,
    filter: {
      codes: options.code,
      ...(options.sourceTopic === undefined ? {} : { sourceTopic: options.sourceTopic }),
      ...(options.to === undefined ? {} : { to: options.to }),
    },
    dryRun: options.dryRun === true,
    groupId: `streamtrain-redrive-${randomBytes(4).toString('hex')}`,
  });
  const verb = options.dryRun === true ? 'would send' : 'sent';
  console.log(
    `${config.INGEST_DEAD_LETTER_TOPIC}: ${summary.read} dead letters read, ${verb} ${summary.sent}`,
  );
  for (const [code, counts] of Object.entries(summary.byCode).sort()) {
    console.log(`  ${code}: ${verb} ${counts.sent}, skipped ${counts.skipped}`);
  }
  for (const [topic, count] of Object.entries(summary.byTopic).sort()) {
    console.log(`  -> ${topic}: ${count}`);
  }
  if (summary.fileSources > 0) {
    console.log(
      `  ${summary.fileSources} came from file imports: fix the file and import it again instead`,
    );
  }
}

const program = new Command('streamtrain-redrive')
  .description(
    'Sends dead letters from the dead-letter topic back to their source topic (after a fix), by error code.',
  )
  .option(
    '--code <code>',
    'take only this error code (repeatable), e.g. CONTRACT_UNKNOWN_VERSION',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option('--source-topic <topic>', 'take only letters that came from this topic')
  .option('--to <topic>', 'send to this topic instead of each letter’s source topic')
  .option('--dry-run', 'count what would be sent; send nothing, commit nothing')
  .action(run);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof StreamtrainError && !error.retriable) {
    console.error(`streamtrain-redrive: ${error.message}`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
