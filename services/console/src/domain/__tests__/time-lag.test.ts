import { OffsetLookupTable } from '../time-lag';

describe('OffsetLookupTable (kafka-lag-exporter time lag)', () => {
  it('when the consumer is at the latest offset, then its time lag is zero', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 100, timeMs: 1_000 });
    expect(table.lagSeconds(100, 5_000)).toBe(0);
  });

  it('when the table has one point and the consumer is behind it, then the lag is unknown', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 100, timeMs: 1_000 });
    expect(table.lagSeconds(50, 5_000)).toBeNull();
  });

  it('when the committed offset lies between two points, then its time is interpolated', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 0, timeMs: 0 });
    table.add({ offset: 100, timeMs: 10_000 });
    table.add({ offset: 300, timeMs: 20_000 });
    // offset 200 was produced at 15 s; at 25 s it is 10 s old
    expect(table.lagSeconds(200, 25_000)).toBeCloseTo(10);
  });

  it('when the committed offset is older than the table, then the table slope extrapolates it', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 1_000, timeMs: 10_000 });
    table.add({ offset: 2_000, timeMs: 20_000 });
    // 100 offsets per second: offset 500 was produced at 5 s
    expect(table.lagSeconds(500, 20_000)).toBeCloseTo(15);
  });

  it('when a stopped consumer stays at one offset, then its time lag grows with the wall clock', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 10, timeMs: 0 });
    table.add({ offset: 20, timeMs: 1_000 });
    const before = table.lagSeconds(15, 2_000);
    table.add({ offset: 30, timeMs: 3_000 });
    const after = table.lagSeconds(15, 4_000);
    expect(before).not.toBeNull();
    expect(after).toBeGreaterThan(before ?? Infinity);
  });

  it('when nothing is produced, then the first time of an offset is kept', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 0, timeMs: 0 });
    table.add({ offset: 100, timeMs: 1_000 });
    table.add({ offset: 100, timeMs: 9_000 });
    expect(table.size()).toBe(2);
    expect(table.lagSeconds(50, 10_000)).toBeCloseTo(9.5);
  });

  it('when the topic is recreated with lower offsets, then the table starts over', () => {
    const table = new OffsetLookupTable();
    table.add({ offset: 500, timeMs: 0 });
    table.add({ offset: 600, timeMs: 1_000 });
    table.add({ offset: 5, timeMs: 2_000 });
    expect(table.size()).toBe(1);
  });

  it('keeps at most its capacity, dropping the oldest points', () => {
    const table = new OffsetLookupTable(3);
    for (let i = 1; i <= 5; i += 1) table.add({ offset: i * 10, timeMs: i * 1_000 });
    expect(table.size()).toBe(3);
  });
});
