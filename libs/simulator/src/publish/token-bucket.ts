/**
 * A token bucket that paces a producer by wall-clock time. Callers reserve tokens and are told
 * how long to wait, so a reservation that overdraws the bucket still counts against the next one
 * and the long-run rate holds exactly.
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private tokens: number;
  private updatedAt: number;

  /**
   * @param ratePerSecond - Tokens added per second.
   * @param capacity - Most tokens the bucket holds: the largest burst after an idle spell.
   * @param nowMs - The clock at creation; the bucket starts full.
   */
  constructor(ratePerSecond: number, capacity: number, nowMs: number) {
    if (!(ratePerSecond > 0) || !(capacity > 0)) {
      throw new RangeError('TokenBucket needs a positive rate and capacity');
    }
    this.ratePerMs = ratePerSecond / 1000;
    this.capacity = capacity;
    this.tokens = capacity;
    this.updatedAt = nowMs;
  }

  /** Takes `count` tokens; returns the milliseconds to wait before using them (0: go now). */
  reserve(count: number, nowMs: number): number {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + Math.max(0, nowMs - this.updatedAt) * this.ratePerMs,
    );
    this.updatedAt = Math.max(this.updatedAt, nowMs);
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : -this.tokens / this.ratePerMs;
  }
}
