import type { Channel } from '@streamtrain/contracts';
import type { SimulatedEvent } from './events';

/** Counts of a stream of simulated events. */
export interface EventCounts {
  readonly events: number;
  readonly transactions: number;
  readonly labels: number;
  readonly frauds: number;
  /** Transactions per scenario, index = scenario (0 genuine). */
  readonly scenarios: readonly [number, number, number, number];
  /** Transactions per channel. */
  readonly channels: Readonly<Partial<Record<Channel, number>>>;
}

/** Counts events as they go by. */
export class EventTally {
  private counts = {
    events: 0,
    transactions: 0,
    labels: 0,
    frauds: 0,
    scenarios: [0, 0, 0, 0] as [number, number, number, number],
    channels: {} as Partial<Record<Channel, number>>,
  };
  private last: SimulatedEvent | undefined;

  /** Counts one event. */
  add(event: SimulatedEvent): void {
    const counts = this.counts;
    counts.events += 1;
    this.last = event;
    if (event.kind === 'label') {
      counts.labels += 1;
      return;
    }
    counts.transactions += 1;
    if (event.isFraud) counts.frauds += 1;
    counts.scenarios[event.scenario] += 1;
    counts.channels[event.tx.channel] = (counts.channels[event.tx.channel] ?? 0) + 1;
  }

  /** The latest event counted. */
  get lastEvent(): SimulatedEvent | undefined {
    return this.last;
  }

  /** A copy of the counts so far. */
  snapshot(): EventCounts {
    const counts = this.counts;
    return {
      ...counts,
      scenarios: [...counts.scenarios],
      channels: { ...counts.channels },
    };
  }
}

/** `1,234,567 transactions, 10,123 fraud (0.820 %): scenario 1 …`, for a person to read. */
export function formatCounts(counts: EventCounts): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const rate = counts.transactions === 0 ? 0 : (100 * counts.frauds) / counts.transactions;
  const [, amount, terminal, customer] = counts.scenarios;
  const channels = Object.entries(counts.channels)
    .map(([channel, count]) => `${channel} ${n(count)}`)
    .join(', ');
  return (
    `${n(counts.transactions)} transactions, ${n(counts.frauds)} fraud (${rate.toFixed(3)} %): ` +
    `scenario 1 (amount) ${n(amount)}, 2 (terminal) ${n(terminal)}, 3 (customer) ${n(customer)}; ` +
    `${n(counts.labels)} labels; channels: ${channels}`
  );
}
