import type { Transaction } from '@streamtrain/contracts';
import { createSimulation } from '@streamtrain/simulator';

// The handbook population (5,000 customers, 10,000 terminals) draws about 9,600 a day.
const TRANSACTIONS_PER_DAY_AT_LEAST = 9_000;

/**
 * The first `count` transactions of the handbook-sized simulation with `seed`: realistic
 * ~155-byte messages. The same seed and count give the same transactions, so the topic, the COPY
 * rows and the in-process profile all see the same data without holding it in memory.
 */
export function* simulatedTransactions(seed: number, count: number): Generator<Transaction> {
  const days = Math.min(3660, Math.ceil(count / TRANSACTIONS_PER_DAY_AT_LEAST) + 2);
  let produced = 0;
  if (count === 0) return;
  for (const event of createSimulation({ seed, days }).events()) {
    if (event.kind !== 'transaction') continue;
    yield event.tx;
    produced += 1;
    if (produced >= count) return;
  }
  throw new Error(`the simulation ended after ${produced} of ${count} transactions`);
}
