import { computeGroupLag, lagTrend } from '../group-lag';
import type { PartitionState } from '../group-lag';
import { OffsetLookupTable } from '../time-lag';

const partition = (overrides: Partial<PartitionState>): PartitionState => ({
  topic: 'tx.web',
  partition: 0,
  earliest: 0,
  latest: 100,
  committed: 100,
  member: null,
  ...overrides,
});

describe('computeGroupLag', () => {
  const table = new OffsetLookupTable();
  table.add({ offset: 0, timeMs: 0 });
  table.add({ offset: 1_000, timeMs: 100_000 });

  it('sums, maximises and totals per topic the lag of every partition, once per group', () => {
    const lag = computeGroupLag({
      group: 'g',
      state: 'Stable',
      members: 3,
      isSimpleConsumer: false,
      partitions: [
        partition({ partition: 0, latest: 100, committed: 90 }),
        partition({ partition: 1, latest: 100, committed: 40 }),
        partition({ topic: 'tx.labels', partition: 0, latest: 10, committed: 10 }),
      ],
      tables: () => table,
      nowMs: 100_000,
    });
    expect(lag.sumLag).toBe(70);
    expect(lag.maxLag).toBe(60);
    expect(lag.topicSumLag).toEqual({ 'tx.web': 70, 'tx.labels': 0 });
    expect(lag.partitions.map((p) => p.lag)).toEqual([10, 60, 0]);
    expect(lag.maxLagSeconds).toBeGreaterThan(0);
  });

  it('when a partition has no committed offset, then its lag counts from the earliest offset', () => {
    const lag = computeGroupLag({
      group: 'g',
      state: 'Empty',
      members: 0,
      isSimpleConsumer: false,
      partitions: [partition({ earliest: 20, latest: 100, committed: null })],
      tables: () => table,
      nowMs: 100_000,
    });
    expect(lag.sumLag).toBe(80);
  });

  it('when a group has no partitions, then its lag is zero and its time lag unknown', () => {
    const lag = computeGroupLag({
      group: 'g',
      state: 'Dead',
      members: 0,
      isSimpleConsumer: true,
      partitions: [],
      tables: () => table,
      nowMs: 0,
    });
    expect(lag).toMatchObject({ sumLag: 0, maxLag: 0, maxLagSeconds: null });
  });
});

describe('lagTrend', () => {
  it('is growing when the summed lag rose over the window', () => {
    const samples = [
      { timeMs: 0, sumLag: 10, maxLagSeconds: 1 },
      { timeMs: 30_000, sumLag: 50, maxLagSeconds: 4 },
    ];
    expect(lagTrend(samples, 30_000, 60_000)).toBe('growing');
  });

  it('is shrinking when it fell, and steady when it stayed or there is one sample', () => {
    expect(
      lagTrend(
        [
          { timeMs: 0, sumLag: 50, maxLagSeconds: 1 },
          { timeMs: 1_000, sumLag: 5, maxLagSeconds: 1 },
        ],
        1_000,
        60_000,
      ),
    ).toBe('shrinking');
    expect(lagTrend([{ timeMs: 0, sumLag: 5, maxLagSeconds: 1 }], 0, 60_000)).toBe('steady');
    expect(
      lagTrend(
        [
          { timeMs: 0, sumLag: 0, maxLagSeconds: 0 },
          { timeMs: 1_000, sumLag: 0, maxLagSeconds: 0 },
        ],
        1_000,
        60_000,
      ),
    ).toBe('steady');
  });

  it('ignores samples older than the window', () => {
    const samples = [
      { timeMs: 0, sumLag: 0, maxLagSeconds: 0 },
      { timeMs: 100_000, sumLag: 20, maxLagSeconds: 1 },
      { timeMs: 110_000, sumLag: 20, maxLagSeconds: 1 },
    ];
    expect(lagTrend(samples, 110_000, 60_000)).toBe('steady');
  });
});
