/** One example in this many is held out from training for the gate. */
export const HOLDOUT_MODULUS = 5;

/** 32-bit FNV-1a over the UTF-16 code units of `text`: stable across processes and platforms. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Whether the example of `transactionId` belongs to the gate's holdout rather than to training.
 * The one definition: the trainer decides membership when it accepts a batch and stores it, so the
 * warehouse and an in-memory replay pick the same members.
 */
export function isHoldout(transactionId: string): boolean {
  return fnv1a32(transactionId) % HOLDOUT_MODULUS === 0;
}
