import type { FeatureVector } from './compute-features';
import type { FeatureInput } from './feature-input';
import { resolveFeatureOptions } from './feature-options';
import type { FeatureOptions } from './feature-options';
import { assembleFeatures, featureLayout } from './point-features';

/**
 * Which cards and terminals an instance owns. A transaction's card part needs only its card's
 * timeline and its terminal part only its terminal's, so instances that own disjoint shares
 * compute their parts without sharing state, and the parts meet in {@link assembleVectors}.
 */
export interface KeyShare {
  ownsCard(customerId: string): boolean;
  ownsTerminal(terminalId: string): boolean;
}

/** 32-bit FNV-1a over UTF-16 code units: the same share in every service and runtime. */
function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Share `index` of `count` by hash of the key: cards and terminals hashed apart, so a card's
 * owner and its terminal's are independent.
 *
 * @throws RangeError unless `0 <= index < count`, both whole.
 */
export function hashShare(index: number, count: number): KeyShare {
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(index) ||
    index < 0 ||
    index >= count
  ) {
    throw new RangeError(`share ${index} of ${count} does not exist`);
  }
  return {
    ownsCard: (customerId) => fnv1a(`card:${customerId}`) % count === index,
    ownsTerminal: (terminalId) => fnv1a(`terminal:${terminalId}`) % count === index,
  };
}

/** The parts of one transaction's vector computed by the instance that owns the key. */
export interface TransactionParts {
  readonly transactionId: string;
  /** From its card's timeline, by the card's owner. */
  readonly card?: readonly number[];
  /** From its terminal's timeline, by the terminal's owner. */
  readonly terminal?: readonly number[];
}

/**
 * The vectors of `targets` from their parts, wherever they were computed (in any order, several
 * lists at once): the same values, bit for bit, as one instance owning every key.
 *
 * @throws RangeError when a target's card or terminal part is missing.
 */
export function assembleVectors(
  targets: readonly FeatureInput[],
  parts: readonly TransactionParts[],
  options?: Partial<FeatureOptions>,
): FeatureVector[] {
  const layout = featureLayout(resolveFeatureOptions(options));
  const cards = new Map<string, readonly number[]>();
  const terminals = new Map<string, readonly number[]>();
  for (const part of parts) {
    if (part.card !== undefined) cards.set(part.transactionId, part.card);
    if (part.terminal !== undefined) terminals.set(part.transactionId, part.terminal);
  }
  return targets.map((tx) => {
    const card = cards.get(tx.transactionId);
    const terminal = terminals.get(tx.transactionId);
    if (card === undefined || terminal === undefined) {
      throw new RangeError(
        `transaction ${tx.transactionId}: its ${card === undefined ? 'card' : 'terminal'} part is missing`,
      );
    }
    return {
      transactionId: tx.transactionId,
      eventTimeMs: tx.eventTimeMs,
      values: assembleFeatures(tx, card, terminal, layout),
    };
  });
}
