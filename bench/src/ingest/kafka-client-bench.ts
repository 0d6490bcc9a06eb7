import { kafkaClientNames } from '@streamtrain/config';
import type { KafkaClientName } from '@streamtrain/config';
import { createKafkaClient } from '@streamtrain/kafka';
import type { KafkaClient } from '@streamtrain/kafka';
import { createTestTopics, testLogger, testServers } from '@streamtrain/testkit';
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import { fmt, progress } from '../harness/progress';
import { ratio } from '../harness/stats';
import { bareConsume, INGEST_DEFAULT_FETCH } from './bare-consumer';
import type { BareConsumeResult } from './bare-consumer';
import { fillTopicWith } from './fill-topic';
import type { FilledTopic } from './fill-topic';
import { INGEST_DEFAULTS, runIngestService } from './ingest-run';
import type { IngestRun } from './ingest-run';
import { MALFORMED_KINDS, withMalformed } from './malformed-messages';
import { simulatedTransactions } from './simulated-transactions';

/** Options of {@link runKafkaClientBenchmark}. */
export interface KafkaClientBenchOptions {
  readonly messages: number;
  /** Rounds; each runs every client once, the order reversed from one round to the next. */
  readonly rounds: number;
  /** One message in this many is malformed (dead-lettered by ingest). */
  readonly malformedEvery: number;
  readonly seed: number;
}

/** What was checked after a service run, in the warehouse and in Kafka. */
export interface DeliveryCheck {
  /** Rows in `transactions`: every well-formed message, once. */
  readonly rows: number;
  /** Messages in the run's own dead-letter topic. */
  readonly deadLettersInTopic: number;
  /** The run's group committed the end of every partition of the source topic. */
  readonly committedToEnd: boolean;
  /** All three as expected. */
  readonly ok: boolean;
}

/** One client's turn in a round. */
export interface ClientRun {
  readonly client: KafkaClientName;
  readonly round: number;
  /** 1 or 2: which of the round's turns it was. */
  readonly turn: number;
  readonly bare: BareConsumeResult;
  readonly service: IngestRun;
  readonly check: DeliveryCheck;
}

/** The runs of one client, summarised. */
export interface ClientSummary {
  readonly client: KafkaClientName;
  readonly runs: number;
  readonly txPerSecond: { readonly mean: number; readonly min: number; readonly max: number };
  readonly bareMessagesPerSecond: {
    readonly mean: number;
    readonly min: number;
    readonly max: number;
  };
  readonly vmHwmMiB: { readonly mean: number; readonly max: number };
  /** Cores the ingest process used while it landed rows, mean over the runs. */
  readonly ingestCores: number | null;
  /** Ingest process CPU per transaction landed (µs), mean over the runs. */
  readonly ingestMicrosPerTx: number | null;
  readonly startupSeconds: { readonly mean: number };
  readonly allChecksOk: boolean;
}

/** `docs/results/kafka-client.json` `results`. */
export interface KafkaClientResults {
  readonly messages: number;
  readonly wellFormed: number;
  readonly malformed: number;
  readonly malformedKinds: readonly string[];
  readonly meanMessageBytes: number;
  readonly fill: FilledTopic;
  readonly runs: readonly ClientRun[];
  readonly summaries: readonly ClientSummary[];
  /** platformatic ÷ kafkajs of the means. */
  readonly platformaticToKafkajs: {
    readonly txPerSecond: number | null;
    readonly bareMessagesPerSecond: number | null;
    readonly vmHwmMiB: number | null;
    readonly ingestMicrosPerTx: number | null;
  };
  /**
   * The widest spread (max − min over mean) of one client's own service runs: a difference
   * between the clients smaller than this is within the machine's noise.
   */
  readonly noise: number | null;
}

function spreadOf(values: readonly number[]): { mean: number; min: number; max: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return { mean, min: Math.min(...values), max: Math.max(...values) };
}

function meanOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
}

/** The order of the clients in `round` (0-based): reversed every other round. */
export function clientOrder(round: number): KafkaClientName[] {
  return round % 2 === 0 ? [...kafkaClientNames] : [...kafkaClientNames].reverse();
}

function summarise(client: KafkaClientName, runs: readonly ClientRun[]): ClientSummary {
  const own = runs.filter((run) => run.client === client);
  const cores = own.map(
    (run) =>
      run.service.machineCpu?.cores.find((entry) => entry.group === 'ingest service')?.cores ??
      null,
  );
  return {
    client,
    runs: own.length,
    txPerSecond: spreadOf(own.map((run) => run.service.txPerSecond)),
    bareMessagesPerSecond: spreadOf(own.map((run) => run.bare.messagesPerSecond)),
    vmHwmMiB: {
      mean: spreadOf(own.map((run) => run.service.memory.vmHwmMiB ?? NaN)).mean,
      max: Math.max(...own.map((run) => run.service.memory.vmHwmMiB ?? NaN)),
    },
    ingestCores: meanOrNull(cores),
    ingestMicrosPerTx: meanOrNull(
      own.map((run, i) => {
        const used = cores[i];
        return used === null || used === undefined ? null : (used / run.service.txPerSecond) * 1e6;
      }),
    ),
    startupSeconds: { mean: spreadOf(own.map((run) => run.service.startupSeconds)).mean },
    allChecksOk: own.every((run) => run.check.ok),
  };
}

async function checkDelivery(
  kafka: KafkaClient,
  run: IngestRun,
  topic: string,
  deadLetterTopic: string,
  expected: { rows: number; deadLetters: number },
): Promise<DeliveryCheck> {
  const admin = await kafka.admin();
  try {
    const dead = await admin.latestOffsets(deadLetterTopic);
    const deadLettersInTopic = dead.reduce((sum, entry) => sum + Number(entry.offset), 0);
    const lag = await admin.groupLag(run.groupId, [topic]);
    const committedToEnd = lag.length > 0 && lag.every((entry) => BigInt(entry.lag) === 0n);
    return {
      rows: run.transactions,
      deadLettersInTopic,
      committedToEnd,
      ok:
        run.transactions === expected.rows &&
        deadLettersInTopic === expected.deadLetters &&
        committedToEnd,
    };
  } finally {
    await admin.disconnect();
  }
}

/**
 * The Kafka client decided by measurement (issue 12). Fills one 4-partition topic with simulated
 * transactions, one in `malformedEvery` malformed; then, in each round and for each client in
 * turn (the order reversed every other round, against the drift of a shared machine): the bare
 * consumer of that client, and the ingest service as a process with `KAFKA_CLIENT` set to it, on
 * its own schema, exchange, group and dead-letter topic, until every well-formed transaction is in
 * the warehouse, every malformed one is dead-lettered and every arrival event is published. After
 * each run the warehouse rows, the dead-letter topic and the group's committed offsets are checked.
 */
export async function runKafkaClientBenchmark(
  options: KafkaClientBenchOptions,
  context: BenchContext,
): Promise<BenchOutcome<KafkaClientResults>> {
  const { cleanup } = context;
  const { messages, seed, rounds, malformedEvery } = options;
  const turns = Array.from({ length: rounds }, (_, round) =>
    clientOrder(round).map((client, i) => ({ client, round: round + 1, turn: i + 1 })),
  ).flat();
  const deadLetterBase = (turn: { client: string; round: number }): string =>
    `tx.dlq.${turn.client}.${turn.round}`;
  const topics = await createTestTopics(['tx.bench', 'tx.labels', ...turns.map(deadLetterBase)], 4);
  const removeTopics = cleanup.add('delete kafka-client topics', () => topics.remove());
  const topic = topics.names['tx.bench'] as string;
  const timeoutMs = Math.max(180_000, (messages / 2_000) * 1_000);
  const clients = new Map<KafkaClientName, KafkaClient>(
    kafkaClientNames.map((client) => [
      client,
      createKafkaClient({
        brokers: testServers().kafkaBrokers,
        clientId: `bench-${client}`,
        logger: testLogger,
        client,
      }),
    ]),
  );
  try {
    const counts = { good: 0, malformed: 0 };
    progress(
      `kafka-client: producing ${fmt(messages)} transactions to ${topic}, one in ${malformedEvery} malformed`,
    );
    const fill = await fillTopicWith(
      topics.kafka,
      topic,
      withMalformed(simulatedTransactions(seed, messages), malformedEvery, counts),
    );
    progress(
      `kafka-client: filled in ${fill.seconds.toFixed(1)} s: ${fmt(counts.good)} well-formed, ${fmt(counts.malformed)} malformed`,
    );
    const runs: ClientRun[] = [];
    for (const turn of turns) {
      const kafka = clients.get(turn.client) as KafkaClient;
      const label = `${turn.client}, round ${turn.round}`;
      progress(`kafka-client: ${label}: bare consumer`);
      const bare = await bareConsume(kafka, topic, messages, timeoutMs);
      progress(
        `kafka-client: ${label}: bare ${fmt(bare.messagesPerSecond)} msgs/s; ingest service`,
      );
      const deadLetterTopic = topics.names[deadLetterBase(turn)] as string;
      const service = await runIngestService({
        label: `${turn.client} ${turn.round}`,
        overrides: { KAFKA_CLIENT: turn.client },
        topic,
        labelsTopic: topics.names['tx.labels'] as string,
        deadLetterTopic,
        expected: counts.good,
        expectedDeadLetters: counts.malformed,
        logDir: context.logDir,
        cleanup,
        timeoutMs,
      });
      const check = await checkDelivery(topics.kafka, service, topic, deadLetterTopic, {
        rows: counts.good,
        deadLetters: counts.malformed,
      });
      progress(
        `kafka-client: ${label}: ${fmt(service.txPerSecond)} tx/s, VmHWM ${service.memory.vmHwmMiB ?? '?'} MiB, ` +
          `${fmt(service.deadLetters)} dead-lettered; checks ${check.ok ? 'ok' : JSON.stringify(check)}`,
      );
      runs.push({ ...turn, bare, service, check });
    }
    const summaries = kafkaClientNames.map((client) => summarise(client, runs));
    const of = (client: KafkaClientName): ClientSummary =>
      summaries.find((summary) => summary.client === client) as ClientSummary;
    const [js, pl] = [of('kafkajs'), of('platformatic')];
    const noise = Math.max(
      ...summaries.map((summary) =>
        summary.runs < 2
          ? 0
          : (summary.txPerSecond.max - summary.txPerSecond.min) / summary.txPerSecond.mean,
      ),
    );
    return {
      config: {
        messages,
        rounds,
        malformedEvery,
        seed,
        topicPartitions: 4,
        simulation: 'handbook population (5,000 customers, 10,000 terminals), transactions only',
        ingestDefaults: INGEST_DEFAULTS,
        bareConsumerSettings: INGEST_DEFAULT_FETCH,
      },
      results: {
        messages,
        wellFormed: counts.good,
        malformed: counts.malformed,
        malformedKinds: MALFORMED_KINDS,
        meanMessageBytes: fill.bytes / fill.messages,
        fill,
        runs,
        summaries,
        platformaticToKafkajs: {
          txPerSecond: ratio(pl.txPerSecond.mean, js.txPerSecond.mean),
          bareMessagesPerSecond: ratio(
            pl.bareMessagesPerSecond.mean,
            js.bareMessagesPerSecond.mean,
          ),
          vmHwmMiB: ratio(pl.vmHwmMiB.mean, js.vmHwmMiB.mean),
          ingestMicrosPerTx: ratio(pl.ingestMicrosPerTx, js.ingestMicrosPerTx),
        },
        noise: rounds < 2 ? null : noise,
      },
    };
  } finally {
    await removeTopics();
  }
}
