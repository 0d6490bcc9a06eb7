import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { connectAmqp } from '@streamtrain/amqp';
import { StreamtrainError } from '@streamtrain/contracts';
import { ConfigError, kafkaConnectionOf } from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import { createLogger } from '@streamtrain/observability';
import { relayOutbox } from '@streamtrain/service-kit';
import { createPool, migrate } from '@streamtrain/warehouse';
import { loadIngestConfig } from '../config';
import { importFile } from '../entry-points/file-import';

interface ImportCliOptions {
  kind: 'transactions' | 'labels';
  format?: 'jsonl' | 'csv';
  batchSize: number;
}

async function run(file: string, options: ImportCliOptions): Promise<void> {
  const config = loadIngestConfig();
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StreamtrainError(
      'IMPORT_FILE_UNREADABLE',
      `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(error)})`}`,
    );
  }
  const logger = createLogger({ service: 'ingest-import', level: config.LOG_LEVEL });
  const format = options.format ?? (file.endsWith('.csv') ? 'csv' : 'jsonl');
  await migrate({ databaseUrl: config.DATABASE_URL, schema: config.WAREHOUSE_SCHEMA, logger });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    schema: config.WAREHOUSE_SCHEMA,
    logger,
  });
  const kafka = createKafkaClient({
    ...kafkaConnectionOf(config),
    clientId: 'streamtrain-import',
    logger,
  });
  const producer = await kafka.producer();
  try {
    const started = Date.now();
    const summary = await importFile({
      file,
      kind: options.kind,
      format,
      pool,
      deadLetterProducer: producer,
      deadLetterTopic: config.INGEST_DEAD_LETTER_TOPIC,
      batchSize: options.batchSize,
      maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_MS,
      logger,
      onProgress: (progress) => {
        const seconds = (Date.now() - started) / 1000;
        console.error(
          `${progress.lines.toLocaleString('en-US')} lines · ${Math.round(progress.lines / seconds).toLocaleString('en-US')}/s`,
        );
      },
    });
    // Announce the imported batches now rather than waiting for a running ingest's relay.
    const amqp = await connectAmqp({
      url: config.AMQP_URL,
      exchange: config.AMQP_EXCHANGE,
      logger,
      onFatal: (error) => logger.error({ err: error }),
    });
    const relay = relayOutbox({ pool, table: 'ingest_outbox', amqp, logger });
    const published = await relay.drain();
    await amqp.close();
    console.log(
      `${file}: ${summary.lines} lines, ${summary.landed} landed, ${summary.duplicates} already present, ` +
        (summary.conflicts > 0
          ? `${summary.conflicts} ids already stored with other content (kept the first, recorded in transaction_conflicts), `
          : '') +
        (summary.corrected > 0 ? `${summary.corrected} labels corrected, ` : '') +
        `${summary.deadLettered} dead-lettered to ${config.INGEST_DEAD_LETTER_TOPIC}` +
        (summary.alreadyDeadLettered > 0
          ? ` (${summary.alreadyDeadLettered} bad lines already dead-lettered by an earlier import)`
          : '') +
        `; ${published} arrival events published`,
    );
  } finally {
    await producer.disconnect();
    await pool.end();
  }
}

const program = new Command('streamtrain-import')
  .description(
    'Imports a JSONL or CSV file of transactions or labels through ingest validation into the warehouse.',
  )
  .argument('<file>', 'the file to import')
  .addOption(
    new Option('--kind <kind>', 'what the file holds')
      .choices(['transactions', 'labels'])
      .default('transactions'),
  )
  .addOption(
    new Option('--format <format>', 'file format (default: from the extension)').choices([
      'jsonl',
      'csv',
    ]),
  )
  .addOption(
    new Option('--batch-size <n>', 'lines per warehouse transaction')
      .default(5_000)
      .argParser(Number),
  )
  .action(run);

// What the user can fix (config, the file, credentials, a malformed header) is one line without a
// stack; anything else is a bug or an outage and prints in full.
program.parseAsync().catch((error: unknown) => {
  if (error instanceof StreamtrainError && !error.retriable) {
    console.error(`streamtrain-import: ${error.message}`);
    process.exitCode =
      error instanceof ConfigError || error.code === 'IMPORT_FILE_UNREADABLE' ? 2 : 1;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
