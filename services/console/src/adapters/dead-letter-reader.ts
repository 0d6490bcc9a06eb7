import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEAD_LETTER_HEADERS } from '@streamtrain/contracts';
import type { KafkaClient, KafkaConsumer } from '@streamtrain/kafka';
import type { Counter, Logger } from '@streamtrain/observability';
import { retry } from '@streamtrain/observability';

/** One dead letter as the page shows it. */
export interface DeadLetterSample {
  code: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: string;
  sourceOffset: string;
  failedAt: string;
  service: string;
  /** The original value, cut to 300 characters. */
  value: string;
}

/** Dead letters per reason, with the latest samples of each. */
export interface DeadLetterReport {
  total: number;
  reasons: { code: string; count: number; latest: DeadLetterSample[] }[];
  error: string | null;
}

/** Options of {@link DeadLetterReader}. */
export interface DeadLetterReaderOptions {
  kafka: KafkaClient;
  topic: string;
  samplesPerReason: number;
  /** Counted per dead letter read: `streamtrain_dead_letters_total{code,source_topic}`. */
  counter: Counter<'code' | 'source_topic'>;
  logger: Logger;
}

/**
 * Reads the dead-letter topic from its beginning, counts dead letters per reason and keeps the
 * latest few of each. It reads and never commits: its group is its own (named after the host and
 * a random id) and holds no offsets, so Kafka drops it once the console stops.
 */
export class DeadLetterReader {
  private consumer: KafkaConsumer | undefined;
  private stopped = false;
  private readonly counts = new Map<string, { count: number; latest: DeadLetterSample[] }>();
  private error: string | null = null;

  constructor(private readonly options: DeadLetterReaderOptions) {}

  /** Starts reading in the background; retries while the topic or the brokers are missing. */
  start(): void {
    void retry(
      async (bail) => {
        if (this.stopped) bail(new Error('stopped'));
        const consumer = this.options.kafka.consumer({
          groupId: `streamtrain-console-dlq-${hostname()}-${randomUUID()}`,
        });
        this.consumer = consumer;
        try {
          await consumer.run({
            topics: [this.options.topic],
            fromBeginning: true,
            handler: (batch, control) => {
              for (const message of batch.messages) {
                this.record(message.headers, message.value);
                control.markRead(message.offset);
              }
              return Promise.resolve();
            },
            onFatal: (error) => {
              this.error = error.message;
            },
          });
          this.error = null;
        } catch (error) {
          this.error = (error as Error).message;
          await consumer.disconnect().catch(() => undefined);
          throw error;
        }
      },
      {
        retries: Number.MAX_SAFE_INTEGER,
        maxDelayMs: 10_000,
        onRetry: (error) =>
          this.options.logger.warn(
            { err: error },
            'reading the dead-letter topic failed; retrying',
          ),
      },
    ).catch(() => undefined);
  }

  /** Counts per reason and the latest samples. */
  current(): DeadLetterReport {
    const reasons = [...this.counts]
      .map(([code, entry]) => ({ code, count: entry.count, latest: [...entry.latest].reverse() }))
      .sort((a, b) => b.count - a.count);
    return {
      total: reasons.reduce((sum, reason) => sum + reason.count, 0),
      reasons,
      error: this.error,
    };
  }

  /** Stops reading. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }

  private record(headers: Record<string, string | undefined>, value: Buffer | null): void {
    const header = (name: string): string => headers[name] ?? '';
    const code = header(DEAD_LETTER_HEADERS.code) || 'UNKNOWN';
    const sample: DeadLetterSample = {
      code,
      reason: header(DEAD_LETTER_HEADERS.reason),
      sourceTopic: header(DEAD_LETTER_HEADERS.sourceTopic),
      sourcePartition: header(DEAD_LETTER_HEADERS.sourcePartition),
      sourceOffset: header(DEAD_LETTER_HEADERS.sourceOffset),
      failedAt: header(DEAD_LETTER_HEADERS.failedAt),
      service: header(DEAD_LETTER_HEADERS.service),
      value: (value?.toString('utf8') ?? '').slice(0, 300),
    };
    const entry = this.counts.get(code) ?? { count: 0, latest: [] };
    entry.count += 1;
    entry.latest.push(sample);
    if (entry.latest.length > this.options.samplesPerReason) entry.latest.shift();
    this.counts.set(code, entry);
    this.options.counter.inc({ code, source_topic: sample.sourceTopic || 'unknown' });
  }
}
