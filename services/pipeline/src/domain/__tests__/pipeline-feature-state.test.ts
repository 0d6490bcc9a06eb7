import { computeFeatures } from '@streamtrain/features';
import type { FeatureInput, KnownLabel } from '@streamtrain/features';
import { InMemoryPipelineStore } from '../../adapters/in-memory-pipeline-store';
import { PipelineFeatureState } from '../pipeline-feature-state';
import { runPipelinePass } from '../pipeline-pass';

const DAY = 86_400_000;
const T0 = Date.parse('2018-04-01T00:00:00Z');
const MATURITY = 7 * DAY;

function tx(i: number, atMs: number): FeatureInput {
  return {
    transactionId: `t${i}`,
    customerId: `c${i % 7}`,
    terminalId: `m${i % 5}`,
    amount: 10 + (i % 13),
    eventTimeMs: atMs,
  };
}

/** Day `day`'s batch: 40 transactions, and fraud labels for some of the day before's. */
function day(d: number): { batchId: string; transactions: FeatureInput[]; labels: KnownLabel[] } {
  const transactions = Array.from({ length: 40 }, (_, i) =>
    tx(d * 100 + i, T0 + d * DAY + i * 60_000),
  );
  const labels =
    d === 0
      ? []
      : [3, 17].map((i) => ({
          transactionId: `t${(d - 1) * 100 + i}`,
          isFraud: true,
          reportedAtMs: T0 + d * DAY,
        }));
  return { batchId: `b${d}`, transactions, labels };
}

/** Every stored vector against computeFeatures over everything landed (and its labels). */
function expectFeaturesOfRaw(
  store: InMemoryPipelineStore,
  all: FeatureInput[],
  labels: KnownLabel[],
  targets: FeatureInput[] = all,
): void {
  for (const vector of computeFeatures(targets, all, labels)) {
    expect(Array.from(store.featuresOf(vector.transactionId) ?? [])).toEqual(
      Array.from(Float32Array.from(vector.values)),
    );
  }
}

describe('the pipeline feature state', () => {
  it('when a restarted pipeline finds a checkpoint, then it loads it, applies the batches processed after it, and stores the same features as one that never stopped', async () => {
    const store = new InMemoryPipelineStore();
    const first = new PipelineFeatureState({ checkpointEveryMs: 0 });
    const all: FeatureInput[] = [];
    const labels: KnownLabel[] = [];
    const pass = async (d: number, state: PipelineFeatureState) => {
      const batch = day(d);
      store.land(batch.batchId, batch.transactions, batch.labels);
      all.push(...batch.transactions);
      labels.push(...batch.labels);
      return runPipelinePass(store, [batch.batchId], { maturityMs: MATURITY, featureState: state });
    };
    const opened = await pass(0, first);
    expect(opened.stateLoad?.source).toBe('rebuild');
    for (let d = 1; d < 4; d += 1) expect((await pass(d, first)).checkpoint).not.toBeNull();
    // Another instance processes a batch after the checkpoint (it writes none: not due).
    await pass(4, new PipelineFeatureState({ checkpointEveryMs: 3_600_000 }));

    const restarted = new PipelineFeatureState({ checkpointEveryMs: 0 });
    const resumed = await pass(5, restarted);
    expect(resumed.stateLoad).toMatchObject({ source: 'checkpoint', caughtUpBatches: 1 });
    // Its first checkpoint is whole: the stored one was another writer's.
    expect(resumed.checkpoint?.full).toBe(true);
    expect((await pass(6, restarted)).checkpoint?.full).toBe(false);
    expectFeaturesOfRaw(store, all, labels);
  });

  it('when two instances take turns, then each applies the batches the other processed, and the features equal computeFeatures over the warehouse', async () => {
    const store = new InMemoryPipelineStore();
    const instances = [new PipelineFeatureState(), new PipelineFeatureState()];
    const all: FeatureInput[] = [];
    const labels: KnownLabel[] = [];
    for (let d = 0; d < 8; d += 1) {
      const batch = day(d);
      store.land(batch.batchId, batch.transactions, batch.labels);
      all.push(...batch.transactions);
      labels.push(...batch.labels);
      await runPipelinePass(store, [batch.batchId], {
        maturityMs: MATURITY,
        featureState: instances[d % 2],
      });
    }
    expectFeaturesOfRaw(store, all, labels);
    const [a, b] = instances as [PipelineFeatureState, PipelineFeatureState];
    await a.prepare(store, []);
    expect(a.state.transactionCount).toBe(all.length);
    expect(b.state.transactionCount).toBe(all.length);
  });

  it('when a transaction arrives older than the state reaches back, then it is featurised from raw history, exactly', async () => {
    const store = new InMemoryPipelineStore();
    const state = new PipelineFeatureState({ slackMs: DAY });
    const all: FeatureInput[] = [];
    for (let d = 0; d < 45; d += 5) {
      const batch = day(d);
      store.land(batch.batchId, batch.transactions, []);
      all.push(...batch.transactions);
      await runPipelinePass(store, [batch.batchId], { maturityMs: MATURITY, featureState: state });
    }
    expect(state.state.floorMs).toBeGreaterThan(T0);
    expectFeaturesOfRaw(store, all, []);
    const late = tx(9_999, T0 + 3 * DAY + 7);
    store.land('late', [late], []);
    const outcome = await runPipelinePass(store, ['late'], {
      maturityMs: MATURITY,
      featureState: state,
    });
    expect(outcome.fromHistory).toBe(1);
    // The late one sees everything landed; those featurised before it came could not see it.
    expectFeaturesOfRaw(store, [...all, late], [], [late]);
  });

  it('when a pass is large, then loading, applying and computing give the event loop turns', async () => {
    const store = new InMemoryPipelineStore();
    const rows = Array.from({ length: 9_000 }, (_, i) => tx(i, T0 + i * 10_000));
    store.land('b1', rows, []);
    let turns = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    await runPipelinePass(store, ['b1'], {
      maturityMs: MATURITY,
      featureState: new PipelineFeatureState({ chunk: 1_000 }),
    });
    running = false;
    expect(turns).toBeGreaterThanOrEqual(9);
  });
});
