import { advanceWatermark } from '../watermark';

const DAY = 86_400_000;

describe('advanceWatermark', () => {
  it('when a batch has later events, then the watermark moves to the latest one', () => {
    expect(advanceWatermark(10 * DAY, [11 * DAY, 12 * DAY], 7 * DAY)).toEqual({
      watermarkMs: 12 * DAY,
      matureBeforeMs: 5 * DAY,
    });
  });

  it('when a batch only has late (older) events, then the watermark does not move back', () => {
    expect(advanceWatermark(10 * DAY, [2 * DAY], 7 * DAY).watermarkMs).toBe(10 * DAY);
  });

  it('when nothing was ever seen, then there is no watermark and nothing is mature', () => {
    expect(advanceWatermark(null, [], 7 * DAY)).toEqual({
      watermarkMs: null,
      matureBeforeMs: null,
    });
  });
});
