import { LiveQuality } from '../live-quality';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');

function quality(window = 100): LiveQuality {
  return new LiveQuality({ maturityMs: 7 * DAY_MS, window, versions: 2, maxPending: 1_000 });
}

const served = (i: number, version: number, score: number) => ({
  transactionId: `t${i}`,
  customerId: `c${i}`,
  eventTimeMs: T0 + i * 1_000,
  score,
  modelVersionId: `v${version}`,
  modelVersion: version,
});

describe('LiveQuality', () => {
  it('when labels arrive for served scores and the rest mature as genuine, then each version is measured on what it served', () => {
    const q = quality();
    for (let i = 0; i < 10; i += 1) q.recordServed(served(i, 1, i / 10));
    q.recordLabel({ transactionId: 't9', isFraud: true, reportedAtMs: T0 + DAY_MS });
    q.recordLabel({ transactionId: 't8', isFraud: false, reportedAtMs: T0 + DAY_MS });
    expect(q.report()[0]).toMatchObject({ examples: 2, positives: 1, averagePrecision: 1 });
    q.advance(T0 + 8 * DAY_MS);
    const [v1] = q.report();
    expect(v1).toMatchObject({
      modelVersion: 1,
      examples: 10,
      positives: 1,
      auc: 1,
      averagePrecision: 1,
    });
    expect(q.pendingCount).toBe(0);
  });

  it('when a label is seen before its score (a replayed backlog), then the score matures with it', () => {
    const q = quality();
    q.recordLabel({ transactionId: 't1', isFraud: true, reportedAtMs: T0 + DAY_MS });
    q.recordServed(served(1, 3, 0.9));
    expect(q.report()[0]).toMatchObject({ modelVersion: 3, examples: 1, positives: 1 });
  });

  it('keeps a rolling window per version and forgets the oldest versions', () => {
    const q = quality(5);
    for (let v = 1; v <= 3; v += 1) {
      for (let i = 0; i < 8; i += 1) q.recordServed(served(v * 100 + i, v, 0.5));
    }
    q.advance(T0 + 30 * DAY_MS);
    const report = q.report();
    expect(report.map((row) => row.modelVersion)).toEqual([3, 2]);
    expect(report.every((row) => row.examples === 5)).toBe(true);
    expect(report[0]?.averagePrecision).toBeNull();
  });

  it('when a backlog is scored after its labels were seen and the watermark has moved past their maturity, then the labels still count', () => {
    const q = quality();
    q.recordLabel({ transactionId: 't1', isFraud: true, reportedAtMs: T0 + DAY_MS });
    q.advance(T0 + 60 * DAY_MS);
    q.recordServed(served(1, 4, 0.9));
    q.recordServed(served(2, 4, 0.1));
    expect(q.report()[0]).toMatchObject({
      modelVersion: 4,
      examples: 2,
      positives: 1,
      averagePrecision: 1,
    });
  });

  it('when a fraud label arrives after its score matured as genuine, then the score is corrected to fraud (the pipeline rule)', () => {
    const q = quality();
    q.recordServed(served(1, 5, 0.9));
    q.recordServed(served(2, 5, 0.1));
    q.advance(T0 + 8 * DAY_MS);
    expect(q.report()[0]).toMatchObject({ examples: 2, positives: 0 });
    q.recordLabel({ transactionId: 't1', isFraud: true, reportedAtMs: T0 + 9 * DAY_MS });
    expect(q.report()[0]).toMatchObject({
      examples: 2,
      positives: 1,
      averagePrecision: 1,
    });
  });

  // Issue 13 item 7: a reversed chargeback re-labels what it concerns, as in the pipeline.
  it('when a later "not fraud" label reverses a score matured as fraud, then the score counts as genuine again (the pipeline rule)', () => {
    const q = quality();
    q.recordServed(served(1, 5, 0.9));
    q.recordServed(served(2, 5, 0.1));
    q.recordLabel({ transactionId: 't1', isFraud: true, reportedAtMs: T0 + DAY_MS });
    q.advance(T0 + 8 * DAY_MS);
    expect(q.report()[0]).toMatchObject({ examples: 2, positives: 1 });
    q.recordLabel({ transactionId: 't1', isFraud: false, reportedAtMs: T0 + 9 * DAY_MS });
    expect(q.report()[0]).toMatchObject({ examples: 2, positives: 0 });
  });
});
