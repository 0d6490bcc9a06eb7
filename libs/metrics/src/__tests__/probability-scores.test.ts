import { brierScore, logLoss } from '@streamtrain/metrics';

describe('logLoss', () => {
  it('matches the value in sklearn log_loss documentation', () => {
    // sklearn: log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]])
    expect(logLoss([0.9, 0.1, 0.2, 0.65], [1, 0, 0, 1])).toBeCloseTo(0.21616187468057912, 12);
  });

  it('when a prediction is confidently wrong, then the loss is large but finite', () => {
    const loss = logLoss([0, 1], [1, 0]) as number;
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(-Math.log(1e-15), 2);
  });

  it('is null for empty input and refuses probabilities outside [0, 1]', () => {
    expect(logLoss([], [])).toBeNull();
    expect(() => logLoss([1.2], [1])).toThrow(/probability at index 0/);
  });
});

describe('brierScore', () => {
  it('matches the value in sklearn brier_score_loss documentation', () => {
    expect(brierScore([0.1, 0.9, 0.8, 0.3], [0, 1, 1, 0])).toBeCloseTo(0.0375, 12);
  });

  it('is null for empty input', () => {
    expect(brierScore([], [])).toBeNull();
  });
});
