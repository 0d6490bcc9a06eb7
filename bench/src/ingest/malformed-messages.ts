import type { Transaction } from '@streamtrain/contracts';
import type { KeyedMessage } from '@streamtrain/simulator';

/** The ways a message of {@link withMalformed} is broken, each dead-lettered with its own code. */
export const MALFORMED_KINDS = ['truncated JSON', 'amount not a number', 'unknown schemaVersion'];

function malformed(tx: Transaction, kind: number): string {
  const json = JSON.stringify(tx);
  switch (kind % MALFORMED_KINDS.length) {
    case 0:
      return json.slice(0, Math.floor(json.length / 2));
    case 1:
      return JSON.stringify({ ...tx, amount: String(tx.amount) });
    default:
      return JSON.stringify({ ...tx, schemaVersion: 99 });
  }
}

/**
 * The transactions as the simulator publishes them, with one in every `every` replaced by a
 * malformed one (the kinds in turn), keyed like the rest: ingest lands the others and
 * dead-letters these, so its dead-letter producer works alongside the consumer as in production.
 * Counts what it yielded in `counts`.
 */
export function* withMalformed(
  transactions: Iterable<Transaction>,
  every: number,
  counts: { good: number; malformed: number },
): Generator<KeyedMessage> {
  let index = 0;
  for (const tx of transactions) {
    index += 1;
    if (every > 0 && index % every === 0) {
      counts.malformed += 1;
      yield { key: tx.customerId, value: malformed(tx, counts.malformed - 1) };
    } else {
      counts.good += 1;
      yield { key: tx.customerId, value: JSON.stringify(tx) };
    }
  }
}
