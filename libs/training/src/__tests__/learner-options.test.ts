import { ContinuousTrainer, InMemoryTrainerStore, isHoldout, replayBufferComposer } from '../index';
import type { ContinuousTrainerPolicy, Example, ExampleBuffer, GateInput } from '../index';
import { FakeExamples, fakeModels } from './fakes';
import type { FakeExample, FakeModel } from './fakes';

const T0 = Date.parse('2018-04-01T00:00:00Z');
const HOUR = 3_600_000;

/** `count` examples of one set; every 10th a fraud, whose first feature is `i` (to tell rows apart). */
function examples(setId: string, from: number, count: number): FakeExample[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    const label = i % 10 === 0 ? 1 : 0;
    return {
      transactionId: `t${i}`,
      eventTimeMs: T0 + i * HOUR,
      label,
      features: [i, label],
      exampleSetId: setId,
      sourceBatchId: `ingest-${Math.floor(i / 50)}`,
    };
  });
}

/** Keeps every fraud and the first `genuine` genuine examples: deterministic, bounded. */
class KeepFirstBuffer implements ExampleBuffer {
  private readonly frauds: Example[] = [];
  private readonly others: Example[] = [];
  constructor(private readonly genuine: number) {}
  add(examples: readonly Example[], isFraud: (example: Example) => boolean): void {
    for (const example of examples) {
      if (isFraud(example)) this.frauds.push(example);
      else if (this.others.length < this.genuine) this.others.push(example);
    }
  }
  contents(): Example[] {
    return [...this.frauds, ...this.others];
  }
}

function policy(overrides: Partial<ContinuousTrainerPolicy> = {}): ContinuousTrainerPolicy {
  return {
    featureSetVersion: 1,
    backend: 'fake',
    fit: { epochs: 2, batchSize: 32, positiveWeight: 10, shuffleSeed: 42 },
    holdoutSize: 1000,
    minExamples: 100,
    gate: () => ({ promote: true, reason: 'ok' }),
    ...overrides,
  };
}

function setUp(overrides: Partial<ContinuousTrainerPolicy> = {}) {
  const data = new FakeExamples();
  const store = new InMemoryTrainerStore('fraud', data);
  const models = fakeModels();
  const trainer = new ContinuousTrainer(store, models, policy(overrides));
  const ready = async (
    target: ContinuousTrainer,
    setId: string,
    from: number,
    count: number,
    watermarkMs = T0 + (from + count) * HOUR,
  ) => {
    data.add(...examples(setId, from, count));
    return target.accept({ batchId: setId, exampleCount: count, watermarkMs });
  };
  return { data, store, models, trainer, ready };
}

/** The first feature of every row the most recently trained model was trained on. */
const lastTrained = (models: readonly FakeModel[]): number[] =>
  [...models].reverse().find((model) => model.lastRows.length > 0)?.lastRows ?? [];

describe('replay buffer composition', () => {
  it('when a step follows earlier ones, then it trains on its fresh examples and then on what the buffer kept, never on holdout examples', async () => {
    const { ready, trainer, models } = setUp({
      composeTrainingSet: replayBufferComposer(new KeepFirstBuffer(20)),
    });
    await ready(trainer, 'b1', 0, 200);
    await trainer.trainIfDue();
    await ready(trainer, 'b2', 200, 200);
    await trainer.trainIfDue();
    const fresh = examples('b2', 200, 200).filter((e) => !isHoldout(e.transactionId));
    const earlier = examples('b1', 0, 200).filter((e) => !isHoldout(e.transactionId));
    const kept = [
      ...earlier.filter((e) => e.label === 1),
      ...earlier.filter((e) => e.label === 0).slice(0, 20),
    ];
    expect(lastTrained(models.created)).toEqual([...fresh, ...kept].map((e) => e.features[0]));
    expect(lastTrained(models.created).some((i) => isHoldout(`t${i}`))).toBe(false);
  });

  it('when the trainer restarts with an empty buffer, then its next step trains on what an uninterrupted trainer would', async () => {
    const steps = async (restart: boolean): Promise<number[]> => {
      const composer = () => replayBufferComposer(new KeepFirstBuffer(30));
      const { ready, trainer, store, models } = setUp({ composeTrainingSet: composer() });
      await ready(trainer, 'b1', 0, 200);
      await trainer.trainIfDue();
      await ready(trainer, 'b2', 200, 200);
      await trainer.trainIfDue();
      const next = restart
        ? new ContinuousTrainer(store, models, policy({ composeTrainingSet: composer() }))
        : trainer;
      await ready(next, 'b3', 400, 200);
      await next.trainIfDue();
      return lastTrained(models.created);
    };
    const uninterrupted = await steps(false);
    expect(uninterrupted.length).toBeGreaterThan(160);
    expect(await steps(true)).toEqual(uninterrupted);
  });
});

describe('settled holdout', () => {
  it('when holdoutSettledMs is set, then the gate compares only on holdout members that much older than the watermark', async () => {
    const seen: GateInput[] = [];
    const { ready, trainer, data } = setUp({
      holdoutSettledMs: 50 * HOUR,
      gate: (input) => {
        seen.push(input);
        return { promote: true, reason: 'ok' };
      },
    });
    await ready(trainer, 'b1', 0, 300, T0 + 300 * HOUR);
    await trainer.trainIfDue();
    const settled = data.rows.filter(
      (row) => isHoldout(row.transactionId) && row.eventTimeMs < T0 + 250 * HOUR,
    );
    expect(settled.length).toBeGreaterThan(0);
    expect(seen[0]?.labels).toHaveLength(settled.length);
  });
});

describe('gate evidence', () => {
  it("when the gate reports its checks and evidence, then the version's lineage records them", async () => {
    const { ready, trainer, store } = setUp({
      gate: () => ({
        promote: true,
        reason: 'not shown worse',
        reasons: ['holdout 60 examples', 'not shown worse'],
        evidence: { examples: 60 },
      }),
    });
    await ready(trainer, 'b1', 0, 300);
    await trainer.trainIfDue();
    expect(store.versions()[0]?.lineage.gate).toEqual({
      reasons: ['holdout 60 examples', 'not shown worse'],
      evidence: { examples: 60 },
    });
  });
});

describe('weight averaging', () => {
  it('when weightAveraging is set, then a warm-started step averages its trained weights with the version it started from and records it in the lineage', async () => {
    const { ready, trainer, store, models } = setUp({
      weightAveraging: 0.25,
      warmStartFrom: 'champion',
    });
    await ready(trainer, 'b1', 0, 200);
    await trainer.trainIfDue();
    await ready(trainer, 'b2', 200, 200);
    await trainer.trainIfDue();
    const [first, second] = store.versions();
    // The first step starts from scratch: nothing to average with.
    expect(first?.lineage.weightAveraging).toBeUndefined();
    expect(second?.lineage.weightAveraging).toEqual({
      alpha: 0.25,
      withVersionId: first?.versionId,
    });
    const trained = models.created.find((model) => model.history.length === 2);
    // Averaged after training, with a fresh copy of the start version (one fit behind).
    expect(trained?.averagings).toEqual([{ alpha: 0.25, previousFits: 1 }]);
  });

  it("when a back-off is set, then each averaged step records the start version's loss on its new frauds and, after five steps, the reference it was judged against", async () => {
    const { ready, trainer, store } = setUp({
      weightAveraging: 0.5,
      warmStartFrom: 'champion',
      weightAveragingBackoff: { steps: 10, ratio: 1.5 },
    });
    for (let step = 0; step < 7; step += 1) {
      await ready(trainer, `b${step}`, step * 200, 200);
      await trainer.trainIfDue();
    }
    const recorded = store.versions().map((version) => version.lineage.weightAveraging);
    expect(recorded[0]).toBeUndefined();
    // Steps 2 to 6 build the reference; the seventh is judged against it.
    expect(recorded.slice(1, 6).every((a) => a?.referenceLoss === undefined)).toBe(true);
    expect(recorded[6]?.alpha).toBe(0.5);
    expect(typeof recorded[6]?.freshFraudLoss).toBe('number');
    expect(typeof recorded[6]?.referenceLoss).toBe('number');
  });

  it('when weightAveraging is 0 (the default), then no step averages', async () => {
    const { ready, trainer, store, models } = setUp();
    await ready(trainer, 'b1', 0, 200);
    await trainer.trainIfDue();
    await ready(trainer, 'b2', 200, 200);
    await trainer.trainIfDue();
    expect(store.versions().map((v) => v.lineage.weightAveraging)).toEqual([undefined, undefined]);
    expect(models.created.every((model) => model.averagings.length === 0)).toBe(true);
  });

  it('when weightAveraging is outside [0, 1), then the trainer refuses the policy', () => {
    const { store, models } = setUp();
    expect(() => new ContinuousTrainer(store, models, policy({ weightAveraging: 1 }))).toThrow(
      RangeError,
    );
    expect(() => new ContinuousTrainer(store, models, policy({ weightAveraging: -0.1 }))).toThrow(
      RangeError,
    );
  });
});
