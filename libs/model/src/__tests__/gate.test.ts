import { gateCandidate } from '@streamtrain/model';
import type { GateDecision, ModelMetrics } from '@streamtrain/model';

const policy = { minExamples: 1000, minPositives: 20, maxApDrop: 0.01 };
const metrics = (overrides: Partial<ModelMetrics> = {}): ModelMetrics => ({
  auc: 0.9,
  averagePrecision: 0.5,
  examples: 5000,
  positives: 40,
  ...overrides,
});

const expectDecision = (decision: GateDecision, promote: boolean, reason: RegExp): void => {
  expect(decision.promote).toBe(promote);
  expect(decision.reason).toMatch(reason);
};

describe('gateCandidate', () => {
  it('when there is no champion, then a candidate with a big enough holdout that beats chance is promoted', () => {
    const decision = gateCandidate(metrics({ averagePrecision: 0.01, auc: 0.55 }), null, policy);
    expect(decision.promote).toBe(true);
  });

  it('when there is no champion, then a candidate that ranks no better than chance is not promoted', () => {
    const decision = gateCandidate(metrics({ averagePrecision: 0.01, auc: 0.4 }), null, policy);
    expect(decision.promote).toBe(false);
    expect(decision.reason).toMatch(/no better than chance/);
  });

  it('when there is no champion yet but the holdout is too small, then nothing is promoted', () => {
    const decision = gateCandidate(metrics({ examples: 0, positives: 0, auc: null }), null, policy);
    expect(decision.promote).toBe(false);
    expect(decision.reason).toMatch(/no champion yet/);
  });

  it('when the holdout is too small or has too few positives, then the champion stays', () => {
    const champion = metrics({ averagePrecision: 0.1 });
    expectDecision(
      gateCandidate(metrics({ examples: 999 }), champion, policy),
      false,
      /999 examples/,
    );
    expectDecision(
      gateCandidate(metrics({ positives: 19 }), champion, policy),
      false,
      /19 positives/,
    );
  });

  it('promotes when AP is better, or worse by no more than the tolerance', () => {
    const champion = metrics({ averagePrecision: 0.5 });
    expect(gateCandidate(metrics({ averagePrecision: 0.6 }), champion, policy).promote).toBe(true);
    expect(gateCandidate(metrics({ averagePrecision: 0.49 }), champion, policy).promote).toBe(true);
    expectDecision(
      gateCandidate(metrics({ averagePrecision: 0.485 }), champion, policy),
      false,
      /candidate AP 0\.4850 vs champion 0\.5000/,
    );
  });

  it('when AP is missing on either side, then it compares AUC with the same tolerance', () => {
    const champion = metrics({ averagePrecision: null, auc: 0.9 });
    expectDecision(gateCandidate(metrics({ auc: 0.895 }), champion, policy), true, /AUC/);
    expect(gateCandidate(metrics({ auc: 0.85 }), champion, policy).promote).toBe(false);
  });

  it('when neither AP nor AUC is comparable, then the champion stays', () => {
    const champion = metrics({ averagePrecision: null, auc: null });
    expect(gateCandidate(metrics(), champion, policy)).toMatchObject({ promote: false });
  });

  it('refuses a negative or non-finite policy value', () => {
    expect(() => gateCandidate(metrics(), null, { ...policy, maxApDrop: -0.1 })).toThrow(
      RangeError,
    );
    expect(() => gateCandidate(metrics(), null, { ...policy, minExamples: Number.NaN })).toThrow(
      /minExamples/,
    );
  });
});
