import { historyRange } from '../index';
import { DAY_MS, tx } from './feature-fixtures';

describe('historyRange', () => {
  const early = tx('early', Date.parse('2024-02-01T00:00:00Z'));
  const late = tx('late', Date.parse('2024-02-03T12:00:00Z'));

  it('then it reaches the longest look-back before the earliest target, up to the latest', () => {
    // Terminal windows reach back 30 + 7 days, further than the 30-day customer window.
    expect(historyRange([late, early])).toEqual({
      fromMs: early.eventTimeMs - 37 * DAY_MS,
      toMs: late.eventTimeMs,
    });
  });

  it('when a customer window is the longest look-back, then it sets the start', () => {
    const options = { customerWindowsDays: [90], terminalWindowsDays: [1], terminalDelayDays: 2 };
    expect(historyRange([early], options)).toEqual({
      fromMs: early.eventTimeMs - 90 * DAY_MS,
      toMs: early.eventTimeMs,
    });
  });

  it("when there are no windows, then only the targets' own span is needed", () => {
    const options = { customerWindowsDays: [], terminalWindowsDays: [], labelProfileDays: 0 };
    expect(historyRange([early, late], options)).toEqual({
      fromMs: early.eventTimeMs,
      toMs: late.eventTimeMs,
    });
  });

  it('when there are no targets, then the range is empty', () => {
    const { fromMs, toMs } = historyRange([]);
    expect(fromMs).toBeGreaterThan(toMs);
  });

  it('when options are invalid, then it throws', () => {
    expect(() => historyRange([early], { terminalDelayDays: -1 })).toThrow(RangeError);
  });
});
