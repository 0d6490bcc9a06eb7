import { countAtOrBeforeEvent, countAtOrBeforeTime, lowerBound } from './event-order';
import type { FeatureInput } from './feature-input';
import type { FeatureTimeline } from './point-features';

/**
 * One customer's or one terminal's {@link FeatureTimeline}, kept sorted in event order as
 * transactions arrive in any order, with its fraud marks kept aligned. Plain arrays: a key holds
 * a few dozen entries over the longest look-back, and most arrivals append.
 */
export class KeyTimeline implements FeatureTimeline {
  readonly times: number[] = [];
  readonly ids: string[] = [];
  readonly amounts: number[] = [];
  readonly customers: string[] = [];
  readonly fraudIndex: number[] = [];
  readonly fraudKnownAtMs: number[] = [];

  /** Entries held. */
  get size(): number {
    return this.times.length;
  }

  /** The position of the entry `(timeMs, transactionId)`, or -1 when it is not held. */
  find(timeMs: number, transactionId: string): number {
    const at = countAtOrBeforeEvent(this, timeMs, transactionId) - 1;
    return at >= 0 && this.ids[at] === transactionId && this.times[at] === timeMs ? at : -1;
  }

  /** Inserts `tx` in event order, fraud-marked from `knownAtMs` when given; returns its position. */
  insert(tx: FeatureInput, knownAtMs: number | undefined): number {
    const at = countAtOrBeforeEvent(this, tx.eventTimeMs, tx.transactionId);
    if (at === this.times.length) {
      this.times.push(tx.eventTimeMs);
      this.ids.push(tx.transactionId);
      this.amounts.push(tx.amount);
      this.customers.push(tx.customerId);
    } else {
      this.times.splice(at, 0, tx.eventTimeMs);
      this.ids.splice(at, 0, tx.transactionId);
      this.amounts.splice(at, 0, tx.amount);
      this.customers.splice(at, 0, tx.customerId);
    }
    const k = lowerBound(this.fraudIndex, at);
    for (let j = k; j < this.fraudIndex.length; j += 1) {
      this.fraudIndex[j] = (this.fraudIndex[j] as number) + 1;
    }
    if (knownAtMs !== undefined) {
      this.fraudIndex.splice(k, 0, at);
      this.fraudKnownAtMs.splice(k, 0, knownAtMs);
    }
    return at;
  }

  /** Removes the entry at `at`. */
  removeAt(at: number): void {
    this.times.splice(at, 1);
    this.ids.splice(at, 1);
    this.amounts.splice(at, 1);
    this.customers.splice(at, 1);
    const k = lowerBound(this.fraudIndex, at);
    if (this.fraudIndex[k] === at) {
      this.fraudIndex.splice(k, 1);
      this.fraudKnownAtMs.splice(k, 1);
    }
    for (let j = k; j < this.fraudIndex.length; j += 1) {
      this.fraudIndex[j] = (this.fraudIndex[j] as number) - 1;
    }
  }

  /** Marks the entry at `at` as fraud known from `knownAtMs`, or unmarks it (undefined). */
  setKnownAt(at: number, knownAtMs: number | undefined): void {
    const k = lowerBound(this.fraudIndex, at);
    const marked = this.fraudIndex[k] === at;
    if (knownAtMs === undefined) {
      if (!marked) return;
      this.fraudIndex.splice(k, 1);
      this.fraudKnownAtMs.splice(k, 1);
    } else if (marked) {
      this.fraudKnownAtMs[k] = knownAtMs;
    } else {
      this.fraudIndex.splice(k, 0, at);
      this.fraudKnownAtMs.splice(k, 0, knownAtMs);
    }
  }

  /** Drops every entry with event time at or before `floorMs`; returns how many. */
  dropThrough(floorMs: number): number {
    const n = countAtOrBeforeTime(this, floorMs);
    if (n === 0) return 0;
    this.times.splice(0, n);
    this.ids.splice(0, n);
    this.amounts.splice(0, n);
    this.customers.splice(0, n);
    const k = lowerBound(this.fraudIndex, n);
    this.fraudIndex.splice(0, k);
    this.fraudKnownAtMs.splice(0, k);
    for (let j = 0; j < this.fraudIndex.length; j += 1) {
      this.fraudIndex[j] = (this.fraudIndex[j] as number) - n;
    }
    return n;
  }
}
