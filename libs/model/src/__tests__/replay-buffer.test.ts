import { ReplayBuffer } from '@streamtrain/model';

interface Row {
  readonly id: number;
  readonly fraud: boolean;
}
const rows = (from: number, count: number, fraudEvery = 0): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    id: from + i,
    fraud: fraudEvery > 0 && (from + i) % fraudEvery === 0,
  }));
const isFraud = (row: Row): boolean => row.fraud;

describe('ReplayBuffer', () => {
  it('when fewer examples than the bounds arrive, then it keeps every one, frauds first', () => {
    const buffer = new ReplayBuffer<Row>({ maxPositives: 10, reservoirSize: 10, seed: 1 });
    buffer.add(rows(0, 6, 3), isFraud);
    expect(buffer.contents().map((r) => r.id)).toEqual([0, 3, 1, 2, 4, 5]);
    expect(buffer.stats()).toEqual({ positives: 2, genuine: 4, genuineSeen: 4 });
  });

  it('when more frauds arrive than it holds, then it keeps the most recent ones', () => {
    const buffer = new ReplayBuffer<Row>({ maxPositives: 3, reservoirSize: 0, seed: 1 });
    buffer.add(rows(0, 10, 1), isFraud);
    expect(buffer.contents().map((r) => r.id)).toEqual([7, 8, 9]);
  });

  it('when many genuine examples arrive, then the reservoir stays bounded and samples them all evenly', () => {
    const buffer = new ReplayBuffer<Row>({ maxPositives: 0, reservoirSize: 1000, seed: 7 });
    for (let batch = 0; batch < 20; batch += 1) buffer.add(rows(batch * 1000, 1000), isFraud);
    const kept = buffer.contents();
    expect(kept).toHaveLength(1000);
    expect(new Set(kept.map((r) => r.id)).size).toBe(1000);
    // Uniform over 20,000: each half of the stream holds about half the reservoir.
    const early = kept.filter((r) => r.id < 10_000).length;
    expect(early).toBeGreaterThan(430);
    expect(early).toBeLessThan(570);
  });

  it('when the same examples arrive in the same order with the same seed, then it keeps the same ones', () => {
    const fill = (seed: number): number[] => {
      const buffer = new ReplayBuffer<Row>({ maxPositives: 5, reservoirSize: 50, seed });
      for (let batch = 0; batch < 10; batch += 1) buffer.add(rows(batch * 100, 100, 17), isFraud);
      return buffer.contents().map((r) => r.id);
    };
    expect(fill(3)).toEqual(fill(3));
    expect(fill(3)).not.toEqual(fill(4));
  });

  it('refuses negative or fractional sizes', () => {
    expect(() => new ReplayBuffer({ maxPositives: -1, reservoirSize: 1, seed: 1 })).toThrow(
      /maxPositives/,
    );
    expect(() => new ReplayBuffer({ maxPositives: 1, reservoirSize: 1.5, seed: 1 })).toThrow(
      /reservoirSize/,
    );
  });
});
