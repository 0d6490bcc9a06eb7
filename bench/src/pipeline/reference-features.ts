import { computeFeatures, historyRange } from '@streamtrain/features';
import type { FeatureInput, FeatureVector, KnownLabel } from '@streamtrain/features';
import type { LandedData } from './landed-data';

/** Rows of one key (customer or terminal) in event-time order. */
type Index = Map<string, FeatureInput[]>;

function indexBy(rows: readonly FeatureInput[], key: (row: FeatureInput) => string): Index {
  const index: Index = new Map();
  for (const row of rows) {
    const list = index.get(key(row));
    if (list === undefined) index.set(key(row), [row]);
    else list.push(row);
  }
  return index;
}

/** First position in `rows` (time-sorted) with event time >= `ms`. */
function lowerBound(rows: readonly FeatureInput[], ms: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((rows[mid] as FeatureInput).eventTimeMs < ms) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The arguments the pipeline passes `computeFeatures` for one batch, prepared in memory. */
export interface FeatureCall {
  readonly targets: readonly FeatureInput[];
  readonly history: readonly FeatureInput[];
  readonly labels: readonly KnownLabel[];
}

/**
 * For each batch, what the pipeline's handler reads from the warehouse: the batch's
 * transactions, the history of its customers and terminals over `historyRange`, and the fraud
 * labels of that history reported by the range's end (every batch already landed, as in the
 * benchmark).
 */
export function prepareFeatureCalls(data: LandedData): FeatureCall[] {
  const byCustomer = indexBy(data.inputs, (row) => row.customerId);
  const byTerminal = indexBy(data.inputs, (row) => row.terminalId);
  const byId = new Map(data.inputs.map((row) => [row.transactionId, row]));
  const labelsById = new Map<string, KnownLabel[]>();
  for (const label of data.labels) {
    const list = labelsById.get(label.transactionId);
    if (list === undefined) labelsById.set(label.transactionId, [label]);
    else list.push(label);
  }
  return data.batches
    .filter((batch) => batch.transactions.length > 0)
    .map((batch) => {
      const targets = batch.transactions.map((tx) => byId.get(tx.transactionId) as FeatureInput);
      const range = historyRange(targets);
      const history = new Map<string, FeatureInput>();
      const collect = (rows: readonly FeatureInput[] | undefined): void => {
        if (rows === undefined) return;
        for (let i = lowerBound(rows, range.fromMs); i < rows.length; i += 1) {
          const row = rows[i] as FeatureInput;
          if (row.eventTimeMs > range.toMs) break;
          history.set(row.transactionId, row);
        }
      };
      for (const id of new Set(targets.map((tx) => tx.customerId))) collect(byCustomer.get(id));
      for (const id of new Set(targets.map((tx) => tx.terminalId))) collect(byTerminal.get(id));
      const labels: KnownLabel[] = [];
      for (const id of history.keys()) {
        for (const label of labelsById.get(id) ?? []) {
          if (label.reportedAtMs <= range.toMs) labels.push(label);
        }
      }
      return { targets, history: [...history.values()], labels };
    });
}

/** Times `computeFeatures` alone over the prepared calls. */
export function timeFeatureCalls(calls: readonly FeatureCall[]): {
  seconds: number;
  vectors: Map<string, FeatureVector>;
  historyRows: number;
} {
  const vectors = new Map<string, FeatureVector>();
  let seconds = 0;
  let historyRows = 0;
  for (const call of calls) {
    const started = performance.now();
    const result = computeFeatures(call.targets, call.history, call.labels);
    seconds += (performance.now() - started) / 1000;
    historyRows += call.history.length;
    for (const vector of result) vectors.set(vector.transactionId, vector);
  }
  return { seconds, vectors, historyRows };
}
