import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { startOwnRabbitMq } from '@streamtrain/testkit';
import { REPO_ROOT } from '../stack';
import { FAULT_KINDS } from './schedule';
import type { FaultKind } from './schedule';
import { formatReport, runFaultSuite } from './suite';

const LOCAL_KINDS: FaultKind[] = ['sigkill', 'sigterm', 'sigstop', 'pg-terminate', 'pg-restart'];

const program = new Command()
  .name('faults')
  .description(
    'Runs the whole loop as processes, streams a steady workload with bad input mixed in, injects faults on a seeded schedule and checks that nothing was lost, doubled or stuck.',
  )
  .option('--seed <n>', 'seed of the schedule', '13')
  .option('--per-kind <n>', 'faults of each kind', '20')
  .option('--rate <n>', 'valid transactions per second', '50')
  .option(
    '--recovery-bound <ms>',
    'longest wait for the loop to catch up after one fault',
    '180000',
  )
  .option(
    '--server-restarts',
    'also restart the SHARED Kafka broker and RabbitMQ (kafka-restart, rabbitmq-restart): only when nobody else uses them',
    false,
  )
  .option(
    '--kafka-restart <command>',
    'shell command that restarts the Kafka broker',
    'bash infra/local.sh down && bash infra/local.sh up',
  )
  .option(
    '--rabbitmq-restart <command>',
    'shell command that restarts RabbitMQ',
    'rabbitmqctl stop_app && sleep 2 && rabbitmqctl start_app',
  )
  .option(
    '--kinds <list>',
    `comma-separated fault kinds (${FAULT_KINDS.join(', ')}); overrides --server-restarts`,
  )
  .option(
    '--kafka-brokers <list>',
    'Kafka brokers of the run, e.g. a broker of its own for kafka-restart',
  )
  .option('--postgres-port <n>', 'port of the suite’s own PostgreSQL cluster', '5439')
  .option(
    '--own-rabbitmq',
    'run on a RabbitMQ node of the suite’s own (its own name, ports and data; never the shared one), so rabbitmq-restart can run while others use the shared node',
    false,
  )
  .option('--write-doc', 'write the table to docs/RELIABILITY.md', false);

async function main(): Promise<void> {
  const options = program.parse().opts<{
    seed: string;
    perKind: string;
    rate: string;
    recoveryBound: string;
    serverRestarts: boolean;
    kafkaRestart: string;
    rabbitmqRestart: string;
    postgresPort: string;
    kinds?: string;
    kafkaBrokers?: string;
    writeDoc: boolean;
    ownRabbitmq: boolean;
  }>();
  // Ctrl-C stops injecting; the suite still stops its services and removes its cluster and topics.
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const kinds =
    options.kinds !== undefined
      ? options.kinds.split(',').map((kind) => {
          if (!(FAULT_KINDS as readonly string[]).includes(kind))
            throw new Error(`unknown fault kind ${kind}`);
          return kind as FaultKind;
        })
      : options.serverRestarts
        ? [...FAULT_KINDS]
        : options.ownRabbitmq
          ? [...LOCAL_KINDS, 'rabbitmq-restart' as const]
          : LOCAL_KINDS;
  const ownRabbitMq = options.ownRabbitmq ? await startOwnRabbitMq() : undefined;
  const report = await runFaultSuite({
    ...(ownRabbitMq === undefined
      ? {}
      : {
          amqpUrl: ownRabbitMq.url,
          restartRabbitMq: async () => {
            await ownRabbitMq.stopApp();
            await new Promise((resolve) => setTimeout(resolve, 2_000));
            await ownRabbitMq.startApp();
          },
        }),
    seed: Number(options.seed),
    perKind: Number(options.perKind),
    kinds,
    ratePerSecond: Number(options.rate),
    postgresPort: Number(options.postgresPort),
    kafkaBrokers: options.kafkaBrokers?.split(','),
    kafkaRestartCommand: `cd ${REPO_ROOT} && ${options.kafkaRestart}`,
    rabbitmqRestartCommand: options.rabbitmqRestart,
    signal: controller.signal,
    recoveryBoundMs: Number(options.recoveryBound),
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  }).finally(() => ownRabbitMq?.remove());
  const command = `npm run faults -- ${process.argv.slice(2).join(' ')}`.trim();
  const table = formatReport(report, command);
  process.stdout.write(`\n${table}\n`);
  if (options.writeDoc) {
    const doc = path.join(REPO_ROOT, 'docs', 'RELIABILITY.md');
    const text = readFileSync(doc, 'utf8');
    const start = text.indexOf('<!-- faults:begin -->');
    const end = text.indexOf('<!-- faults:end -->');
    if (start < 0 || end < 0) throw new Error(`${doc} lacks the faults markers`);
    writeFileSync(
      doc,
      `${text.slice(0, start)}<!-- faults:begin -->\n${table}\n${text.slice(end)}`,
    );
  }
  const failed =
    report.lost > 0 ||
    report.duplicated > 0 ||
    report.faults.some((fault) => !fault.recovered) ||
    report.labels.missing > 0 ||
    report.badInput.deadLettered <
      Object.values(report.badInput.sent).reduce((sum, n) => sum + n, 0) ||
    !report.modelHistory.unbroken;
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`faults: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
