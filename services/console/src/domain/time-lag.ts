/** One observation of a partition's latest offset and when it was seen. */
export interface OffsetPoint {
  offset: number;
  timeMs: number;
}

/**
 * kafka-lag-exporter's way to turn an offset lag into a time lag (its README, "Estimate
 * Consumer Group Time Lag"): every poll records the partition's latest offset with the time it
 * was seen; a committed offset's time is then interpolated between the two points around it
 * (extrapolated from the table's slope when it is older than the table), and the time lag is now
 * minus that time. The table keeps the first time an offset was seen, so an idle partition does
 * not make a stopped consumer look younger.
 */
export class OffsetLookupTable {
  private readonly points: OffsetPoint[] = [];

  /** @param capacity points kept per partition (oldest dropped first). @default 60 */
  constructor(private readonly capacity = 60) {}

  /** Records the latest offset seen at `timeMs`. */
  add(point: OffsetPoint): void {
    const last = this.points[this.points.length - 1];
    if (last !== undefined && point.offset <= last.offset) {
      // The same offset again (nothing produced), or a topic recreated with lower offsets.
      if (point.offset < last.offset) this.points.length = 0;
      else return;
    }
    this.points.push(point);
    if (this.points.length > this.capacity) this.points.shift();
  }

  /** Points held, oldest first. */
  size(): number {
    return this.points.length;
  }

  /**
   * The estimated time lag of a consumer at `committed`, in seconds, or `null` when the table
   * cannot tell yet (fewer than two points and the consumer behind the only one).
   */
  lagSeconds(committed: number, nowMs: number): number | null {
    const newest = this.points[this.points.length - 1];
    if (newest === undefined) return null;
    if (committed >= newest.offset) return 0;
    const oldest = this.points[0];
    if (oldest === undefined || this.points.length < 2) return null;
    let producedAtMs: number;
    if (committed <= oldest.offset) {
      producedAtMs = interpolate(oldest, newest, committed);
    } else {
      let index = this.points.findIndex((point) => point.offset >= committed);
      if (index < 1) index = 1;
      const before = this.points[index - 1] ?? oldest;
      const after = this.points[index] ?? newest;
      producedAtMs = interpolate(before, after, committed);
    }
    return Math.max(0, (nowMs - producedAtMs) / 1000);
  }
}

function interpolate(a: OffsetPoint, b: OffsetPoint, offset: number): number {
  if (b.offset === a.offset) return a.timeMs;
  return a.timeMs + ((offset - a.offset) * (b.timeMs - a.timeMs)) / (b.offset - a.offset);
}
