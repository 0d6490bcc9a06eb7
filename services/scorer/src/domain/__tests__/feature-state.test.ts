import { computeFeatures } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { OnlineFeatureState } from '../feature-state';

const DAY_MS = 86_400_000;
const START_MS = Date.parse('2018-04-01T00:00:00Z');

function history(count: number): FeatureInput[] {
  return Array.from({ length: count }, (_, i) => ({
    transactionId: `t${i}`,
    customerId: `c${(i * 7) % 11}`,
    terminalId: `m${(i * 3) % 5}`,
    amount: 5 + ((i * 31) % 200),
    eventTimeMs: START_MS + Math.floor((i * 60 * DAY_MS) / count),
  }));
}

function fraudLabels(rows: readonly FeatureInput[]): KnownLabel[] {
  return rows
    .filter((_, i) => i % 9 === 0)
    .map((tx) => ({
      transactionId: tx.transactionId,
      isFraud: true,
      reportedAtMs: tx.eventTimeMs + 3 * DAY_MS,
    }));
}

describe('OnlineFeatureState', () => {
  it('when transactions and labels are added one by one, then each one’s features equal the batch computation over the whole history', () => {
    const rows = history(600);
    const labels = fraudLabels(rows);
    const state = new OnlineFeatureState();
    for (const label of labels) state.addLabel(label);
    const online = rows.map((tx) => {
      state.addTransaction(tx);
      return state.featuresOf([tx])[0]?.values;
    });
    const batch = computeFeatures(rows, rows, labels).map((vector) => vector.values);
    expect(online).toEqual(batch);
  });

  it('when old history is evicted past the retention horizon, then the features of transactions within the slack of the newest do not change', () => {
    const rows = history(600);
    const labels = fraudLabels(rows);
    const full = new OnlineFeatureState({ slackMs: 2 * DAY_MS });
    const evicted = new OnlineFeatureState({ slackMs: 2 * DAY_MS });
    for (const state of [full, evicted]) {
      for (const tx of rows) state.addTransaction(tx);
      for (const label of labels) state.addLabel(label);
    }
    const newest = rows[rows.length - 1] as FeatureInput;
    const dropped = evicted.evictBefore(evicted.retentionHorizon(newest.eventTimeMs));
    expect(dropped).toBeGreaterThan(0);
    expect(evicted.transactions).toBe(rows.length - dropped);
    const recent = rows.filter((tx) => tx.eventTimeMs >= newest.eventTimeMs - 2 * DAY_MS);
    expect(evicted.featuresOf(recent)).toEqual(full.featuresOf(recent));
  });

  it('when the state already holds later transactions (a backlog scored behind the feed), then earlier ones get the same features', () => {
    const rows = history(600);
    const labels = fraudLabels(rows);
    const state = new OnlineFeatureState();
    for (const tx of rows) state.addTransaction(tx);
    for (const label of labels) state.addLabel(label);
    const early = rows.slice(100, 140);
    expect(state.featuresOf(early)).toEqual(computeFeatures(early, rows, labels));
  });

  it('when a transaction is added twice, then it is held once', () => {
    const state = new OnlineFeatureState();
    const [tx] = history(1) as [FeatureInput];
    expect(state.addTransaction(tx)).toBe(true);
    expect(state.addTransaction({ ...tx })).toBe(false);
    expect(state.transactions).toBe(1);
    state.addLabel({ transactionId: tx.transactionId, isFraud: true, reportedAtMs: 1 });
    state.addLabel({ transactionId: tx.transactionId, isFraud: true, reportedAtMs: 1 });
    expect(state.labels).toBe(1);
  });

  it('keeps at least the features’ own look-back (37 days with the default windows)', () => {
    expect(new OnlineFeatureState().lookBackMs).toBeGreaterThanOrEqual(37 * DAY_MS);
  });
});
