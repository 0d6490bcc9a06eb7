import { eventTimeMs } from './events';
import type { SimulatedEvent } from './events';
import { EventTally } from './event-tally';
import type { EventCounts } from './event-tally';

const MS_PER_DAY = 86_400_000;
/** Reading the clock for every event would cost more than the simulation step itself. */
const EVENTS_BETWEEN_CLOCK_READS = 1024;

/** Where a long run is, for a progress line. */
export interface ProgressSnapshot extends EventCounts {
  /** Wall-clock milliseconds since the run started. */
  readonly elapsedMs: number;
  /** Events per second since the previous snapshot. */
  readonly eventsPerSecond: number;
  /** Simulated day of the latest event, from 1 (past `days` while late labels drain). */
  readonly simDay: number;
  /** Number of simulated days. */
  readonly simDays: number;
}

/** Options of a {@link ProgressMeter}. */
export interface ProgressMeterOptions {
  /** Start of the first simulated day, epoch milliseconds. */
  readonly startMs: number;
  /** Number of simulated days. */
  readonly days: number;
  /** Wall-clock milliseconds between snapshots. @default 1000 */
  readonly intervalMs?: number;
  /** Monotonic wall clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

/** Counts events and, about once per interval of wall-clock time, offers a snapshot to print. */
export class ProgressMeter {
  private readonly tally = new EventTally();
  private readonly startMs: number;
  private readonly days: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastAt: number;
  private lastEvents = 0;
  private sinceClockRead = 0;

  /** Starts the wall clock. */
  constructor(options: ProgressMeterOptions) {
    this.startMs = options.startMs;
    this.days = options.days;
    this.intervalMs = options.intervalMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.lastAt = this.startedAt;
  }

  /** Counts `event`; returns a snapshot when an interval has passed since the last one. */
  record(event: SimulatedEvent): ProgressSnapshot | undefined {
    this.tally.add(event);
    this.sinceClockRead += 1;
    if (this.sinceClockRead < EVENTS_BETWEEN_CLOCK_READS) return undefined;
    return this.poll();
  }

  /**
   * Returns a snapshot if an interval has passed since the last one. For callers whose events
   * trickle (a paced stream), where counting alone would read the clock too rarely.
   */
  poll(): ProgressSnapshot | undefined {
    this.sinceClockRead = 0;
    return this.now() - this.lastAt >= this.intervalMs ? this.snapshot() : undefined;
  }

  /** A snapshot now; the rate covers the time since the previous snapshot. */
  snapshot(): ProgressSnapshot {
    const at = this.now();
    const counts = this.tally.snapshot();
    const seconds = (at - this.lastAt) / 1000;
    const eventsPerSecond = seconds > 0 ? (counts.events - this.lastEvents) / seconds : 0;
    this.lastAt = at;
    this.lastEvents = counts.events;
    const last = this.tally.lastEvent;
    const simDay =
      last === undefined ? 0 : Math.floor((eventTimeMs(last) - this.startMs) / MS_PER_DAY) + 1;
    return {
      ...counts,
      elapsedMs: at - this.startedAt,
      eventsPerSecond,
      simDay,
      simDays: this.days,
    };
  }
}

/** `day 37/183 · 352,114 events (348,000 tx, 2,114 labels) · 412,300 events/s · 0.9 s`. */
export function formatProgress(snapshot: ProgressSnapshot): string {
  const n = (value: number): string => Math.round(value).toLocaleString('en-US');
  return (
    `day ${snapshot.simDay}/${snapshot.simDays} · ${n(snapshot.events)} events ` +
    `(${n(snapshot.transactions)} tx, ${n(snapshot.labels)} labels) · ` +
    `${n(snapshot.eventsPerSecond)} events/s · ${(snapshot.elapsedMs / 1000).toFixed(1)} s`
  );
}
