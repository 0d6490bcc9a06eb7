import { advanceWatermark } from '../watermark';

const DAY = 86_400_000;

describe('advanceWatermark', () => {
  it('when a batch has later events, then the watermark moves to the latest one', () => {
    expect(advanceWatermark(10 * DAY, [11 * DAY, 12 * DAY], 7 * DAY)).toEqual({
      watermarkMs: 12 * DAY,
      matureBeforeMs: 5 * DAY,
      outliers: 0,
    });
  });

  it('when a batch only has late (older) events, then the watermark does not move back', () => {
    expect(advanceWatermark(10 * DAY, [2 * DAY], 7 * DAY).watermarkMs).toBe(10 * DAY);
  });

  it('when nothing was ever seen, then there is no watermark and nothing is mature', () => {
    expect(advanceWatermark(null, [], 7 * DAY)).toEqual({
      watermarkMs: null,
      matureBeforeMs: null,
      outliers: 0,
    });
  });
});

// Issue 13, item 6: one event stamped far ahead of the stream moved everyone's maturity.
describe('advanceWatermark with outliers', () => {
  const HOUR = 3_600_000;
  const YEAR = 365 * DAY;
  const stream = (fromMs: number, count: number, stepMs: number): number[] =>
    Array.from({ length: count }, (_, i) => fromMs + i * stepMs);

  it('when one transaction of a historical stream carries the wall-clock "now", then the watermark ignores it and counts it', () => {
    const historical = 48 * YEAR;
    const batch = [...stream(historical, 200, 60_000), historical + 8 * YEAR];
    const advance = advanceWatermark(historical, batch, 7 * DAY);
    expect(advance.watermarkMs).toBe(historical + 199 * 60_000);
    expect(advance.outliers).toBe(1);
  });

  it('when one client of a live stream is a day fast, then the label cutoff does not move a day for all', () => {
    const now = 56 * YEAR;
    const batch = [...stream(now, 500, 100), now + 60_000, now + DAY, now + DAY + 5];
    const advance = advanceWatermark(now - 1_000, batch, 7 * DAY);
    expect(advance.watermarkMs).toBe(now + 60_000);
    expect(advance.matureBeforeMs).toBe(now + 60_000 - 7 * DAY);
    expect(advance.outliers).toBe(2);
  });

  it('when the whole stream jumps ahead (a replay after a gap), then the watermark follows it', () => {
    const batch = stream(10 * DAY + 30 * DAY, 100, HOUR);
    const advance = advanceWatermark(10 * DAY, batch, 7 * DAY);
    expect(advance.watermarkMs).toBe(40 * DAY + 99 * HOUR);
    expect(advance.outliers).toBe(0);
  });

  it('when a batch spans days of a fast-forwarded simulation, then none of its events is an outlier', () => {
    const batch = stream(10 * DAY, 1_000, 5 * 60_000);
    expect(advanceWatermark(10 * DAY, batch, 7 * DAY).outliers).toBe(0);
  });

  it('when an event is only a little ahead (within the bound), then it moves the watermark', () => {
    const base = 20 * DAY;
    const batch = [...stream(base, 100, 1_000), base + 99_000 + 30 * 60_000];
    const advance = advanceWatermark(base, batch, 7 * DAY, { maxAheadMs: HOUR });
    expect(advance).toMatchObject({ watermarkMs: base + 99_000 + 30 * 60_000, outliers: 0 });
  });

  it('when outliers are ignored, then the watermark still never moves back', () => {
    const advance = advanceWatermark(30 * DAY, [...stream(2 * DAY, 50, 1_000), 90 * DAY], 7 * DAY);
    expect(advance).toMatchObject({ watermarkMs: 30 * DAY, outliers: 1 });
  });
});
