import { ContinuousTrainer, InMemoryTrainerStore, promoteEveryVersion } from '../index';
import type { PromotionPin } from '../index';
import { FakeExamples, fakeModels } from './fakes';
import type { FakeExample } from './fakes';

const T0 = Date.parse('2018-04-01T00:00:00Z');
const HOUR = 3_600_000;
const PIN: PromotionPin = {
  modelName: 'fraud',
  actor: 'alice',
  reason: 'incident 42',
  pinnedAt: new Date(T0).toISOString(),
};

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

/** A store whose pin is set by an operator between the step's read of it and its commit. */
class PinnedDuringStep extends InMemoryTrainerStore {
  override async readPromotionPin(): Promise<PromotionPin | null> {
    const seen = await super.readPromotionPin();
    this.setPromotionPin(PIN);
    return seen;
  }
}

function setUp(store: InMemoryTrainerStore, data: FakeExamples) {
  const trainer = new ContinuousTrainer(store, fakeModels(), {
    featureSetVersion: 1,
    backend: 'fake',
    fit: { epochs: 1, batchSize: 32, positiveWeight: 10, shuffleSeed: 42 },
    holdoutSize: 1000,
    minExamples: 100,
    gate: promoteEveryVersion,
  });
  const ready = async (setId: string, from: number, count: number) => {
    data.add(...examples(setId, from, count));
    return trainer.accept({ batchId: setId, exampleCount: count, watermarkMs: T0 });
  };
  return { trainer, ready };
}

describe('a promotion pin', () => {
  it('when the model is pinned, then a step the gate would promote is registered as rejected, says why and announces nothing', async () => {
    const data = new FakeExamples();
    const store = new InMemoryTrainerStore('fraud', data);
    const { trainer, ready } = setUp(store, data);
    await ready('b1', 0, 200);
    await trainer.trainIfDue();
    store.setPromotionPin(PIN);
    await ready('b2', 200, 200);
    const pinned = await trainer.trainIfDue();
    expect(pinned).toMatchObject({ trained: true, promoted: false });
    expect(pinned.trained && pinned.reason).toContain("alice's pin (incident 42)");
    expect(store.versions().map((v) => v.status)).toEqual(['champion', 'rejected']);
    expect(store.announcements()).toHaveLength(1);
  });

  it('when the pin is set after the step read it, then the registry has the last word: no announcement, not promoted', async () => {
    const data = new FakeExamples();
    const store = new PinnedDuringStep('fraud', data);
    const { trainer, ready } = setUp(store, data);
    await ready('b1', 0, 200);
    const outcome = await trainer.trainIfDue();
    expect(outcome).toMatchObject({ trained: true, promoted: false });
    expect(store.versions().map((v) => v.status)).toEqual(['rejected']);
    expect(store.announcements()).toEqual([]);
    expect(await store.readAlias('champion')).toBeNull();
  });
});
