import { AveragingSchedule, freshFraudLoss } from '../index';

describe('freshFraudLoss', () => {
  it('is the mean log-loss over the fraud rows only, and null without a fraud', () => {
    expect(freshFraudLoss([0.5, 0.9, 0.25], [1, 0, 1])).toBeCloseTo(
      (-Math.log(0.5) - Math.log(0.25)) / 2,
      10,
    );
    expect(freshFraudLoss([0.5, 0.9], [0, 0])).toBeNull();
    // A score of 0 is clipped, so the loss stays finite.
    expect(Number.isFinite(freshFraudLoss([0], [1]))).toBe(true);
  });
});

describe('AveragingSchedule', () => {
  it('without a back-off, then every step averages with the configured share', () => {
    const schedule = new AveragingSchedule(0.5);
    expect(schedule.needsScores).toBe(false);
    expect([1, 100, null].map((loss) => schedule.decide(loss).alpha)).toEqual([0.5, 0.5, 0.5]);
  });

  it('when a step misjudges the new frauds far beyond the recent median, then it does not average, and averaging resumes once the loss is back to usual', () => {
    const schedule = new AveragingSchedule(0.5, { steps: 10, ratio: 2 });
    expect(schedule.needsScores).toBe(true);
    // No reference before five steps: average.
    const warmUp = [1, 1.2, 0.8, 1, 1.1].map((loss) => schedule.decide(loss));
    expect(warmUp.map((d) => d.alpha)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(warmUp[4]?.referenceLoss).toBeNull();

    const changed = schedule.decide(3);
    expect(changed).toEqual({ alpha: 0, freshFraudLoss: 3, referenceLoss: 1 });
    expect(schedule.decide(2.5).alpha).toBe(0);
    expect(schedule.decide(1.3).alpha).toBe(0.5);
    // A step with no new fraud says nothing about drift: it averages and is not remembered.
    expect(schedule.decide(null)).toMatchObject({ alpha: 0.5, freshFraudLoss: null });
  });

  it('when the higher loss persists, then the reference follows it and averaging resumes', () => {
    const schedule = new AveragingSchedule(0.5, { steps: 6, ratio: 1.5 });
    for (let i = 0; i < 6; i += 1) schedule.decide(1);
    const after = Array.from({ length: 8 }, () => schedule.decide(2).alpha);
    expect(after.slice(0, 3)).toEqual([0, 0, 0]);
    expect(after.slice(-3)).toEqual([0.5, 0.5, 0.5]);
  });

  it('when consecutive steps are required, then one noisy step still averages and a run of high steps backs off until the loss is back to usual', () => {
    const schedule = new AveragingSchedule(0.5, { steps: 10, ratio: 2, consecutive: 2 });
    for (let i = 0; i < 6; i += 1) schedule.decide(1);
    // One spike, then usual again: averaging goes on.
    expect([3, 1].map((loss) => schedule.decide(loss).alpha)).toEqual([0.5, 0.5]);
    // A step without fraud neither breaks nor extends a run of high steps.
    expect([3, null, 3, 3, 1].map((loss) => schedule.decide(loss).alpha)).toEqual([
      0.5, 0.5, 0, 0, 0.5,
    ]);
  });

  it('refuses a share outside [0, 1) and a back-off without steps or ratio', () => {
    expect(() => new AveragingSchedule(1)).toThrow(RangeError);
    expect(() => new AveragingSchedule(0.5, { steps: 0, ratio: 2 })).toThrow(RangeError);
    expect(() => new AveragingSchedule(0.5, { steps: 5, ratio: 0 })).toThrow(RangeError);
    expect(() => new AveragingSchedule(0.5, { steps: 5, ratio: 2, consecutive: 0 })).toThrow(
      RangeError,
    );
  });
});
