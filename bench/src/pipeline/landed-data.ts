import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { createSimulation } from '@streamtrain/simulator';
import type { LabelRecord, TransactionRecord } from '@streamtrain/warehouse';

/** One arrival batch as ingest would have written it. */
export interface ArrivalBatchData {
  readonly batchId: string;
  readonly transactions: TransactionRecord[];
  readonly labels: LabelRecord[];
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** A simulated stream cut into arrival batches, with the same rows as feature inputs. */
export interface LandedData {
  readonly batches: readonly ArrivalBatchData[];
  /** Every transaction, in event-time order. */
  readonly inputs: readonly FeatureInput[];
  /** Every fraud label that arrived with the batches. */
  readonly labels: readonly KnownLabel[];
  readonly days: number;
}

/** The population of the pipeline and trainer benchmarks: ~3,900 transactions a simulated day. */
export const SMALL_POPULATION = Object.freeze({ customers: 2_000, terminals: 4_000 });
const TRANSACTIONS_PER_DAY_AT_LEAST = 3_500;

/**
 * The first `count` transactions of a simulation (and the labels reported among them), cut into
 * batches of `batchSize` transactions in arrival order, as ingest lands them.
 */
export function simulateArrivals(
  seed: number,
  count: number,
  batchSize: number,
  topic = 'bench.tx',
): LandedData {
  const days = Math.ceil(count / TRANSACTIONS_PER_DAY_AT_LEAST) + 2;
  const batches: ArrivalBatchData[] = [];
  const inputs: FeatureInput[] = [];
  const labels: KnownLabel[] = [];
  let transactions: TransactionRecord[] = [];
  let batchLabels: LabelRecord[] = [];
  let offset = 0;
  let firstOffset = 0;
  const flush = (): void => {
    const lastOffset = offset - 1;
    batches.push({
      batchId: `${topic}:0:${firstOffset}-${lastOffset}`,
      transactions,
      labels: batchLabels,
      firstOffset,
      lastOffset,
    });
    transactions = [];
    batchLabels = [];
    firstOffset = offset;
  };
  for (const event of createSimulation({ seed, days, ...SMALL_POPULATION }).events()) {
    const source = { sourceTopic: topic, sourcePartition: 0, sourceOffset: String(offset) };
    offset += 1;
    if (event.kind === 'label') {
      batchLabels.push({
        ...source,
        transactionId: event.label.transactionId,
        isFraud: event.label.isFraud,
        reportedAt: event.label.reportedAt,
      });
      labels.push({
        transactionId: event.label.transactionId,
        isFraud: event.label.isFraud,
        reportedAtMs: Date.parse(event.label.reportedAt),
      });
      continue;
    }
    const { tx } = event;
    transactions.push({
      ...source,
      transactionId: tx.transactionId,
      customerId: tx.customerId,
      terminalId: tx.terminalId,
      amount: tx.amount,
      eventTime: tx.eventTime,
      channel: tx.channel,
    });
    inputs.push({
      transactionId: tx.transactionId,
      customerId: tx.customerId,
      terminalId: tx.terminalId,
      amount: tx.amount,
      eventTimeMs: Date.parse(tx.eventTime),
    });
    if (transactions.length >= batchSize) flush();
    if (inputs.length >= count) break;
  }
  if (transactions.length > 0 || batchLabels.length > 0) flush();
  if (inputs.length < count) throw new Error(`the simulation gave ${inputs.length} of ${count}`);
  return { batches, inputs, labels, days };
}
