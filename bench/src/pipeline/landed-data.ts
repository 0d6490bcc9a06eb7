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

/** An arrival batch, with its transactions and labels as the feature code reads them. */
export interface SimulatedArrival extends ArrivalBatchData {
  readonly inputs: readonly FeatureInput[];
  readonly knownLabels: readonly KnownLabel[];
}

/**
 * A simulation's events cut into arrival batches of `batchSize` transactions in arrival order,
 * as ingest lands them (with the labels reported among them), one batch at a time.
 */
export function* arrivalBatches(
  simulation: Parameters<typeof createSimulation>[0],
  batchSize: number,
  topic = 'bench.tx',
): Generator<SimulatedArrival> {
  let transactions: TransactionRecord[] = [];
  let batchLabels: LabelRecord[] = [];
  let inputs: FeatureInput[] = [];
  let knownLabels: KnownLabel[] = [];
  let offset = 0;
  let firstOffset = 0;
  const cut = (): SimulatedArrival => {
    const batch = {
      batchId: `${topic}:0:${firstOffset}-${offset - 1}`,
      transactions,
      labels: batchLabels,
      firstOffset,
      lastOffset: offset - 1,
      inputs,
      knownLabels,
    };
    transactions = [];
    batchLabels = [];
    inputs = [];
    knownLabels = [];
    firstOffset = offset;
    return batch;
  };
  for (const event of createSimulation(simulation).events()) {
    const source = { sourceTopic: topic, sourcePartition: 0, sourceOffset: String(offset) };
    offset += 1;
    if (event.kind === 'label') {
      batchLabels.push({
        ...source,
        transactionId: event.label.transactionId,
        isFraud: event.label.isFraud,
        reportedAt: event.label.reportedAt,
      });
      knownLabels.push({
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
    if (transactions.length >= batchSize) yield cut();
  }
  if (transactions.length > 0 || batchLabels.length > 0) yield cut();
}

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
  for (const batch of arrivalBatches({ seed, days, ...SMALL_POPULATION }, batchSize, topic)) {
    const room = count - inputs.length;
    if (room <= 0) break;
    const kept = batch.inputs.length <= room ? batch : trimmed(batch, room);
    batches.push({
      batchId: kept.batchId,
      transactions: kept.transactions,
      labels: kept.labels,
      firstOffset: kept.firstOffset,
      lastOffset: kept.lastOffset,
    });
    inputs.push(...kept.inputs);
    labels.push(...kept.knownLabels);
  }
  if (inputs.length < count) throw new Error(`the simulation gave ${inputs.length} of ${count}`);
  return { batches, inputs, labels, days };
}

/** The batch cut after its first `room` transactions (the labels before them kept). */
function trimmed(batch: SimulatedArrival, room: number): SimulatedArrival {
  const lastOffset = Number(batch.transactions[room - 1]?.sourceOffset);
  const labels = batch.labels.filter((label) => Number(label.sourceOffset) < lastOffset);
  const known = new Set(labels.map((label) => label.transactionId));
  return {
    ...batch,
    batchId: `${batch.batchId.slice(0, batch.batchId.lastIndexOf(':') + 1)}${batch.firstOffset}-${lastOffset}`,
    transactions: batch.transactions.slice(0, room),
    labels,
    lastOffset,
    inputs: batch.inputs.slice(0, room),
    knownLabels: batch.knownLabels.filter((label) => known.has(label.transactionId)),
  };
}
