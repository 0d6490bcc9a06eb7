import { rollingAveragePrecision } from '../quality/rolling-ap';

const columns = (rows: [day: number, score: number, label: number][]) => ({
  days: rows.map(([day]) => day),
  scores: Float32Array.from(rows.map(([, score]) => score)),
  labels: Uint8Array.from(rows.map(([, , label]) => label)),
});

describe('rollingAveragePrecision', () => {
  it('when the window slides, then each point covers only its last windowDays days', () => {
    const data = columns([
      [0, 0.9, 1],
      [0, 0.1, 0],
      [1, 0.2, 1],
      [1, 0.8, 0],
      [2, 0.7, 1],
      [2, 0.3, 0],
    ]);
    const points = rollingAveragePrecision(data, 0, 2, 2);
    expect(points.map((p) => p.day)).toEqual([0, 1, 2]);
    // Day 0 alone: the fraud ranks first.
    expect(points[0]).toEqual({ day: 0, ap: 1, transactions: 2, frauds: 1 });
    // Days 0-1: ranking 0.9(1) 0.8(0) 0.2(1) 0.1(0) gives AP = (1/1 + 2/3) / 2.
    expect(points[1]?.ap).toBeCloseTo((1 + 2 / 3) / 2, 6);
    // Days 1-2: ranking 0.8(0) 0.7(1) 0.3(0) 0.2(1) gives AP = (1/2 + 2/4) / 2; day 0 is out.
    expect(points[2]?.ap).toBeCloseTo(0.5, 6);
    expect(points[2]?.transactions).toBe(4);
  });

  it('when a window holds no fraud, then its AP is null rather than a number', () => {
    const points = rollingAveragePrecision(columns([[3, 0.5, 0]]), 2, 3, 7);
    expect(points).toEqual([
      { day: 2, ap: null, transactions: 0, frauds: 0 },
      { day: 3, ap: null, transactions: 1, frauds: 0 },
    ]);
  });

  it('when the window is not a positive whole number of days, then it throws', () => {
    expect(() => rollingAveragePrecision(columns([]), 0, 1, 0)).toThrow(RangeError);
  });
});
