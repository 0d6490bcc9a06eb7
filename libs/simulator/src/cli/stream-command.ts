import { DEFAULT_NAMES, transactionTopic } from '@streamtrain/contracts';
import type { Channel } from '@streamtrain/contracts';
import {
  checkKafkaSecurity,
  kafkaConnectionOf,
  kafkaEnvShape,
  kafkaSecurityCheckParams,
  loadConfig,
} from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import { Command, Option } from 'commander';
import pino from 'pino';
import { createLogger } from '@streamtrain/observability';
import { z } from 'zod';
import { formatCounts } from '../event-tally';
import { ProgressMeter, formatProgress } from '../progress';
import { publishEvents } from '../publish/publish-events';
import { createSimulation } from '../simulation';
import { addSimulationOptions, parseCount, parsePositive, simulatorOptionsFrom } from './options';
import type { SimulationCliOptions } from './options';
import { onInterrupt } from './signals';

const kafkaSchema = z
  .object(kafkaEnvShape)
  .superRefine(checkKafkaSecurity, kafkaSecurityCheckParams);

interface StreamCliOptions extends SimulationCliOptions {
  brokers: string;
  clientId: string;
  rate?: number;
  limit?: number;
  batchSize: number;
  partitions: number;
  topicPrefix: string;
  logLevel: string;
}

async function stream(options: StreamCliOptions): Promise<void> {
  const simulation = createSimulation(simulatorOptionsFrom(options));
  const { config } = simulation;
  // Logs go to stderr with the progress lines, keeping stdout for the final summary; the same
  // JSON format as every service's (libs/observability).
  const logger = createLogger({
    service: 'streamtrain-sim',
    level: options.logLevel,
    destination: pino.destination(2),
  });
  // TLS and SASL come from the same KAFKA_* variables the services read (docs/OPERATIONS.md).
  const connection = kafkaConnectionOf(
    loadConfig(kafkaSchema, { ...process.env, KAFKA_BROKERS: options.brokers }),
  );
  const client = createKafkaClient({
    ...connection,
    clientId: options.clientId,
    logger,
  });

  const channels = (Object.entries(config.channelWeights) as Array<[Channel, number]>)
    .filter(([, weight]) => weight > 0)
    .map(([channel]) => channel);
  const topics = [...channels.map(transactionTopic), DEFAULT_NAMES.labelsTopic].map(
    (topic) => options.topicPrefix + topic,
  );
  const admin = await client.admin();
  try {
    await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: options.partitions })));
  } finally {
    await admin.disconnect();
  }

  const producer = await client.producer();
  const controller = new AbortController();
  const release = onInterrupt(() => {
    console.error('interrupted: sending the batch in hand, then disconnecting');
    controller.abort();
  });
  const progress = new ProgressMeter({ startMs: simulation.startMs, days: config.days });
  console.error(
    `streaming to ${topics.join(', ')} at ${options.brokers}` +
      `${options.rate === undefined ? '' : `, ${options.rate} events/s`}` +
      `${options.limit === undefined ? '' : `, at most ${options.limit} events`}`,
  );
  try {
    const summary = await publishEvents(simulation.events(), {
      send: (topic, messages) => producer.send(topic, messages),
      batchSize: options.batchSize,
      topicPrefix: options.topicPrefix,
      ratePerSecond: options.rate,
      limit: options.limit,
      signal: controller.signal,
      progress,
      onProgress: (snapshot) => console.error(formatProgress(snapshot)),
    });
    const final = progress.snapshot();
    console.log(formatCounts(final));
    console.log(
      `sent ${summary.events.toLocaleString('en-US')} events in ${summary.batches} batches, ` +
        `${(final.elapsedMs / 1000).toFixed(1)} s; stopped by ${summary.stoppedBy}`,
    );
    if (summary.stoppedBy === 'signal') process.exitCode = 130;
  } finally {
    release();
    await producer.disconnect();
    logger.flush();
  }
}

/** `streamtrain-sim stream`: publishes the merged stream to Kafka, `tx.<channel>` and `tx.labels`. */
export function streamCommand(): Command {
  return addSimulationOptions(
    new Command('stream').description(
      'publish transactions to tx.<channel> and fraud labels to tx.labels (key: customer id)',
    ),
  )
    .option('--brokers <list>', 'comma-separated bootstrap brokers', '127.0.0.1:9092')
    .option('--client-id <id>', 'Kafka client id', 'simulator')
    .option('--rate <n>', 'events per second (default: as fast as possible)', parsePositive)
    .option(
      '--limit <n>',
      'stop after this many events (default: the whole simulation)',
      parseCount,
    )
    .option('--batch-size <n>', 'messages per batch', parseCount, 1000)
    .option('--partitions <n>', 'partitions of topics the command creates', parseCount, 4)
    .option('--topic-prefix <prefix>', 'put before every topic name, e.g. trial. for a dry run', '')
    .addOption(
      new Option('--log-level <level>', 'pino log level (stderr)')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('warn'),
    )
    .action(stream);
}
