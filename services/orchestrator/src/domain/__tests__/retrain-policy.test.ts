import { isHoldout } from '@streamtrain/training';
import { RetrainParams, buildDatasets, retrainVersionId, retrainWindows } from '../retrain-policy';

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

describe('retrain windows', () => {
  it('when counted back from the newest event, then test ends at maturity and the delay separates train from test', () => {
    const windows = retrainWindows(T0 + 40 * DAY, RetrainParams.parse({}));
    expect(windows).toEqual({
      testToMs: T0 + 33 * DAY,
      testFromMs: T0 + 26 * DAY,
      trainToMs: T0 + 19 * DAY,
      trainFromMs: T0 + 12 * DAY,
      labelCutoffMs: T0 + 40 * DAY,
    });
  });

  it('when parameters are missing, then the handbook defaults and the trainer gate defaults apply', () => {
    expect(RetrainParams.parse({})).toMatchObject({
      warmStart: false,
      trainDays: 7,
      delayDays: 7,
      testDays: 7,
      epochs: 2,
      seed: 42,
      gate: { minExamples: 200, minPositives: 5, maxApDrop: 0.01 },
    });
    expect(() => RetrainParams.parse({ epochs: 0 })).toThrow();
  });
});

describe('retrain datasets', () => {
  const tx = (id: string, day: number, amount = 10) => ({
    transactionId: id,
    customerId: 'c1',
    terminalId: 'm1',
    amount,
    eventTimeMs: T0 + day * DAY,
    batchId: `b${Math.floor(day)}`,
  });
  const params = RetrainParams.parse({ trainDays: 5, delayDays: 1, testDays: 2, maturityDays: 3 });
  const windows = {
    trainFromMs: T0,
    trainToMs: T0 + 5 * DAY,
    testFromMs: T0 + 6 * DAY,
    testToMs: T0 + 8 * DAY,
    labelCutoffMs: T0 + 10 * DAY,
  };

  it('when a label is known by the cutoff, then it labels the example; an old unlabelled one is genuine; a young one is left out', () => {
    const history = [tx('f', 1), tx('b', 2, 500), tx('c', 6.5), tx('d', 7.5, 900)];
    const labels = [
      { transactionId: 'b', isFraud: true, reportedAtMs: T0 + 3 * DAY },
      // reported after the cutoff: unknown, and d is too young to be genuine
      { transactionId: 'd', isFraud: true, reportedAtMs: T0 + 11 * DAY },
    ];
    const sets = buildDatasets(history, labels, windows, params);
    expect(sets.train.transactionIds).toEqual(['f', 'b']);
    expect(sets.train.labels).toEqual([0, 1]);
    expect(sets.test.transactionIds).toEqual(['c']);
    expect(sets.test.labels).toEqual([0]);
    expect(sets.sourceBatchIds).toEqual(['b1', 'b2', 'b6']);
  });

  it("when a training transaction is in the trainer's holdout, then it is not trained on", () => {
    // isHoldout('a') (FNV-1a % 5 = 0): the continuous gate's example, kept out of sample.
    expect(isHoldout('a')).toBe(true);
    const sets = buildDatasets([tx('a', 1), tx('b', 2)], [], windows, params);
    expect(sets.train.transactionIds).toEqual(['b']);
  });

  it('when a run is resumed, then it registers the same version id', () => {
    expect(retrainVersionId('fraud', 'r1')).toBe(retrainVersionId('fraud', 'r1'));
    expect(retrainVersionId('fraud', 'r1')).not.toBe(retrainVersionId('fraud', 'r2'));
  });
});
