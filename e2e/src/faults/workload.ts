import type { KafkaProducer, OutgoingMessage } from '@streamtrain/kafka';

/** Simulated event time of the first transaction; each next one is 30 s of event time later. */
const START_MS = Date.parse('2021-01-01T00:00:00Z');
const STEP_MS = 30_000;
const DAY_MS = 86_400_000;

/** The id of the `n`-th valid transaction (0-based): zero-padded, so ids sort in production order. */
export function transactionIdOf(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(9, '0')}`;
}

/** Every class of bad input the contracts refuse, plus oversized, binary and out-of-range values. */
export const BAD_INPUT_CLASSES = [
  'invalid-json',
  'binary',
  'not-an-object',
  'unknown-version',
  'schema-mismatch',
  'wrong-type',
  'too-large',
  'oversized-1_5MB',
  'year-0000',
  'offset-beyond-15h59',
  'future-event-time',
  'label-year-0000',
] as const;
/** One class of bad input. */
export type BadInputClass = (typeof BAD_INPUT_CLASSES)[number];

const validTransaction = (id: string, n: number): Record<string, unknown> => ({
  schemaVersion: 1,
  transactionId: id,
  customerId: `c${n % 500}`,
  terminalId: `m${n % 211}`,
  amount: n % 40 === 0 ? 400 + (n % 90) : 5 + (n % 120),
  eventTime: new Date(START_MS + n * STEP_MS).toISOString(),
  channel: 'web',
});

function badValue(kind: BadInputClass, id: string): { topic: 'tx' | 'labels'; value: Buffer } {
  const tx = validTransaction(id, 1);
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  switch (kind) {
    case 'invalid-json':
      return { topic: 'tx', value: Buffer.from('{"schemaVersion":1,') };
    case 'binary':
      return { topic: 'tx', value: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80]) };
    case 'not-an-object':
      return { topic: 'tx', value: json([1, 2, 3]) };
    case 'unknown-version':
      return { topic: 'tx', value: json({ ...tx, schemaVersion: 9 }) };
    case 'schema-mismatch':
      return { topic: 'tx', value: json({ ...tx, amount: -5 }) };
    // An extra field is not bad input: the contracts accept and drop it (docs/CONTRACTS.md).
    case 'wrong-type':
      return { topic: 'tx', value: json({ ...tx, amount: '12.50' }) };
    case 'too-large':
      return { topic: 'tx', value: json({ ...tx, customerId: 'x'.repeat(20_000) }) };
    case 'oversized-1_5MB':
      return { topic: 'tx', value: Buffer.alloc(1_500_000, 'x') };
    case 'year-0000':
      return { topic: 'tx', value: json({ ...tx, eventTime: '0000-01-01T00:00:00Z' }) };
    case 'offset-beyond-15h59':
      return { topic: 'tx', value: json({ ...tx, eventTime: '2021-01-01T10:00:00+18:00' }) };
    case 'future-event-time':
      return { topic: 'tx', value: json({ ...tx, eventTime: '2999-01-01T00:00:00Z' }) };
    case 'label-year-0000':
      return {
        topic: 'labels',
        value: json({
          schemaVersion: 1,
          transactionId: id,
          isFraud: true,
          reportedAt: '0000-03-01T00:00:00Z',
        }),
      };
  }
}

/** Options of {@link startWorkload}. */
export interface WorkloadOptions {
  producer: KafkaProducer;
  transactionsTopic: string;
  labelsTopic: string;
  /** Prefix of every id of this run. */
  prefix: string;
  /** Valid transactions per second. */
  ratePerSecond: number;
  /** One bad message every this many ticks (100 ms each). @default 5 */
  badEveryTicks?: number;
}

/** A running workload and what it has produced (acknowledged by Kafka) so far. */
export interface Workload {
  /** Valid transactions acknowledged: ids 0 … produced − 1. */
  produced(): number;
  labelled(): number;
  badSent(): Record<BadInputClass, number>;
  errors(): number;
  stop(): Promise<void>;
}

/**
 * Streams uniquely identified transactions at a steady rate (every 40th is fraud, labelled one
 * event-day later), with bad input of every class mixed in. A send that fails (the broker is
 * restarting) is retried with the same ids, so what counts as produced is what Kafka acknowledged.
 */
export function startWorkload(options: WorkloadOptions): Workload {
  let produced = 0;
  let labelled = 0;
  let errors = 0;
  let running = true;
  let tick = 0;
  const bad = Object.fromEntries(BAD_INPUT_CLASSES.map((kind) => [kind, 0])) as Record<
    BadInputClass,
    number
  >;
  const perTick = Math.max(1, Math.round(options.ratePerSecond / 10));
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const transactions: OutgoingMessage[] = [];
      const labels: OutgoingMessage[] = [];
      for (let i = 0; i < perTick; i += 1) {
        const n = produced + i;
        const id = transactionIdOf(options.prefix, n);
        const tx = validTransaction(id, n);
        transactions.push({ key: tx.customerId as string, value: JSON.stringify(tx) });
        if (n % 40 === 0) {
          labels.push({
            key: tx.customerId as string,
            value: JSON.stringify({
              schemaVersion: 1,
              transactionId: id,
              isFraud: true,
              reportedAt: new Date(START_MS + n * STEP_MS + DAY_MS).toISOString(),
            }),
          });
        }
      }
      const badClass =
        tick % (options.badEveryTicks ?? 5) === 0
          ? BAD_INPUT_CLASSES[
              Math.floor(tick / (options.badEveryTicks ?? 5)) % BAD_INPUT_CLASSES.length
            ]
          : undefined;
      try {
        await options.producer.send(options.transactionsTopic, transactions);
        if (labels.length > 0) await options.producer.send(options.labelsTopic, labels);
        produced += transactions.length;
        labelled += labels.length;
        if (badClass !== undefined) {
          const message = badValue(badClass, `${options.prefix}-bad-${tick}`);
          await options.producer.send(
            message.topic === 'tx' ? options.transactionsTopic : options.labelsTopic,
            [{ key: `bad-${tick}`, value: message.value }],
          );
          bad[badClass] += 1;
        }
      } catch {
        errors += 1; // the broker is away: the same ids go again next tick
      }
      tick += 1;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))),
      );
    }
  })();
  return {
    produced: () => produced,
    labelled: () => labelled,
    badSent: () => ({ ...bad }),
    errors: () => errors,
    async stop() {
      running = false;
      await loop;
    },
  };
}
