import { gateOnHoldout, statisticalGate } from '@streamtrain/model';
import type { StatisticalGatePolicy } from '@streamtrain/model';

const policy: StatisticalGatePolicy = {
  minExamples: 200,
  minPositives: 20,
  confidence: 0.9,
  maxApDrop: 0,
  replicates: 200,
  seed: 1,
};

/** `n` holdout examples, one in `every` fraud, and a model of given skill scoring them. */
function holdout(n: number, every: number): number[] {
  return Array.from({ length: n }, (_, i) => (i % every === 0 ? 1 : 0));
}
function model(labels: readonly number[], skill: number, seed: number): number[] {
  // mulberry32: reproducible noise, independent of the labels' pattern.
  let state = seed >>> 0;
  const noise = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return labels.map((label) => noise() + skill * label);
}

describe('gateOnHoldout', () => {
  const labels = holdout(4000, 40); // 100 frauds

  it('when there is no champion and the candidate ranks clearly better than chance, then it is promoted', () => {
    const decision = gateOnHoldout(
      { labels, candidate: model(labels, 0.6, 1), champion: null },
      policy,
    );
    expect(decision).toMatchObject({ promote: true, reason: 'no champion to compare with' });
    expect(decision.evidence?.candidate.auc.low).toBeGreaterThan(0.5);
    expect(decision.reasons).toHaveLength(2);
  });

  it('when the candidate is not better than chance with confidence, then it is never promoted', () => {
    const random = model(labels, 0, 1);
    const first = gateOnHoldout({ labels, candidate: random, champion: null }, policy);
    const against = gateOnHoldout(
      { labels, candidate: random, champion: model(labels, -0.5, 2) },
      policy,
    );
    expect(first.promote).toBe(false);
    expect(first.reason).toMatch(/not better than chance at 90 %/);
    expect(against.promote).toBe(false);
  });

  it('when the candidate is within noise of the champion, then the fresher candidate is promoted', () => {
    const decision = gateOnHoldout(
      { labels, candidate: model(labels, 0.5, 1), champion: model(labels, 0.52, 2) },
      policy,
    );
    expect(decision.promote).toBe(true);
    expect(decision.reason).toMatch(/not shown worse/);
    expect(decision.evidence?.difference?.averagePrecision.low).toBeLessThan(0);
  });

  it('when the champion is better with confidence, then the champion stays', () => {
    const decision = gateOnHoldout(
      { labels, candidate: model(labels, 0.3, 1), champion: model(labels, 0.9, 2) },
      policy,
    );
    expect(decision.promote).toBe(false);
    expect(decision.reason).toMatch(/worse than the champion's at 90 %/);
  });

  it('when the champion ranks below chance on the holdout, then a sound candidate replaces it', () => {
    const decision = gateOnHoldout(
      { labels, candidate: model(labels, 0.3, 1), champion: model(labels, -0.6, 2) },
      policy,
    );
    expect(decision).toMatchObject({ promote: true });
    expect(decision.reason).toMatch(/champion ranks below chance/);
  });

  it('when the holdout has too few frauds or one class, then nothing is promoted and nothing measured', () => {
    const few = holdout(4000, 400); // 10 frauds
    const small = gateOnHoldout(
      { labels: few, candidate: model(few, 1, 1), champion: null },
      policy,
    );
    const genuineOnly = new Array<number>(500).fill(0);
    const oneClass = gateOnHoldout(
      { labels: genuineOnly, candidate: model(genuineOnly, 1, 1), champion: null },
      { ...policy, minPositives: 0 },
    );
    expect(small).toMatchObject({ promote: false, evidence: null });
    expect(small.reason).toMatch(/10 fraud, is below the 200\/20 minimum/);
    expect(oneClass).toMatchObject({ promote: false, evidence: null });
  });

  it('when asked twice, then the verdict and its evidence are the same', () => {
    const scores = { labels, candidate: model(labels, 0.4, 1), champion: model(labels, 0.45, 2) };
    expect(gateOnHoldout(scores, policy)).toEqual(gateOnHoldout(scores, policy));
  });

  it('refuses a policy out of range and scores that do not cover the holdout', () => {
    const scores = { labels, candidate: model(labels, 0.4, 1), champion: null };
    expect(() => gateOnHoldout(scores, { ...policy, confidence: 1 })).toThrow(/confidence/);
    expect(() => gateOnHoldout(scores, { ...policy, maxApDrop: -0.1 })).toThrow(/maxApDrop/);
    expect(() => gateOnHoldout({ ...scores, candidate: [0.1] }, policy)).toThrow(/same holdout/);
  });
});

describe('statisticalGate', () => {
  it("judges the trainer's gate input (both models' holdout scores) as gateOnHoldout does", () => {
    const labels = holdout(4000, 40);
    const candidateScores = Float32Array.from(model(labels, 0.6, 1));
    const championScores = Float32Array.from(model(labels, 0.2, 2));
    const verdict = statisticalGate(policy)({ labels, candidateScores, championScores });
    expect(verdict).toEqual(
      gateOnHoldout({ labels, candidate: candidateScores, champion: championScores }, policy),
    );
    expect(verdict.promote).toBe(true);
    expect(verdict.evidence?.difference).not.toBeNull();
  });
});
