import { computeFeatures, featureNames } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { createSimulation } from '@streamtrain/simulator';
import { SMALL_POPULATION } from '../pipeline/landed-data';

/** Training rows as the trainer reads them from `training_examples` joined with `features`. */
export interface TrainingData {
  /** Row-major, `rows × columns`. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly rows: number;
  readonly columns: number;
  readonly positives: number;
}

/**
 * Point-in-time features of the last `rows` transactions of a simulation (after `warmupDays` of
 * history, so the 30-day windows are full), labelled with the ground truth the pipeline matures.
 */
export function simulateTrainingData(seed: number, rows: number, warmupDays = 30): TrainingData {
  const simulation = createSimulation({
    seed,
    ...SMALL_POPULATION,
    days: warmupDays + Math.ceil(rows / 3_500) + 2,
  });
  const inputs: FeatureInput[] = [];
  const fraud = new Set<string>();
  const labels: KnownLabel[] = [];
  const warmupEndMs = simulation.startMs + warmupDays * 86_400_000;
  let targets = 0;
  for (const event of simulation.events()) {
    if (event.kind === 'label') {
      labels.push({
        transactionId: event.label.transactionId,
        isFraud: event.label.isFraud,
        reportedAtMs: Date.parse(event.label.reportedAt),
      });
      continue;
    }
    const { tx } = event;
    const eventTimeMs = Date.parse(tx.eventTime);
    inputs.push({
      transactionId: tx.transactionId,
      customerId: tx.customerId,
      terminalId: tx.terminalId,
      amount: tx.amount,
      eventTimeMs,
    });
    if (event.isFraud) fraud.add(tx.transactionId);
    if (eventTimeMs >= warmupEndMs) targets += 1;
    if (targets >= rows) break;
  }
  const vectors = computeFeatures(inputs.slice(inputs.length - rows), inputs, labels);
  const columns = featureNames().length;
  const x = new Float32Array(rows * columns);
  const y = new Float32Array(rows);
  let positives = 0;
  vectors.forEach((vector, row) => {
    x.set(vector.values, row * columns);
    const label = fraud.has(vector.transactionId) ? 1 : 0;
    y[row] = label;
    positives += label;
  });
  return { x, y, rows, columns, positives };
}
