import {
  ContinuousTrainer,
  InMemoryTrainerStore,
  fnv1a32,
  isHoldout,
  isStepDue,
  metricsGate,
  promoteEveryVersion,
  retrainOnWindow,
} from '../index';
import type { ContinuousTrainerPolicy, GateInput } from '../index';
import { FakeExamples, fakeModels } from './fakes';
import type { FakeExample, FakeModel } from './fakes';

const T0 = Date.parse('2018-04-01T00:00:00Z');
const HOUR = 3_600_000;

/** `count` examples of one set; every 10th a fraud, whose first feature is high. */
function examples(setId: string, from: number, count: number): FakeExample[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    const label = i % 10 === 0 ? 1 : 0;
    return {
      transactionId: `t${i}`,
      eventTimeMs: T0 + i * HOUR,
      label,
      features: [label + (i % 7) / 10, 0],
      exampleSetId: setId,
      sourceBatchId: `ingest-${Math.floor(i / 50)}`,
    };
  });
}

const alwaysPromote = promoteEveryVersion;

function policy(overrides: Partial<ContinuousTrainerPolicy> = {}): ContinuousTrainerPolicy {
  return {
    featureSetVersion: 1,
    backend: 'fake',
    fit: { epochs: 2, batchSize: 32, positiveWeight: 10, shuffleSeed: 42 },
    holdoutSize: 1000,
    minExamples: 100,
    gate: alwaysPromote,
    ...overrides,
  };
}

function setUp(overrides: Partial<ContinuousTrainerPolicy> = {}) {
  const data = new FakeExamples();
  const store = new InMemoryTrainerStore('fraud', data);
  const models = fakeModels();
  const trainer = new ContinuousTrainer(store, models, policy(overrides));
  const ready = async (setId: string, from: number, count: number, watermarkMs = T0) => {
    data.add(...examples(setId, from, count));
    return trainer.accept({ batchId: setId, exampleCount: count, watermarkMs });
  };
  return { data, store, models, trainer, ready };
}

describe('holdout membership', () => {
  it('is FNV-1a 32-bit of the transaction id, one in five', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    let held = 0;
    for (let i = 0; i < 20_000; i += 1) if (isHoldout(`t0-${i}`)) held += 1;
    expect(held / 20_000).toBeGreaterThan(0.18);
    expect(held / 20_000).toBeLessThan(0.22);
  });
});

describe('cadence', () => {
  it('is due once enough examples are pending, or when forced on something', () => {
    expect(isStepDue(99, 100)).toBe(false);
    expect(isStepDue(100, 100)).toBe(true);
    expect(isStepDue(1, 100, true)).toBe(true);
    expect(isStepDue(0, 100, true)).toBe(false);
  });
});

describe('ContinuousTrainer', () => {
  it('when a batch is accepted, then its holdout members are recorded and its training examples counted once', async () => {
    const { store, ready, trainer } = setUp();
    expect(await ready('b1', 0, 60)).toBe('pending');
    expect(await trainer.accept({ batchId: 'b1', exampleCount: 60, watermarkMs: T0 })).toBe(
      'duplicate',
    );
    const members = examples('b1', 0, 60).filter((e) => isHoldout(e.transactionId));
    expect(store.holdoutMembers().map((m) => m.transactionId)).toEqual(
      members.map((m) => m.transactionId),
    );
    expect(await store.pendingBatches()).toEqual([
      { batchId: 'b1', trainingExamples: 60 - members.length, watermarkMs: T0 },
    ]);
    expect(await trainer.accept({ batchId: 'b0', exampleCount: 0, watermarkMs: null })).toBe(
      'no-examples',
    );
  });

  it('when fewer than minExamples training examples are pending, then no step runs', async () => {
    const { ready, trainer, store } = setUp();
    await ready('b1', 0, 60);
    const outcome = await trainer.trainIfDue();
    expect(outcome.trained).toBe(false);
    expect(store.versions()).toHaveLength(0);
  });

  it('when a step is due, then it trains on the pending non-holdout examples and records the lineage', async () => {
    const { ready, trainer, store, models } = setUp();
    await ready('b1', 0, 80, T0 + 10 * HOUR);
    await ready('b2', 80, 80, T0 + 20 * HOUR);
    const outcome = await trainer.trainIfDue();
    expect(outcome).toMatchObject({ trained: true, version: 1, promoted: true, batches: 2 });
    const trained = models.created[0] as FakeModel;
    const expected = examples('b', 0, 160).filter((e) => !isHoldout(e.transactionId));
    expect(trained.history[0]?.labels).toEqual(expected.map((e) => e.label));
    expect(trained.history[0]?.options.epochs).toBe(2);
    const [version] = store.versions();
    expect(version?.lineage).toMatchObject({
      exampleSetIds: ['b1', 'b2'],
      sourceBatchIds: ['ingest-0', 'ingest-1', 'ingest-2', 'ingest-3'],
      labelCutoff: new Date(T0 + 20 * HOUR).toISOString(),
      parentVersionId: null,
    });
    expect(await store.pendingBatches()).toEqual([]);
    expect(store.announcements().map((event) => event.versionId)).toEqual([version?.versionId]);
    expect(trained.disposed).toBe(true);
  });

  it('when the gate refuses, then the version is registered as rejected, the next step warm-starts from it and nothing is announced', async () => {
    const gateCalls: GateInput[] = [];
    const { ready, trainer, store, models } = setUp({
      gate: (input) => {
        gateCalls.push(input);
        return input.champion === null
          ? { promote: true, reason: 'first' }
          : { promote: false, reason: 'kept' };
      },
    });
    await ready('b1', 0, 200);
    await trainer.trainIfDue();
    await ready('b2', 200, 200);
    const second = await trainer.trainIfDue();
    expect(second).toMatchObject({ trained: true, promoted: false, reason: 'kept' });
    await ready('b3', 400, 200);
    await trainer.trainIfDue();
    const versions = store.versions();
    expect(versions.map((v) => v.status)).toEqual(['champion', 'rejected', 'rejected']);
    expect(versions[2]?.parentVersionId).toBe(versions[1]?.versionId);
    expect(store.announcements()).toHaveLength(1);
    // The candidate and the champion were scored on the same holdout examples.
    const last = gateCalls[2] as GateInput;
    expect(last.championScores).toHaveLength(last.labels.length);
    expect(last.candidateScores).toHaveLength(last.labels.length);
    // The third candidate carries the history of both earlier steps.
    expect(Math.max(...models.created.map((model) => model.history.length))).toBe(3);
  });

  it('when told to warm-start from the champion, then a rejected latest is not built on', async () => {
    const { ready, trainer, store } = setUp({
      warmStartFrom: 'champion',
      gate: (input) => ({ promote: input.champion === null, reason: 'x' }),
    });
    await ready('b1', 0, 200);
    await trainer.trainIfDue();
    await ready('b2', 200, 200);
    await trainer.trainIfDue();
    await ready('b3', 400, 200);
    await trainer.trainIfDue();
    const versions = store.versions();
    expect(versions[2]?.parentVersionId).toBe(versions[0]?.versionId);
  });

  it('when a training-set composer is given, then the step trains on what it returns', async () => {
    const { ready, trainer, models } = setUp({
      composeTrainingSet: (fresh) => ({ ...fresh, labels: fresh.labels.map(() => 1) }),
    });
    await ready('b1', 0, 200);
    await trainer.trainIfDue();
    expect((models.created[0] as FakeModel).history[0]?.labels.every((l) => l === 1)).toBe(true);
  });

  it('when a metrics gate is used, then it sees both models measured on the holdout', async () => {
    const seen: unknown[] = [];
    const { ready, trainer } = setUp({
      gate: metricsGate((candidate, champion) => {
        seen.push({ candidate, champion });
        return { promote: true, reason: 'ok' };
      }),
    });
    await ready('b1', 0, 200);
    await trainer.trainIfDue();
    expect(seen[0]).toMatchObject({ candidate: { auc: 1, averagePrecision: 1 }, champion: null });
  });
});

describe('retrainOnWindow', () => {
  it('trains a fresh model on the window, registers it with the window as lineage, and the same window gives the same id', async () => {
    const data = new FakeExamples();
    data.add(...examples('b1', 0, 300));
    const store = new InMemoryTrainerStore('weekly', data);
    const models = fakeModels();
    const window = {
      fromMs: T0 + 100 * HOUR,
      toMs: T0 + 200 * HOUR,
      labelCutoffMs: T0 + 300 * HOUR,
    };
    const retrainPolicy = {
      featureSetVersion: 1,
      backend: 'fake',
      fit: { epochs: 5, batchSize: 32, positiveWeight: 10, shuffleSeed: 42 },
      holdoutSize: 100,
      gate: promoteEveryVersion,
    };
    const outcome = await retrainOnWindow(store, models, retrainPolicy, window);
    expect(outcome).toMatchObject({ promoted: true, version: 1 });
    const expected = examples('b1', 100, 100).filter((e) => !isHoldout(e.transactionId));
    expect((models.created[0] as FakeModel).history).toEqual([
      { rows: expected.length, labels: expected.map((e) => e.label), options: retrainPolicy.fit },
    ]);
    expect(store.versions()[0]?.lineage).toMatchObject({
      parentVersionId: null,
      window: {
        from: new Date(window.fromMs).toISOString(),
        to: new Date(window.toMs).toISOString(),
      },
    });
    const again = await retrainOnWindow(
      new InMemoryTrainerStore('weekly', data),
      models,
      retrainPolicy,
      window,
    );
    expect(again?.versionId).toBe(outcome?.versionId);
    expect(
      await retrainOnWindow(store, models, retrainPolicy, {
        ...window,
        fromMs: T0 - 10 * HOUR,
        toMs: T0,
      }),
    ).toBeNull();
  });
});
